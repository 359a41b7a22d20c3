//! Webhook rules: which events an endpoint takes, the signature, when a failed delivery is
//! tried again, when an endpoint that keeps failing is turned off, and which addresses a
//! hosted install refuses to deliver to.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::text::lower_hex;

/// Seconds to wait after the n-th failure of one event (the last one repeats): within a
/// minute at first, then spread to cover about a day.
pub const BACKOFF_SECONDS: [i64; 8] = [5, 60, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// An endpoint failing this long without one success is turned off.
pub const GIVE_UP_AFTER_SECONDS: i64 = 3 * 24 * 3600;

/// How long a receiver has to answer.
pub const DELIVERY_TIMEOUT_SECONDS: u64 = 10;

/// When to try again after failure number `attempt` (1 for the first) at `now`.
pub fn next_attempt_at(attempt: i64, now: i64) -> i64 {
    let index = usize::try_from(attempt.max(1) - 1).unwrap_or(usize::MAX);
    let wait = BACKOFF_SECONDS
        .get(index)
        .or(BACKOFF_SECONDS.last())
        .copied()
        .unwrap_or(3_600);
    now + wait
}

/// Whether an endpoint failing since `failing_since` is to be turned off at `now`.
pub fn gives_up(failing_since: i64, now: i64) -> bool {
    now - failing_since >= GIVE_UP_AFTER_SECONDS
}

/// Whether an endpoint subscribed to `wanted` (or `*`) takes an event of `event_type`.
pub fn takes(wanted: &[String], event_type: &str) -> bool {
    wanted.iter().any(|kind| kind == "*" || kind == event_type)
}

/// `Arvalox-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let digest = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map(|mut mac| {
        mac.update(format!("{timestamp}.{body}").as_bytes());
        lower_hex(&mac.finalize().into_bytes())
    });
    format!("t={timestamp},v1={}", digest.unwrap_or_default())
}

/// What an endpoint's URL must be: absolute http or https, with a host (a name, an
/// address, or an IPv6 address in brackets, one that parses as such) and at most a port from 1 to 65535, at most
/// 2,000 characters, no credentials in it. (A port past 65535 was taken, and the sending
/// library dropped it: the events went to the scheme's own port, to another service.)
pub fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Characters, as the spec's maxLength counts them, not bytes.
    if url.chars().count() > 2000 {
        return Err("must be at most 2000 characters");
    }
    if authority.is_empty() {
        return Err("must name a host");
    }
    if authority.contains('@') {
        return Err("must not carry a user name or password");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let (_, port) = host_and_port(authority)
        .ok_or("must name a host: a name or an address, an IPv6 one in brackets ([::1])")?;
    if port.is_some_and(|port| !is_port(port)) {
        return Err("must give a port from 1 to 65535 after the host's ':', or none");
    }
    Ok(())
}

/// `authority` as its host and its port text (`None`: the scheme's own port), or `None`
/// when it names no host.
fn host_and_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, after) = bracketed.split_once(']')?;
            let literal = inside.parse::<std::net::Ipv6Addr>().is_ok();
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return None,
            };
            (literal.then_some(inside)?, port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    (!host.is_empty() && !host.contains(['[', ']'])).then_some((host, port))
}

/// 1 to 65535 in decimal digits, without a leading zero.
fn is_port(port: &str) -> bool {
    !port.starts_with('0')
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port
            .parse::<u32>()
            .is_ok_and(|port| (1..=65535).contains(&port))
}

