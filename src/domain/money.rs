//! Money and the rounding rule. Every rounding Arvalox does is here, in the minor units of
//! the amount's currency (`domain::currency`: `JPY` 0 places, `USD` 2, `KWD` 3):
//!
//! - `line_subtotal = round(quantity × unit_price, places)`
//! - `line_tax      = round(line_subtotal × tax_rate, places)`
//! - rounding is half away from zero (USD 2.675 → 2.68, −2.675 → −2.68; JPY 2.5 → 3);
//! - invoice `subtotal`, `tax_total` and `total` are sums of the rounded lines, so the
//!   lines always add up to the invoice;
//! - an amount a client gives is never rounded: more decimals than its currency has is a 400.
//!
//! Amounts are held as integer minor units (cents, yen, fils) so that sums, in Rust and in
//! SQL, are exact. Every answer writes them with exactly the currency's places.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

use super::currency::Currency;

/// Largest amount Arvalox accepts anywhere, in minor units: 999,999,999,999.99 in `USD`.
pub(crate) const MAX_MINOR: i64 = 99_999_999_999_999;

/// An exact amount in the minor units of its currency, which the holder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MoneyError {
    TooManyDecimals(Currency),
    TooLarge(Currency),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // USD's wording is the one answers gave before currencies.
            MoneyError::TooManyDecimals(currency) if *currency == Currency::USD => {
                write!(f, "must have at most 2 decimal places")
            }
            MoneyError::TooManyDecimals(currency) if currency.exponent() == 0 => {
                write!(
                    f,
                    "must be a whole number: {currency} has no decimal places"
                )
            }
            MoneyError::TooManyDecimals(currency) => write!(
                f,
                "must have at most {} decimal places in {currency}",
                currency.exponent()
            ),
            MoneyError::TooLarge(currency) => write!(
                f,
                "must not exceed {}",
                Money(MAX_MINOR).text(*currency).as_str()
            ),
        }
    }
}

/// The one rounding function: the currency's places, half away from zero.
pub(crate) fn round_money(value: Decimal, currency: Currency) -> Decimal {
    value.round_dp_with_strategy(currency.exponent(), RoundingStrategy::MidpointAwayFromZero)
}

/// An amount exactly as a client gave it: its currency (and so its places) is known only
/// once the write finds the customer it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct GivenAmount(pub Decimal);

impl GivenAmount {
    pub(crate) fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// The amount in `currency`, refused when it has more places than the currency.
    pub(crate) fn in_currency(self, currency: Currency) -> Result<Money, MoneyError> {
        Money::from_exact(self.0, currency)
    }
}

impl Money {
    pub(crate) const ZERO: Money = Money(0);

    pub(crate) fn from_minor(minor: i64) -> Self {
        Money(minor)
    }

    pub(crate) fn minor(self) -> i64 {
        self.0
    }

    /// An amount given by a client: at most the currency's places, at most [`MAX_MINOR`].
    pub(crate) fn from_exact(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if value.normalize().scale() > currency.exponent() {
            return Err(MoneyError::TooManyDecimals(currency));
        }
        Self::from_rounded(value, currency)
    }

    /// An amount computed by the rounding rule; `value` is rounded first.
    pub(crate) fn from_rounded(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let too_large = MoneyError::TooLarge(currency);
        let mut minor = round_money(value, currency);
        for _ in 0..currency.exponent() {
            minor = minor.checked_mul(Decimal::TEN).ok_or(too_large.clone())?;
        }
        let minor: i64 = minor.trunc().try_into().map_err(|_| too_large.clone())?;
        if minor.abs() > MAX_MINOR {
            return Err(too_large);
        }
        Ok(Money(minor))
    }

