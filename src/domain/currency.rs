//! Currencies: ISO 4217 codes and their minor units, from the standard's table in the
//! `iso_currency` crate (never a hand-typed list). The minor units rule every amount in a
//! currency: how it is stored, rounded, accepted and written (`domain::money`).

use std::fmt;

/// A currency Arvalox can keep books in: an active ISO 4217 code with a minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// The currency of organizations that never chose one, and of books from before
    /// currencies existed.
    pub(crate) const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };

    /// A code as a client or a stored row gives it: upper case, in the table, still in use,
    /// with minor units (gold, SDR and the test code have none and cannot hold an invoice).
    pub(crate) fn parse(code: &str) -> Result<Currency, String> {
        let currency = Self::known(code)?;
        if let Some(successor) =
            iso_currency::Currency::from_code(code).and_then(|c| c.is_superseded())
        {
            return Err(format!(
                "{code} is no longer in use; it was replaced by {}",
                successor.code()
            ));
        }
        Ok(currency)
    }

    /// Every code [`Currency::parse`] accepts, in order: the three-letter codes tried one by one.
    pub(crate) fn all_codes() -> Vec<String> {
        let letters = b'A'..=b'Z';
        letters
            .clone()
            .flat_map(|a| letters.clone().map(move |b| [a, b]))
            .flat_map(|[a, b]| (b'A'..=b'Z').map(move |c| [a, b, c]))
            .filter_map(|code| String::from_utf8(code.to_vec()).ok())
            .filter(|code| Self::parse(code).is_ok())
            .collect()
    }

    /// A code read back from the book: it was checked when it was written, and a currency
    /// the standard has since retired still names the books kept in it. One this binary's
    /// table no longer lists keeps its code (never re-read as USD), with 2 places.
    pub(crate) fn stored(code: &str) -> Currency {
        Self::known(code).unwrap_or_else(|_| {
            tracing::warn!(
                code,
                "a stored currency missing from this binary's ISO 4217 table"
            );
            let mut bytes = *b"XXX";
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                bytes.copy_from_slice(code.as_bytes());
            }
            Currency {
                code: bytes,
                exponent: 2,
            }
        })
    }

    fn known(code: &str) -> Result<Currency, String> {
        let shaped = code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic());
        if !shaped {
            return Err(format!(
                "must be a three-letter ISO 4217 currency code such as USD, EUR or JPY (got {code:?})"
            ));
        }
        if code.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(format!(
                "must be written in upper case: {}",
                code.to_ascii_uppercase()
            ));
        }
        let known = iso_currency::Currency::from_code(code)
            .ok_or_else(|| format!("{code} is not an ISO 4217 currency code"))?;
        let exponent = known
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .filter(|e| *e <= MAX_EXPONENT)
            .ok_or_else(|| format!("{code} has no minor unit, so it cannot hold an invoice"))?;
        let mut bytes = [0u8; 3];
        bytes.copy_from_slice(code.as_bytes());
        Ok(Currency {
            code: bytes,
            exponent,
        })
    }

    /// The three-letter code (`USD`).
    pub(crate) fn code(&self) -> &str {
        // Only the three ASCII letters of a parsed code are ever stored.
        std::str::from_utf8(&self.code).unwrap_or("USD")
    }

    /// Decimal places of the minor unit: `JPY` 0, `USD` 2, `KWD` 3.
    pub(crate) fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }
}

/// The most decimal places any currency in the table has (`CLF`, `UYW`).
pub(crate) const MAX_EXPONENT: u8 = 4;

/// A document's amounts are in its customer's currency: a request that states another
/// meant other amounts (409, naming `currency`).
pub(crate) fn check_stated(
    stated: Option<Currency>,
    customer_id: i64,
    billed: Currency,
) -> Result<(), crate::error::AppError> {
    match stated {
        Some(stated) if stated != billed => Err(crate::error::AppError::conflict_on(
            "currency",
            format!(
                "Customer {customer_id} is billed in {billed}, not {stated}; nothing was recorded."
            ),
        )),
        _ => Ok(()),
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::USD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_come_from_the_standard() {
        for (code, exponent) in [("USD", 2), ("JPY", 0), ("KWD", 3), ("EUR", 2), ("CLF", 4)] {
            let currency = Currency::parse(code).unwrap();
            assert_eq!(currency.code(), code);
            assert_eq!(currency.exponent(), exponent);
        }
        assert_eq!(Currency::parse("USD").unwrap(), Currency::USD);
    }

    #[test]
    fn refuses_what_cannot_hold_an_invoice() {
        assert_eq!(
            Currency::parse("usd").unwrap_err(),
            "must be written in upper case: USD"
        );
        assert_eq!(
            Currency::parse("ABC").unwrap_err(),
            "ABC is not an ISO 4217 currency code"
        );
        assert!(Currency::parse("XAU")
            .unwrap_err()
            .contains("no minor unit"));
        assert_eq!(
            Currency::parse("HRK").unwrap_err(),
            "HRK is no longer in use; it was replaced by EUR"
        );
        assert_eq!(Currency::stored("HRK").code(), "HRK");
        assert_eq!(Currency::stored("ZZZ").code(), "ZZZ");
        assert_eq!(Currency::stored("ZZZ").exponent(), 2);
        assert!(Currency::parse("US").unwrap_err().contains("three-letter"));
        assert!(Currency::parse("U$D").unwrap_err().contains("three-letter"));
    }
}
