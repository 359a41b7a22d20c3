//! The name resolver of deliveries under `--webhooks-block-private`.
//!
//! `refuse_private` looks the receiver's name up to say why it is refused, but the
//! connection then looks it up again: a name that answers a public address first and a
//! private one second (DNS rebinding) would pass the check and reach the private one. So
//! the connection resolves through [`PublicOnly`], which keeps only public addresses:
//! whatever the name answers, nothing private is ever connected to.

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::domain::webhook::is_private;

/// ureq's own resolver, with every non-public address taken out of its answer.
#[derive(Debug, Default)]
pub(super) struct PublicOnly(DefaultResolver);

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = self.0.resolve(uri, config, timeout)?;
        keep_public(resolved, self.empty())
    }
}

/// The public addresses of `resolved`, in `kept` (empty); none is "host not found", so the
/// delivery fails instead of connecting anywhere.
fn keep_public(
    resolved: ResolvedSocketAddrs,
    mut kept: ResolvedSocketAddrs,
) -> Result<ResolvedSocketAddrs, ureq::Error> {
    for address in resolved.iter().filter(|a| !is_private(a.ip())) {
        kept.push(*address);
    }
    if kept.is_empty() {
        return Err(ureq::Error::HostNotFound);
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(texts: &[&str]) -> ResolvedSocketAddrs {
        let mut all = PublicOnly::default().empty();
        for text in texts {
            all.push(text.parse().unwrap());
        }
        all
    }

    #[test]
    fn only_public_addresses_are_kept() {
        let empty = PublicOnly::default().empty();
        let kept = keep_public(addresses(&["127.0.0.1:80", "93.184.216.34:80"]), empty);
        assert_eq!(
            kept.unwrap().to_vec(),
            vec!["93.184.216.34:80".parse().unwrap()]
        );
    }

    #[test]
    fn a_name_with_only_private_addresses_is_not_found() {
        for private in [
            "10.0.0.1:443",
            "[::1]:443",
            "169.254.169.254:80",
            "192.168.1.5:80",
        ] {
            let empty = PublicOnly::default().empty();
            let kept = keep_public(addresses(&[private]), empty);
            assert!(matches!(kept, Err(ureq::Error::HostNotFound)), "{private}");
        }
    }
}
