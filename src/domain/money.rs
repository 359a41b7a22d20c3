//! Money and the rounding rule. Every rounding Arvalox does is here:
//!
//! - `line_subtotal = round(quantity × unit_price, 2)`
//! - `line_tax      = round(line_subtotal × tax_rate, 2)`
//! - rounding is half away from zero (2.675 → 2.68, −2.675 → −2.68);
//! - invoice `subtotal`, `tax_total` and `total` are sums of the rounded lines, so the
//!   lines always add up to the invoice.
//!
//! Amounts are held as integer minor units (cents) so that sums, in Rust and in SQL, are exact.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// Largest amount Arvalox accepts anywhere: 999,999,999,999.99.
pub(crate) const MAX_MINOR: i64 = 99_999_999_999_999;

/// An exact amount in minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MoneyError {
    TooManyDecimals,
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::TooManyDecimals => write!(f, "must have at most 2 decimal places"),
            MoneyError::TooLarge => write!(f, "must not exceed 999999999999.99"),
        }
    }
}

/// The one rounding function: two decimals, half away from zero.
pub(crate) fn round_money(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl Money {
    pub(crate) const ZERO: Money = Money(0);

    pub(crate) fn from_minor(minor: i64) -> Self {
        Money(minor)
    }

    pub(crate) fn minor(self) -> i64 {
        self.0
    }

    /// An amount given by a client: at most two decimals, at most [`MAX_MINOR`] in size.
    pub(crate) fn from_exact(value: Decimal) -> Result<Self, MoneyError> {
        if value.normalize().scale() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        Self::from_rounded(value)
    }

    /// An amount computed by the rounding rule; `value` is rounded first.
    pub(crate) fn from_rounded(value: Decimal) -> Result<Self, MoneyError> {
        let cents = round_money(value)
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(MoneyError::TooLarge)?;
        let minor: i64 = cents.trunc().try_into().map_err(|_| MoneyError::TooLarge)?;
        if minor.abs() > MAX_MINOR {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(minor))
    }

    pub(crate) fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub(crate) fn checked_add(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .filter(|sum| sum.abs() <= MAX_MINOR)
            .map(Money)
    }

    pub(crate) fn is_positive(self) -> bool {
        self.0 > 0
    }
}

/// Always two decimals: `1620.00`, `-0.05`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl Money {
    /// The amount's text (as `Display` shows it), built on the stack: every amount of every
    /// answer goes through here, and the formatting machinery cost more than the SQL read.
    pub(crate) fn text(self) -> MoneyText {
        let mut bytes = [0u8; MoneyText::CAPACITY];
        let mut start = bytes.len();
        let mut rest = self.0.unsigned_abs();
        let mut put = |byte: u8| {
            start -= 1;
            if let Some(slot) = bytes.get_mut(start) {
                *slot = byte;
            }
        };
        for _ in 0..2 {
            put(b'0' + (rest % 10) as u8);
            rest /= 10;
        }
        put(b'.');
        loop {
            put(b'0' + (rest % 10) as u8);
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        if self.0 < 0 {
            put(b'-');
        }
        MoneyText { bytes, start }
    }
}

/// An amount's text, held on the stack.
pub(crate) struct MoneyText {
    bytes: [u8; MoneyText::CAPACITY],
    start: usize,
}

impl MoneyText {
    /// `-` + the 20 digits of `u64::MAX` + `.`, with room to spare.
    const CAPACITY: usize = 24;

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits, '.' and '-' are ever written.
        let written = self.bytes.get(self.start..).unwrap_or_default();
        std::str::from_utf8(written).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_money(d("2.675")), d("2.68"));
        assert_eq!(round_money(d("2.665")), d("2.67"));
        assert_eq!(round_money(d("-2.675")), d("-2.68"));
        assert_eq!(round_money(d("0.004999")), d("0.00"));
    }

    #[test]
    fn text_covers_the_whole_range() {
        for (minor, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (100, "1.00"),
            (162_000, "1620.00"),
            (-162_005, "-1620.05"),
            (MAX_MINOR, "999999999999.99"),
            (i64::MAX, "92233720368547758.07"),
            (i64::MIN, "-92233720368547758.08"),
        ] {
            assert_eq!(Money::from_minor(minor).text().as_str(), text);
            assert_eq!(Money::from_minor(minor).to_string(), text);
        }
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_minor(162000).to_string(), "1620.00");
        assert_eq!(Money::from_minor(5).to_string(), "0.05");
        assert_eq!(Money::from_minor(-5).to_string(), "-0.05");
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }

    #[test]
    fn exact_input_refuses_third_decimal_and_overflow() {
        assert_eq!(Money::from_exact(d("500.00")).unwrap().minor(), 50000);
        assert_eq!(Money::from_exact(d("1.500")).unwrap().minor(), 150);
        assert_eq!(
            Money::from_exact(d("1.005")),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Money::from_exact(d("999999999999.99")).unwrap().minor(),
            MAX_MINOR
        );
        assert_eq!(
            Money::from_exact(d("1000000000000.00")),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::from_rounded(d("79228162514264337593543950335")),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn addition_is_checked() {
        let max = Money::from_minor(MAX_MINOR);
        assert_eq!(max.checked_add(Money::from_minor(1)), None);
        assert_eq!(
            Money::from_minor(1).checked_add(Money::from_minor(2)),
            Some(Money::from_minor(3))
        );
    }
}
