//! Outgoing e-mail: `--smtp-url` read into a pooled SMTP transport, and one message with a
//! document attached sent through it. The URL's password lives only in the transport: every
//! message this module writes shows the URL without it.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP command may take, and a whole send.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// What `serve` was started with.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://[user:password@]host[:port][?tls=required|opportunistic|none]` or `smtps://…`.
    pub url: String,
    /// The sender: `ar@example.com` or `Acme Receivables <ar@example.com>`.
    pub from: String,
    /// A PEM certificate to trust for the server's TLS (a private CA or a self-signed relay),
    /// besides the usual public roots.
    pub ca_file: Option<PathBuf>,
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtps://`: TLS from the first byte (port 465).
    Implicit,
    /// STARTTLS, and no mail without it (port 587).
    StartTlsRequired,
    /// STARTTLS when the server offers it (port 25): a relay on the same network.
    StartTlsOpportunistic,
    /// Plain text, for a relay on the same host; never with a password.
    None,
}

impl Security {
    fn words(self) -> &'static str {
        match self {
            Security::Implicit => "TLS",
            Security::StartTlsRequired => "STARTTLS required",
            Security::StartTlsOpportunistic => "STARTTLS when offered",
            Security::None => "no TLS",
        }
    }
}

/// The server's address and how to reach it, read from the URL.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<(String, String)>,
}

/// Reads `url`; a message that says what is wrong never repeats the password.
fn endpoint(url: &str) -> Result<Endpoint, String> {
    let parsed = url::Url::parse(url).map_err(|err| {
        format!("--smtp-url is not a URL ({err}): write smtp://user:password@host:port")
    })?;
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or("--smtp-url names no host: write smtp://user:password@host:port")?
        .to_string();
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| "--smtp-url: the user name and password must be UTF-8".to_string())
    };
    let credentials = match (parsed.username(), parsed.password()) {
        ("", None) => None,
        (user, Some(password)) => Some((decode(user)?, decode(password)?)),
        (_, None) => {
            return Err("--smtp-url gives a user but no password: write user:password@".into())
        }
    };
    let mut tls = None;
    for (name, value) in parsed.query_pairs() {
        match name.as_ref() {
            "tls" if tls.is_none() => tls = Some(value.into_owned()),
            other => {
                return Err(format!(
                "--smtp-url: unknown parameter '{other}' (only tls=required|opportunistic|none)"
            ))
            }
        }
    }
    if parsed.fragment().is_some() {
        return Err(
            "--smtp-url: a '#' ends the URL there; write it as %23 in a user name or password"
                .into(),
        );
    }
    if !matches!(parsed.path(), "" | "/") {
        return Err("--smtp-url takes no path: write smtp://user:password@host:port".into());
    }
    let security = security_of(parsed.scheme(), tls.as_deref(), credentials.is_some())?;
    let port = parsed.port().unwrap_or(match security {
        Security::Implicit => 465,
        Security::StartTlsRequired => 587,
        Security::StartTlsOpportunistic | Security::None => 25,
    });
    Ok(Endpoint {
        host,
        port,
        security,
        credentials,
    })
}

/// How the URL's scheme and `tls` secure the connection; a password never goes unencrypted.
fn security_of(scheme: &str, tls: Option<&str>, password: bool) -> Result<Security, String> {
    let security = match (scheme, tls) {
        ("smtps", None) => Security::Implicit,
        ("smtp", Some("required")) => Security::StartTlsRequired,
        ("smtp", Some("opportunistic")) => Security::StartTlsOpportunistic,
        ("smtp", Some("none")) => Security::None,
        ("smtp", None) if password => Security::StartTlsRequired,
        ("smtp", None) => Security::StartTlsOpportunistic,
        ("smtps", Some(_)) => {
            return Err("--smtp-url: smtps:// is always TLS; leave out ?tls=".into())
        }
        ("smtp", Some(other)) => {
            return Err(format!(
                "--smtp-url: tls={other} is not one of required, opportunistic, none"
            ))
        }
        (other, _) => {
            return Err(format!(
                "--smtp-url: the scheme '{other}' is not smtp or smtps"
            ))
        }
    };
    let encrypted = matches!(security, Security::Implicit | Security::StartTlsRequired);
    if password && !encrypted {
        return Err(
            "--smtp-url: a password is only sent over TLS: use tls=required or smtps://".into(),
        );
    }
    Ok(security)
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Where replies go: the organization's contact address, when it has one.
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    /// The file name and the PDF.
    pub attachment: (String, Vec<u8>),
}

/// The mail server, ready to send.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL without its password, for the log.
    shown: String,
}

