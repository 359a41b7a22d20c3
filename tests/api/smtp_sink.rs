//! A real SMTP server on loopback for the e-mail tests (`mailin-embedded`): it keeps each
//! message it accepts, refuses every recipient at `refuse.test` (550), and on request offers
//! STARTTLS with a certificate made for the test and demands AUTH PLAIN as clerk/s3cret.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use mailin_embedded::response::{
    AUTHENTICATION_REQUIRED, AUTH_OK, INVALID_CREDENTIALS, NO_MAILBOX, OK,
};
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig};

/// One message as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a MIME message")
    }
}

/// Holding a message at its end, until the test lets it through: `held` once it waits.
#[derive(Debug, Default)]
struct Hold {
    armed: bool,
    held: bool,
}

type Gate = Arc<(Mutex<Hold>, Condvar)>;

#[derive(Clone)]
struct Keeper {
    inbox: Arc<Mutex<Vec<Received>>>,
    gate: Gate,
    current: Received,
    needs_auth: bool,
    signed_in: bool,
}

impl Handler for Keeper {
    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, from: &str) -> Response {
        if self.needs_auth && !self.signed_in {
            return AUTHENTICATION_REQUIRED;
        }
        self.current = Received {
            mail_from: from.to_string(),
            ..Received::default()
        };
        OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if to.ends_with("@refuse.test") {
            return NO_MAILBOX;
        }
        self.current.rcpt_to.push(to.to_string());
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let (hold, bell) = &*self.gate;
        let mut state = hold.lock().unwrap();
        if state.armed {
            state.held = true;
            bell.notify_all();
            while state.armed {
                state = bell.wait(state).unwrap();
            }
        }
        drop(state);
        let message = std::mem::take(&mut self.current);
        self.inbox.lock().unwrap().push(message);
        OK
    }

    fn auth_plain(&mut self, _authorization: &str, user: &str, password: &str) -> Response {
        self.signed_in = user == "clerk" && password == "s3cret";
        if self.signed_in {
            AUTH_OK
        } else {
            INVALID_CREDENTIALS
        }
    }
}

/// The running server; it lives as long as the test process (a thread per connection).
pub struct Sink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    gate: Gate,
    /// The certificate a client must trust, when STARTTLS is offered.
    pub ca_file: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Sink {
    /// A server without TLS or AUTH, as a relay on the same host.
    pub fn plain() -> Sink {
        Sink::start(false)
    }

    /// A server that offers STARTTLS for `localhost` and takes mail only after AUTH.
    pub fn with_tls_and_auth() -> Sink {
        Sink::start(true)
    }

    fn start(secure: bool) -> Sink {
        // The server's rustls would pick its crypto from crate features, and the tests link
        // two; name one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let gate = Gate::default();
        let keeper = Keeper {
            inbox: inbox.clone(),
            gate: gate.clone(),
            current: Received::default(),
            needs_auth: secure,
            signed_in: false,
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = Server::new(keeper);
        server.with_name("sink.test").with_tcp_listener(listener);
        let mut ca_file = None;
        if secure {
            // A CA of the test's own, and the server's certificate signed by it: a client
            // trusts the server only when told to trust that CA.
            let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca.distinguished_name
                .push(rcgen::DnType::CommonName, "Arvalox test CA");
            let ca = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().unwrap())
                .unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
                .unwrap()
                .signed_by(&key, &ca)
                .unwrap();
            let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&cert_path, cert.pem()).unwrap();
            std::fs::write(&key_path, key.serialize_pem()).unwrap();
            let ca_path = dir.path().join("ca.pem");
            std::fs::write(&ca_path, ca.pem()).unwrap();
            server
                .with_ssl(SslConfig::SelfSigned {
                    cert_path: cert_path.display().to_string(),
                    key_path: key_path.display().to_string(),
                })
                .unwrap()
                .with_auth(AuthMechanism::Plain);
            ca_file = Some(ca_path);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Sink {
            port,
            inbox,
            gate,
            ca_file,
            _dir: dir,
        }
    }

    /// The next message waits, before the server accepts it, until [`Sink::release`].
    pub fn hold_next(&self) {
        self.gate.0.lock().unwrap().armed = true;
    }

    /// Waits (on a blocking thread) until a message is held.
    pub async fn until_held(&self) {
        let gate = self.gate.clone();
        tokio::task::spawn_blocking(move || {
            let (hold, bell) = &*gate;
            let mut state = hold.lock().unwrap();
            while !state.held {
                state = bell.wait(state).unwrap();
            }
        })
        .await
        .unwrap();
    }

    /// Lets the held message through.
    pub fn release(&self) {
        let (hold, bell) = &*self.gate;
        let mut state = hold.lock().unwrap();
        (state.armed, state.held) = (false, false);
        bell.notify_all();
    }

    /// Every message accepted so far.
    pub fn inbox(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Settings for an app that sends through this server as `url` (its `{port}` filled in).
    pub fn settings(&self, url: &str) -> arvalox::mail::MailSettings {
        arvalox::mail::MailSettings {
            url: url.replace("{port}", &self.port.to_string()),
            from: "Acme Receivables <ar@acme.test>".into(),
            ca_file: self.ca_file.clone(),
        }
    }
}
