//! API keys: generation, hashing and scopes. A key is shown once and stored as a hash.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::text::lower_hex;

pub(crate) const KEY_PREFIX: &str = "arv_";
/// Characters of the key shown in listings (`arv_` and 8 more): enough to tell keys apart.
pub(crate) const DISPLAY_PREFIX_LEN: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    /// Scopes are ordered: `admin` can do all `write` can, `write` all `read` can.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

/// A freshly minted key: the secret to show once, and what is stored.
pub(crate) struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

/// 192 random bits, hex encoded, behind a recognisable prefix.
pub(crate) fn generate() -> NewKey {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", lower_hex(&bytes));
    NewKey {
        prefix: secret[..DISPLAY_PREFIX_LEN].to_string(),
        hash: hash(&secret),
        secret,
    }
}

/// SHA-256 is enough: keys carry 192 random bits, so no dictionary applies.
pub(crate) fn hash(secret: &str) -> String {
    lower_hex(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_unique_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert!(a.secret.starts_with("arv_"));
        assert_eq!(a.secret.len(), 4 + 48);
        assert_ne!(a.secret, b.secret);
        assert_eq!(hash(&a.secret), a.hash);
        assert_eq!(a.prefix, &a.secret[..12]);
    }

    #[test]
    fn scopes_are_ordered() {
        assert!(Scope::Admin.allows(Scope::Write));
        assert!(Scope::Write.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Write));
        assert!(!Scope::Write.allows(Scope::Admin));
    }
}
