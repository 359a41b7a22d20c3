//! The paper a printable document is laid out for: the organization's choice, or the
//! request's.

/// A paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm: the default.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// The name stored and sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }

    /// The paper a stored name stands for; an unknown name reads as A4 (the column's check
    /// admits only the two names).
    pub fn stored(code: &str) -> Paper {
        match code {
            "letter" => Paper::Letter,
            _ => Paper::A4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for paper in [Paper::A4, Paper::Letter] {
            assert_eq!(Paper::stored(paper.code()), paper);
        }
    }
}