/// Loopback, private, link-local, unspecified and other non-public addresses: what
/// `--webhooks-block-private` refuses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [first, second, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || first == 0
                // 240.0.0.0/4, reserved.
                || first >= 240
                // 100.64.0.0/10, carrier-grade NAT; 198.18.0.0/15, benchmarking.
                || (first == 100 && (second & 0xC0) == 64)
                || (first == 198 && (second & 0xFE) == 18)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments().first().copied().unwrap_or_default();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local; fe80::/10 link-local; fec0::/10 site-local (retired).
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || embedded_v4(v6).is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// The IPv4 address an IPv6 one carries, and reaches: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let [a, b, c, d, e, f, g, h] = v6.segments();
    let v4 = |high: u16, low: u16| {
        let ([w, x], [y, z]) = (high.to_be_bytes(), low.to_be_bytes());
        std::net::Ipv4Addr::new(w, x, y, z)
    };
    match (a, b, c, d, e, f) {
        (0, 0, 0, 0, 0, 0xffff) | (0, 0, 0, 0, 0, 0) | (0x64, 0xff9b, 0, 0, 0, 0) => Some(v4(g, h)),
        (0x2002, ..) => Some(v4(b, c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_forms_that_reach_a_private_address_are_private() {
        let private = |text: &str| is_private(text.parse().unwrap());
        for address in [
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
        ] {
            assert!(private(address), "{address}");
        }
        for address in [
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "8.8.8.8",
        ] {
            assert!(!private(address), "{address}");
        }
    }

    #[test]
    fn the_schedule_starts_within_a_minute_and_covers_about_a_day() {
        assert_eq!(next_attempt_at(1, 1000), 1005);
        assert_eq!(next_attempt_at(2, 1000), 1060);
        assert_eq!(next_attempt_at(20, 0), 36_000);
        let total: i64 = BACKOFF_SECONDS.iter().sum();
        assert!((20 * 3600..=30 * 3600).contains(&total), "{total}");
        assert!(!gives_up(0, GIVE_UP_AFTER_SECONDS - 1));
        assert!(gives_up(0, GIVE_UP_AFTER_SECONDS));
    }

    #[test]
    fn the_signature_is_the_documented_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let signed = signature("Jefe", 0, "what do ya want for nothing?");
        assert_eq!(
            signed,
            "t=0,v1=".to_string() + &hmac_of("Jefe", "0.what do ya want for nothing?")
        );
        assert_eq!(
            hmac_of("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn hmac_of(key: &str, data: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(data.as_bytes());
        lower_hex(&mac.finalize().into_bytes())
    }

    #[test]
    fn urls_and_private_addresses() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9000").is_ok());
        assert!(check_url("ftp://example.com").is_err());
        assert!(check_url("https://user:pw@example.com").is_err());
        assert!(check_url("https:///nohost").is_err());
        for good in [
            "http://127.0.0.1:65535/x",
            "http://[::1]:8080/x",
            "https://[2001:db8::7]",
            "https://hooks.example.com:1?a=b",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        let long_path = "é".repeat(1990);
        assert_eq!(check_url(&format!("http://h/{long_path}")), Ok(()));
        assert!(check_url(&format!("http://h/{long_path}{long_path}")).is_err());
        // Each refused URL, and the word its message turns on.
        let (port, host) = ("port", "host");
        let refused = [
            ("http://127.0.0.1:99999/x", port),
            ("http://127.0.0.1:0/x", port),
            ("http://example.com:/x", port),
            ("http://example.com:080/x", port),
            ("http://example.com:8a/x", port),
            ("http://a:1:2/x", port),
            ("http://[::1]:65536", port),
            ("http://[zz]/x", host),
            ("http://[01]/x", host),
            ("http://[1:2]/x", host),
            ("http://[::1/x", host),
            ("http://[::1]x/", host),
            ("http://:80/x", host),
            ("http://a]b/", host),
        ];
        for (url, about) in refused {
            assert!(check_url(url).unwrap_err().contains(about), "{url}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "fe80::1",
            "100.64.0.1",
            "0.0.0.0",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1", "100.128.0.1"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
        assert!(takes(&["*".into()], "invoice.created"));
        assert!(takes(&["payment.created".into()], "payment.created"));
        assert!(!takes(&["payment.created".into()], "payment.voided"));
    }
}