    pub(crate) fn to_decimal(self, currency: Currency) -> Decimal {
        Decimal::new(self.0, currency.exponent())
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

    /// The amount's text with exactly the currency's places (`1620`, `1620.00`,
    /// `1620.000`), built on the stack: every amount of every answer goes through here, and
    /// the formatting machinery cost more than the SQL read.
    pub(crate) fn text(self, currency: Currency) -> MoneyText {
        self.text_with_places(currency.exponent())
    }

    pub(crate) fn text_with_places(self, places: u32) -> MoneyText {
        let mut bytes = [0u8; MoneyText::CAPACITY];
        let mut start = bytes.len();
        let mut rest = self.0.unsigned_abs();
        let mut put = |byte: u8| {
            start -= 1;
            if let Some(slot) = bytes.get_mut(start) {
                *slot = byte;
            }
        };
        for _ in 0..places.min(u32::from(super::currency::MAX_EXPONENT)) {
            put(b'0' + (rest % 10) as u8);
            rest /= 10;
        }
        if places > 0 {
            put(b'.');
        }
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

impl Money {
    /// For a message: the amount as its currency writes it.
    pub(crate) fn shown(self, currency: Currency) -> Shown {
        Shown(self, currency)
    }
}

/// An amount with its currency, for messages (`format!("{}", amount.shown(currency))`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown(Money, Currency);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.text(self.1).as_str())
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

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    const USD: Currency = Currency::USD;

    #[test]
    fn rounds_half_away_from_zero_to_the_currency_places() {
        assert_eq!(round_money(d("2.675"), USD), d("2.68"));
        assert_eq!(round_money(d("2.665"), USD), d("2.67"));
        assert_eq!(round_money(d("-2.675"), USD), d("-2.68"));
        assert_eq!(round_money(d("0.004999"), USD), d("0.00"));
        assert_eq!(round_money(d("2.5"), c("JPY")), d("3"));
        assert_eq!(round_money(d("-2.5"), c("JPY")), d("-3"));
        assert_eq!(round_money(d("1.0005"), c("KWD")), d("1.001"));
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
            assert_eq!(Money::from_minor(minor).text(USD).as_str(), text);
        }
    }

    #[test]
    fn text_has_exactly_the_currency_places() {
        assert_eq!(Money::from_minor(1620).text(c("JPY")).as_str(), "1620");
        assert_eq!(Money::from_minor(-5).text(c("JPY")).as_str(), "-5");
        assert_eq!(
            Money::from_minor(1_620_000).text(c("KWD")).as_str(),
            "1620.000"
        );
        assert_eq!(Money::from_minor(5).text(c("KWD")).as_str(), "0.005");
        assert_eq!(Money::from_minor(5).text(c("CLF")).as_str(), "0.0005");
        assert_eq!(Money::ZERO.text(USD).as_str(), "0.00");
    }

    #[test]
    fn exact_input_refuses_extra_places_and_overflow() {
        assert_eq!(Money::from_exact(d("500.00"), USD).unwrap().minor(), 50000);
        assert_eq!(Money::from_exact(d("1.500"), USD).unwrap().minor(), 150);
        let error = Money::from_exact(d("1.005"), USD).unwrap_err();
        assert_eq!(error.to_string(), "must have at most 2 decimal places");
        assert_eq!(
            Money::from_exact(d("999999999999.99"), USD)
                .unwrap()
                .minor(),
            MAX_MINOR
        );
        let too_large = Money::from_exact(d("1000000000000.00"), USD).unwrap_err();
        assert_eq!(too_large.to_string(), "must not exceed 999999999999.99");
        assert!(Money::from_rounded(d("79228162514264337593543950335"), USD).is_err());
    }

    #[test]
    fn exact_input_follows_each_currency() {
        let jpy = c("JPY");
        assert_eq!(Money::from_exact(d("1620"), jpy).unwrap().minor(), 1620);
        assert_eq!(Money::from_exact(d("1620.00"), jpy).unwrap().minor(), 1620);
        assert_eq!(
            Money::from_exact(d("1620.5"), jpy).unwrap_err().to_string(),
            "must be a whole number: JPY has no decimal places"
        );
        let kwd = c("KWD");
        assert_eq!(Money::from_exact(d("1.005"), kwd).unwrap().minor(), 1005);
        assert_eq!(
            Money::from_exact(d("1.0005"), kwd).unwrap_err().to_string(),
            "must have at most 3 decimal places in KWD"
        );
        assert_eq!(
            MoneyError::TooLarge(jpy).to_string(),
            "must not exceed 99999999999999"
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
