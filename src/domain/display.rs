//! Short values (amounts, decimals, dates) written as JSON strings of their `Display` form.
//! Pure formatting: no HTTP and no storage, shared by the answers and the stored copies.

/// Serializes a short `Display` value as a JSON string. It is formatted into a stack
/// buffer first: serde's `collect_str` escapes each formatter piece separately, which
/// made amounts and dates the costliest part of writing an invoice.
pub(crate) fn serialize_display<T: std::fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut text = ShortText::default();
    if std::fmt::write(&mut text, format_args!("{value}")).is_ok() {
        serializer.serialize_str(text.as_str())
    } else {
        serializer.collect_str(value)
    }
}

/// A string of at most 64 bytes on the stack; writing more fails.
struct ShortText {
    bytes: [u8; 64],
    len: usize,
}

impl Default for ShortText {
    fn default() -> Self {
        ShortText {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl ShortText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so the bytes are always UTF-8.
        let written = self.bytes.get(..self.len).unwrap_or_default();
        std::str::from_utf8(written).unwrap_or_default()
    }
}

impl std::fmt::Write for ShortText {
    fn write_str(&mut self, piece: &str) -> std::fmt::Result {
        let end = self.len + piece.len();
        let target = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        target.copy_from_slice(piece.as_bytes());
        self.len = end;
        Ok(())
    }
}
