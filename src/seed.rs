//! Deterministic demo books: the same seed and `as_of` give the same customers, invoices
//! and payments, computed with the same domain rules as the API.

use chrono::{Datelike, Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::domain::currency::Currency;
use crate::domain::invoice::{
    generated_invoice_number, invoice_totals, line_amounts, InvoiceStatus, InvoiceTotals,
    LineAmounts, LineInput,
};
use crate::domain::money::Money;
use crate::domain::payment::PaymentMethod;

/// How far back the book reaches.
pub(crate) const HISTORY_DAYS: u64 = 3 * 365;

/// Customers' payment terms, drawn with these weights.
const TERMS: [i64; 6] = [15, 30, 30, 30, 45, 60];

/// Refuses an `as_of` whose book would leave the supported dates: its invoices are issued
/// up to [`HISTORY_DAYS`] before it and fall due up to the longest of [`TERMS`] after it.
pub fn check_as_of(as_of: NaiveDate) -> Result<(), String> {
    let first = as_of.checked_sub_days(Days::new(HISTORY_DAYS));
    let longest = TERMS.iter().max().copied().unwrap_or_default();
    let last = crate::domain::dates::add_days(as_of, longest as u64);
    match (first, last) {
        (Some(first), Some(_)) if crate::domain::dates::is_supported(first) => Ok(()),
        _ => Err(format!(
            "--as-of {as_of} leaves no room for three years of invoices before it and their due dates after it: Arvalox keeps dates from {}",
            crate::domain::dates::RANGE_TEXT
        )),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SeedCustomer {
    pub code: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub billing_address: String,
    pub payment_terms_days: i64,
    pub credit_limit: Option<Money>,
}

#[derive(Debug, Clone)]
pub(crate) struct SeedPayment {
    pub amount: Money,
    pub date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SeedInvoice {
    /// 0-based index into the generated customers.
    pub customer: usize,
    pub number: String,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub lines: Vec<(LineInput, LineAmounts)>,
    pub totals: InvoiceTotals,
    pub payments: Vec<SeedPayment>,
}

impl SeedInvoice {
    pub(crate) fn amount_paid(&self) -> Money {
        Money::from_minor(self.payments.iter().map(|p| p.amount.minor()).sum())
    }
}

const COMPANY_WORDS: [&str; 16] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Gringotts",
    "Oscorp",
    "Monarch",
    "Dunder",
];
const COMPANY_KINDS: [&str; 6] = ["Trading", "Foods", "Logistics", "Studio", "Labs", "Supply"];
const SERVICES: [&str; 8] = [
    "Consulting Services",
    "Design work",
    "Monthly support",
    "Hardware",
    "Training session",
    "Delivery",
    "Software licence",
    "Maintenance visit",
];
const TAX_RATES: [(i64, u32); 5] = [(0, 0), (5, 2), (8, 2), (10, 2), (20, 2)];

/// A payment received on account (applied to nothing), and what became of it.
pub(crate) struct SeedCredit {
    pub customer: usize,
    pub payment: SeedPayment,
    /// Part of it given back, on a day.
    pub refund: Option<(Money, NaiveDate)>,
    /// The day it bounced.
    pub void_date: Option<NaiveDate>,
}

pub(crate) struct Generator {
    rng: ChaCha8Rng,
    currency: Currency,
    as_of: NaiveDate,
    customer_count: usize,
    invoices_per_year: std::collections::BTreeMap<i32, i64>,
    terms: Vec<i64>,
}

impl Generator {
    pub(crate) fn new(
        seed: u64,
        as_of: NaiveDate,
        customer_count: usize,
        currency: Currency,
    ) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            currency,
            as_of,
            customer_count: customer_count.max(1),
            invoices_per_year: Default::default(),
            terms: Vec::new(),
        }
    }

    /// Invoices numbered per issue year so far, for the API's number sequences.
    pub(crate) fn invoices_per_year(&self) -> &std::collections::BTreeMap<i32, i64> {
        &self.invoices_per_year
    }

    /// One of `items`, drawn uniformly (the same draw as indexing with `gen_range`, so a
    /// seed gives the book it always gave). `items` is one of the non-empty tables here.
    fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let index = self.rng.gen_range(0..items.len());
        items.get(index).copied().unwrap_or_default()
    }

    /// Customers come first: invoices use their payment terms.
    pub(crate) fn customers(&mut self) -> Vec<SeedCustomer> {
        (1..=self.customer_count)
            .map(|n| {
                let word = self.pick(&COMPANY_WORDS);
                let kind = self.pick(&COMPANY_KINDS);
                let terms = self.pick(&TERMS);
                self.terms.push(terms);
                SeedCustomer {
                    code: format!("CUST-{n:05}"),
                    name: format!("{word} {kind} {n}"),
                    email: format!("billing{n}@{}.example", word.to_lowercase()),
                    phone: format!("+1-555-{:03}-{:04}", n % 1000, self.rng.gen_range(0..10000)),
                    billing_address: format!("{} Main St, Springfield", self.rng.gen_range(1..999)),
                    payment_terms_days: terms,
                    credit_limit: self
                        .rng
                        .gen_bool(0.5)
                        .then(|| Money::from_minor(self.rng.gen_range(10..500) * 100_000)),
                }
            })
            .collect()
    }

    /// Credit, drawn after every invoice so a seed still gives the invoices it gave: one
    /// customer in ten paid something on account in the last 60 days; some of it was
    /// refunded, and some of those payments bounced.
    pub(crate) fn credits(&mut self) -> Vec<SeedCredit> {
        let from = self
            .as_of
            .checked_sub_days(Days::new(60))
            .unwrap_or(self.as_of);
        (0..self.customer_count)
            .filter(|n| n % 10 == 3)
            .map(|customer| {
                let amount = self.money_between(5_000, 50_000);
                let date = self.date_between(from, self.as_of);
                let payment = SeedPayment {
                    amount,
                    date,
                    method: self.pick(&PaymentMethod::ALL),
                    reference: format!("ACC{:08}", self.rng.gen_range(0..100_000_000)),
                };
                let bounced = self.rng.gen_bool(0.15);
                let void_date = bounced.then(|| self.date_between(date, self.as_of));
                let refund = (!bounced && self.rng.gen_bool(0.3)).then(|| {
                    let part = self.money_between(100, amount.minor());
                    (part, self.date_between(date, self.as_of))
                });
                SeedCredit {
                    customer,
                    payment,
                    refund,
                    void_date,
                }
            })
            .collect()
    }

    fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0) as u64;
        from + Days::new(self.rng.gen_range(0..=span))
    }

    fn money_between(&mut self, low_minor: i64, high_minor: i64) -> Money {
        Money::from_minor(self.rng.gen_range(low_minor..=high_minor))
    }

    pub(crate) fn invoice(&mut self) -> SeedInvoice {
        if self.terms.is_empty() {
            self.customers();
        }
        let customer = self.rng.gen_range(0..self.customer_count);
        let start = self.as_of - Days::new(HISTORY_DAYS);
        let issue_date = self.date_between(start, self.as_of);
        let terms = self.terms.get(customer).copied().unwrap_or_default();
        let due_date = issue_date + Days::new(terms as u64);
        let year = issue_date.year();
        let sequence = self.invoices_per_year.entry(year).or_insert(0);
        *sequence += 1;
        let number = generated_invoice_number("INV-", year, *sequence);

        let line_count = self.rng.gen_range(1..=5);
        let lines: Vec<(LineInput, LineAmounts)> = (0..line_count)
            .map(|_| {
                let quantity = if self.rng.gen_bool(0.2) {
                    Decimal::new(self.rng.gen_range(1..80) * 5, 1) // 0.5 steps
                } else {
                    Decimal::from(self.rng.gen_range(1..20))
                };
                let unit_price =
                    Decimal::new(self.rng.gen_range(500..200_000), self.currency.exponent());
                let (rate, scale) = self.pick(&TAX_RATES);
                let tax_rate = Decimal::new(rate, scale);
                let input = LineInput {
                    description: self.pick(&SERVICES).to_string(),
                    quantity,
                    unit_price,
                    tax_rate,
                };
                // Bounded inputs: a line stays far below the money limit.
                let priced = (quantity, unit_price, tax_rate);
                let amounts = line_amounts(priced, self.currency).unwrap_or(LineAmounts {
                    subtotal: Money::ZERO,
                    tax: Money::ZERO,
                    total: Money::ZERO,
                });
                (input, amounts)
            })
            .collect();
        let amounts: Vec<LineAmounts> = lines.iter().map(|(_, a)| *a).collect();
        let totals = invoice_totals(&amounts, self.currency).unwrap_or_default();

        let roll: f64 = self.rng.gen();
        let (status, payments) = if roll < 0.02 {
            (InvoiceStatus::Draft, Vec::new())
        } else if roll < 0.03 {
            (InvoiceStatus::Void, Vec::new())
        } else {
            let payments = self.payments(issue_date, due_date, totals.total);
            let paid = Money::from_minor(payments.iter().map(|p| p.amount.minor()).sum());
            (InvoiceStatus::from_payments(totals.total, paid), payments)
        };
        SeedInvoice {
            customer,
            number,
            status,
            issue_date,
            due_date,
            lines,
            totals,
            payments,
        }
    }

    /// Older invoices are more likely settled; some stay open in every aging bucket.
    fn payments(&mut self, issue: NaiveDate, due: NaiveDate, total: Money) -> Vec<SeedPayment> {
        let days_past_due = (self.as_of - due).num_days();
        let (p_paid, p_partial) = match days_past_due {
            i64::MIN..=0 => (0.25, 0.15),
            1..=30 => (0.55, 0.15),
            31..=90 => (0.75, 0.10),
            _ => (0.93, 0.03),
        };
        let roll: f64 = self.rng.gen();
        let latest = self.as_of.min(due + Days::new(45));
        let pay = |rng: &mut Self, amount: Money| SeedPayment {
            amount,
            date: rng.date_between(issue, latest.max(issue)),
            method: rng.pick(&PaymentMethod::ALL),
            reference: format!("TXN{:08}", rng.rng.gen_range(0..100_000_000)),
        };
        if roll < p_paid {
            if total.minor() >= 200 && self.rng.gen_bool(0.3) {
                let first = self.money_between(1, total.minor() - 1);
                let rest = Money::from_minor(total.minor() - first.minor());
                let mut both = vec![pay(self, first), pay(self, rest)];
                both.sort_by_key(|p| p.date);
                both
            } else {
                vec![pay(self, total)]
            }
        } else if roll < p_paid + p_partial && total.minor() >= 2 {
            let part = self.money_between(1, total.minor() - 1);
            vec![pay(self, part)]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_book_must_fit_inside_the_supported_dates() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(super::check_as_of(day(2026, 11, 1)).is_ok());
        assert!(super::check_as_of(day(1903, 1, 1)).is_ok());
        assert!(super::check_as_of(day(1902, 12, 1)).is_err());
        assert!(super::check_as_of(day(9999, 10, 31)).is_ok());
        assert!(super::check_as_of(day(9999, 12, 31)).is_err());
    }

    use super::*;

    #[test]
    fn same_seed_same_book_and_amounts_follow_the_rules() {
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let mut a = Generator::new(7, as_of, 10, Currency::USD);
        let mut b = Generator::new(7, as_of, 10, Currency::USD);
        assert_eq!(a.customers()[3].name, b.customers()[3].name);
        for _ in 0..500 {
            let (x, y) = (a.invoice(), b.invoice());
            assert_eq!(
                (x.number.clone(), x.totals, x.amount_paid()),
                (y.number.clone(), y.totals, y.amount_paid())
            );
            assert!(x.amount_paid() <= x.totals.total);
            assert!(x
                .payments
                .iter()
                .all(|p| p.date >= x.issue_date && p.date <= as_of));
            assert!(x.issue_date <= as_of && x.due_date >= x.issue_date);
        }
        assert_ne!(
            Generator::new(8, as_of, 10, Currency::USD).invoice().totals,
            Generator::new(7, as_of, 10, Currency::USD).invoice().totals
        );
    }
}
