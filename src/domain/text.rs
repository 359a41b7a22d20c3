//! Rules for free text coming from clients.

/// `bytes` in lower-case hex, as `hex::encode` writes them, but into one buffer at once:
/// `hex::encode` collects a `char` at a time, about 1,500 instructions for the hot read's
/// key hash and `ETag` together (callgrind, BENCHMARKS.md, "The invoice read: one statement").
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    let mut text = vec![0u8; bytes.len() * 2];
    // The one way it fails is a buffer of another length than twice the input's.
    if hex::encode_to_slice(bytes, &mut text).is_err() {
        return String::new();
    }
    String::from_utf8(text).unwrap_or_default()
}

/// Checks a text field: trimmed length within bounds, no control characters
/// (newlines and tabs are allowed where `multiline`).
pub(crate) fn check_text(
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<(), String> {
    let length = value.chars().count();
    if value.trim().chars().count() < min {
        return Err(if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if length > max {
        return Err(format!("must be at most {max} characters (got {length})"));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\r' || c == '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err("must not contain control characters".to_string());
    }
    Ok(())
}

/// An organization's slug, as the CLI names it (`--org acme`) and as listings, exports and
/// `verify --expect-head ORG=HASH` print it: 1 to 64 lower-case ASCII letters, digits, `-`
/// and `_`, starting with a letter or digit, so it reads back as one word everywhere.
pub(crate) fn check_slug(slug: &str) -> Result<(), String> {
    let fits = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    let starts_well = slug
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    match slug.len() <= 64 && starts_well && slug.chars().all(fits) {
        true => Ok(()),
        false => Err("is not a usable organization slug: give 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit".into()),
    }
}

/// [`check_slug`] as the commands report it: the `org` they were given, named.
pub(crate) fn check_new_slug(slug: &str) -> Result<(), crate::error::AppError> {
    check_slug(slug).map_err(|why| {
        crate::error::AppError::field("org", format!("'{}' {why}", slug.escape_debug()))
    })
}

/// A plain decimal or integer (`-12.50`, `7`): what the server writes for amounts and
/// ids, never a formula.
pub(crate) fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A CSV cell a spreadsheet could run as a formula (it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return) made inert with a leading `'`, as OWASP advises. A plain
/// number stays as it is: `-12.50` is an amount, not a formula.
pub(crate) fn spreadsheet_safe(text: &str) -> String {
    if !is_plain_number(text) && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A pragmatic address check: one `@`, a non-empty local part, and a dotted domain.
pub(crate) fn check_email(value: &str) -> Result<(), String> {
    let invalid = || format!("'{value}' is not a valid email address");
    check_text(value, 3, 254, false)?;
    let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if local.is_empty() || domain.contains('@') || value.contains(char::is_whitespace) || !domain_ok
    {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_the_hex_crates_text() {
        assert_eq!(lower_hex(&[]), "");
        assert_eq!(lower_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&every_byte), hex::encode(&every_byte));
    }

    #[test]
    fn formulas_are_made_inert_and_numbers_are_not() {
        for hostile in ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(hostile), format!("'{hostile}"));
        }
        for plain in ["-12.50", "7", "Acme = good", ""] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
        assert!(!is_plain_number("1.") && !is_plain_number("-") && !is_plain_number("+1"));
    }

    #[test]
    fn text_bounds_and_control_characters() {
        assert!(check_text("Acme", 1, 255, false).is_ok());
        assert!(check_text("   ", 1, 255, false).is_err());
        assert!(check_text(&"x".repeat(256), 1, 255, false).is_err());
        assert!(check_text("a\u{0}b", 1, 255, false).is_err());
        assert!(check_text("line\nline", 0, 255, true).is_ok());
        assert!(check_text("line\nline", 0, 255, false).is_err());
    }

    #[test]
    fn slugs_are_one_plain_word() {
        for good in [
            "default",
            "acme",
            "org-b",
            "shop_2",
            "9lives",
            &"a".repeat(64),
        ] {
            assert_eq!(check_slug(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Acme",
            "a b",
            "-lead",
            "_lead",
            "x=y",
            "a\nb",
            "café",
            &"a".repeat(65),
        ] {
            assert!(check_slug(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_shapes() {
        assert!(check_email("contact@acme.com").is_ok());
        assert!(check_email("a.b+c@sub.example.org").is_ok());
        assert!(check_email("nope").is_err());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a@@b.com").is_err());
        assert!(check_email("a b@c.com").is_err());
    }
}