impl Mailer {
    /// The transport `settings` describe; nothing is sent or connected yet. Called inside
    /// the Tokio runtime, which keeps the pool of connections.
    pub fn new(settings: &MailSettings) -> Result<Mailer, String> {
        let server = endpoint(&settings.url)?;
        let from = Mailbox::from_str(&settings.from).map_err(|_| {
            format!("--mail-from '{}' is not an e-mail address: write ar@example.com or 'Name <ar@example.com>'", settings.from)
        })?;
        let user = match &server.credentials {
            Some((user, _)) => format!("{user}@"),
            None => String::new(),
        };
        let scheme = if server.security == Security::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let shown = format!(
            "{scheme}://{user}{}:{} ({})",
            server.host,
            server.port,
            server.security.words()
        );
        let parameters = tls_parameters(&server.host, settings.ca_file.as_ref())?;
        let tls = match server.security {
            Security::Implicit => Tls::Wrapper(parameters),
            Security::StartTlsRequired => Tls::Required(parameters),
            Security::StartTlsOpportunistic => Tls::Opportunistic(parameters),
            Security::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .port(server.port)
            .tls(tls)
            .timeout(Some(COMMAND_TIMEOUT));
        if let Some((user, password)) = server.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            shown,
        })
    }

    /// The server and sender, without the password: for the log.
    pub fn describe(&self) -> String {
        format!("{}, from {}", self.shown, self.from)
    }

    /// Sends `mail`; answers its `Message-ID`, or the mail server's reason for refusing it.
    pub async fn send(&self, mail: Outgoing) -> Result<String, String> {
        let message = self.message(mail)?;
        let id = message
            .headers()
            .get_raw(&HeaderName::new_from_ascii_str("Message-ID"))
            .unwrap_or_default()
            .to_string();
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(id),
            Ok(Err(err)) => Err(reason(&err)),
            Err(_) => Err(format!(
                "the mail server did not answer within {} seconds (it may have taken the message before it stopped answering)",
                SEND_TIMEOUT.as_secs()
            )),
        }
    }

    fn message(&self, mail: Outgoing) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject)
            .message_id(None);
        for to in &mail.to {
            builder = builder.to(mailbox(to)?);
        }
        for cc in &mail.cc {
            builder = builder.cc(mailbox(cc)?);
        }
        if let Some(reply_to) = &mail.reply_to {
            builder = builder.reply_to(mailbox(reply_to)?);
        }
        let (file_name, pdf) = mail.attachment;
        let pdf_type = ContentType::parse("application/pdf").map_err(|err| err.to_string())?;
        let body = MultiPart::mixed()
            .singlepart(SinglePart::plain(mail.text))
            .singlepart(Attachment::new(file_name).body(pdf, pdf_type));
        builder
            .multipart(body)
            .map_err(|err| format!("the message could not be built: {err}"))
    }
}

/// The mail server's words for a failure, one line.
fn reason(err: &lettre::transport::smtp::Error) -> String {
    err.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn mailbox(text: &str) -> Result<Mailbox, String> {
    Mailbox::from_str(text).map_err(|_| format!("'{text}' is not an e-mail address"))
}

/// Whether `text` is an address a message can go to: `jane@example.com` or
/// `Jane Doe <jane@example.com>`.
pub fn is_address(text: &str) -> bool {
    Mailbox::from_str(text).is_ok()
}

/// TLS for `host`: the public roots, and the certificate in `ca_file` too.
fn tls_parameters(host: &str, ca_file: Option<&PathBuf>) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|err| format!("--smtp-ca-file {}: {err}", path.display()))?;
        let certificate = Certificate::from_pem(&pem).map_err(|err| {
            format!(
                "--smtp-ca-file {}: not a PEM certificate ({err})",
                path.display()
            )
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build_rustls()
        .map_err(|err| format!("TLS for {host}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_means_starttls_required_on_587() {
        let server = endpoint("smtp://ar%40acme:p%3Ass@mail.example.com").unwrap();
        assert_eq!(server.security, Security::StartTlsRequired);
        assert_eq!(server.port, 587);
        assert_eq!(server.credentials, Some(("ar@acme".into(), "p:ss".into())));
    }

    #[test]
    fn schemes_ports_and_tls_modes() {
        let read = |url| endpoint(url).map(|e| (e.security, e.port));
        assert_eq!(read("smtps://h"), Ok((Security::Implicit, 465)));
        assert_eq!(read("smtp://h"), Ok((Security::StartTlsOpportunistic, 25)));
        assert_eq!(read("smtp://h:2525?tls=none"), Ok((Security::None, 2525)));
        assert_eq!(
            read("smtp://h?tls=required"),
            Ok((Security::StartTlsRequired, 587))
        );
    }

    #[test]
    fn refusals_never_repeat_the_password() {
        for url in [
            "smtp://u:secret@h?tls=none",
            "smtp://u:secret@h?tls=opportunistic",
            "smtps://u:secret@h?tls=required",
            "smtp://u:secret@h?port=1",
            "http://u:secret@h",
            "smtp://u:secret@h/x",
            "smtp://u:sec#ret@h",
        ] {
            let err = endpoint(url).unwrap_err();
            assert!(!err.contains("secret"), "{url}: {err}");
        }
        assert!(endpoint("smtp://u@h").is_err());
    }

    #[tokio::test]
    async fn the_description_has_no_password() {
        let settings = MailSettings {
            url: "smtp://ar:secret@mail.example.com:2587".into(),
            from: "Acme <ar@acme.test>".into(),
            ca_file: None,
        };
        let shown = Mailer::new(&settings).unwrap().describe();
        assert_eq!(
            shown,
            "smtp://ar@mail.example.com:2587 (STARTTLS required), from Acme <ar@acme.test>"
        );
    }

    #[test]
    fn addresses() {
        assert!(is_address("jane@example.com"));
        assert!(is_address("Jane Doe <jane@example.com>"));
        assert!(!is_address("jane"));
        assert!(!is_address("jane@example.com, bob@example.com"));
    }
}
