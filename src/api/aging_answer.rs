//! The plain aging report's JSON, written customer by customer as it is sent. The report
//! lists every customer who owes; built whole, its text and every customer's wire form were
//! held at once, so a book whose 34,220 customers owed peaked at 83 MiB (issue 16's
//! target is 64). Written in pieces, the answer holds the customers as read and one piece.

use bytes::Bytes;
use serde::Serialize;

use super::aging_terms::AgingBucket;
use super::answer::to_json_text;
use super::documents::CsvFile;
use super::export::cells;
use super::middleware::{PieceSource, WrittenAnswer, ANSWER_PIECE};
use super::reports::{
    customer_to_api, frame_of, with_customers, AgingCustomer, AgingReport, Currencies,
};
use super::Done;
use crate::db::reports::{Aging, CustomerAging};
use crate::domain::currency::Currency;
use crate::error::AppError;

/// Where the customers go: the report serialized with none reads `…"customers":[]…`, and
/// they are written between the brackets, so the bytes are serde's for the whole report.
const CUSTOMERS_OPEN: &str = "\"customers\":[";

/// The JSON answer of `aging`: whole when it fits in one piece, else written as it is sent
/// (its length counted first, so the answer stays length-framed).
pub(crate) fn aging_answer(mut aging: Aging, currencies: Currencies) -> Done<AgingReport> {
    let customers = std::mem::take(&mut aging.customers);
    let currency = currencies.0;
    let report = frame_of(&aging, currencies);
    let mut head = to_json_text(&report);
    let Some(at) = head.find(CUSTOMERS_OPEN) else {
        // Not reached (the report always has its customers), but never a wrong answer.
        return whole(report, &customers, currency);
    };
    let tail = head.split_off(at + CUSTOMERS_OPEN.len());
    let commas = customers.len().saturating_sub(1);
    let length = head.len()
        + customers
            .iter()
            .map(|c| json_length(&customer_to_api(c, currency)))
            .sum::<usize>()
        + commas
        + tail.len();
    if length <= ANSWER_PIECE {
        return whole(report, &customers, currency);
    }
    Done::written(WrittenAnswer {
        length,
        source: Box::new(CustomerPieces {
            head: Some(head),
            customers: customers.into_iter(),
            written_one: false,
            tail: Some(tail),
            currency,
        }),
    })
}

/// The answer of `report` with `customers`, serialized whole.
fn whole(
    report: AgingReport,
    customers: &[CustomerAging],
    currency: Currency,
) -> Done<AgingReport> {
    Done::of(&with_customers(report, customers, currency))
}

/// The report's text in pieces of about [`ANSWER_PIECE`]: the text before the customers,
/// as many customers as fill a piece at a time, then the text after them.
struct CustomerPieces {
    head: Option<String>,
    customers: std::vec::IntoIter<CustomerAging>,
    written_one: bool,
    tail: Option<String>,
    currency: Currency,
}

impl PieceSource for CustomerPieces {
    fn next_piece(&mut self) -> Option<Bytes> {
        let mut piece = Vec::with_capacity(ANSWER_PIECE + 1024);
        if let Some(head) = self.head.take() {
            piece.extend_from_slice(head.as_bytes());
        }
        while piece.len() < ANSWER_PIECE {
            let Some(customer) = self.customers.next() else {
                if let Some(tail) = self.tail.take() {
                    piece.extend_from_slice(tail.as_bytes());
                }
                break;
            };
            if self.written_one {
                piece.push(b',');
            }
            self.written_one = true;
            // Serializing a plain struct into memory cannot fail.
            let _ = serde_json::to_writer(&mut piece, &customer_to_api(&customer, self.currency));
        }
        (!piece.is_empty()).then(|| Bytes::from(piece))
    }
}

/// The length of `value`'s JSON, counted without keeping it.
fn json_length<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The aging report as CSV: a row a customer, then the totals; the bucket columns are the
/// report's own (on the caller's terms when it has them).
pub(crate) fn aging_csv(report: &AgingReport) -> Result<CsvFile, AppError> {
    let count = report.customers.iter().map(|c| c.invoice_count).sum();
    let currency = report.currency.0.to_string();
    let rows = report.customers.iter().map(|c| customer_row(c, &currency));
    csv_of(report, rows, count)
}

/// [`aging_csv`] of the plain report, each customer's line made as its row is written, so
/// the customers are never held in their wire form, nor all their rows at once.
pub(crate) fn plain_aging_csv(
    mut aging: Aging,
    currencies: Currencies,
) -> Result<CsvFile, AppError> {
    let customers = std::mem::take(&mut aging.customers);
    let count = customers.iter().map(|c| c.invoice_count).sum();
    let currency = currencies.0;
    let report = frame_of(&aging, currencies);
    let code = report.currency.0.to_string();
    let rows = customers
        .iter()
        .map(|c| customer_row(&customer_to_api(c, currency), &code));
    csv_of(&report, rows, count)
}

/// The five standard bucket columns, and the columns after the buckets.
const STANDARD: [&str; 5] = [
    "current",
    "days_1_30",
    "days_31_60",
    "days_61_90",
    "days_over_90",
];
const AFTER: [&str; 4] = ["total", "invoice_count", "unapplied_credit", "net"];

/// The header, `rows`, then the totals row (over `invoice_count` invoices).
fn csv_of(
    report: &AgingReport,
    rows: impl Iterator<Item = Vec<String>>,
    invoice_count: i64,
) -> Result<CsvFile, AppError> {
    let labels: Vec<String> = match &report.totals.buckets {
        Some(buckets) => buckets.iter().map(|b| b.label.clone()).collect(),
        None => STANDARD.map(String::from).to_vec(),
    };
    let t = &report.totals;
    let rest = vec![
        cells(t, &["total"]).concat(),
        invoice_count.to_string(),
        cells(t, &["unapplied_credit"]).concat(),
        cells(t, &["net"]).concat(),
    ];
    let who = vec![String::new(), String::new(), "Total".to_owned()];
    let currency = report.currency.0.to_string();
    let totals = csv_row(
        (who, &t.buckets, rest),
        &|columns| cells(t, columns),
        &currency,
    );
    let mut header: Vec<&str> = vec!["customer_id", "customer_code", "name"];
    header.extend(labels.iter().map(String::as_str));
    header.extend(AFTER);
    header.push("currency");
    let name = format!("aging-{}.csv", report.as_of.0);
    CsvFile::of(name, &header, rows.chain(std::iter::once(totals)))
}

/// One customer's row.
fn customer_row(c: &AgingCustomer, currency: &str) -> Vec<String> {
    let who = cells(c, &["customer_id", "customer_code", "name"]);
    let rest = cells(c, &AFTER);
    csv_row(
        (who, &c.buckets, rest),
        &|columns| cells(c, columns),
        currency,
    )
}

/// A row: who, the buckets (the report's own terms, else the standard five from
/// `standard`), the rest, and the currency.
fn csv_row(
    (who, buckets, rest): (Vec<String>, &Option<Vec<AgingBucket>>, Vec<String>),
    standard: &dyn Fn(&[&str]) -> Vec<String>,
    currency: &str,
) -> Vec<String> {
    let mut row = who;
    match buckets {
        Some(buckets) => row.extend(buckets.iter().map(|b| b.amount.json_text())),
        None => row.extend(standard(&STANDARD)),
    }
    row.extend(rest);
    row.push(currency.to_string());
    row
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use poem::IntoResponse;

    use super::*;
    use crate::api::reports::aging_to_api;
    use crate::api::types::CurrencyCode;
    use crate::domain::aging::{AgingTotals, Bucket};
    use crate::domain::money::Money;

    /// A report of `count` customers whose names need escaping, in JPY (no decimals) and
    /// listing another currency, so every part of the text is there.
    fn aging_of(count: i64) -> (Aging, Currencies) {
        let mut totals = AgingTotals::default();
        let customers = (1..=count)
            .map(|id| {
                let mut owed = AgingTotals::default();
                owed.add(
                    Bucket::ALL[(id % 5) as usize],
                    Money::from_minor(id * 1_234),
                );
                totals.add(
                    Bucket::ALL[(id % 5) as usize],
                    Money::from_minor(id * 1_234),
                );
                CustomerAging {
                    customer_id: id,
                    customer_code: format!("C-{id:05}"),
                    name: format!("Müller \"& Söhne\" \\ {id}\n"),
                    totals: owed,
                    invoice_count: id % 7 + 1,
                    overdue_invoice_count: id % 3,
                    unapplied_credit: Money::from_minor(id % 11),
                }
            })
            .collect();
        let aging = Aging {
            as_of: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            totals,
            customers,
            unapplied_credit: Money::from_minor(99),
        };
        let jpy = Currency::parse("JPY").unwrap();
        let others = vec![CurrencyCode(Currency::USD)];
        (aging, (jpy, others))
    }

    async fn answered(count: i64) -> (String, Option<String>, String) {
        let (aging, currencies) = aging_of(count);
        let whole = to_json_text(&aging_to_api(aging.clone(), currencies.clone()));
        let response = aging_answer(aging, currencies).into_response();
        let length = response
            .headers()
            .get("content-length")
            .map(|value| value.to_str().unwrap().to_string());
        let body = response.into_body().into_string().await.unwrap();
        (whole, length, body)
    }

    #[tokio::test]
    async fn a_long_report_written_in_pieces_is_the_whole_reports_text() {
        let (whole, length, body) = answered(2_000).await;
        assert!(whole.len() > 20 * ANSWER_PIECE, "{} bytes", whole.len());
        assert_eq!(body, whole);
        assert_eq!(length, Some(whole.len().to_string()));
    }

    #[tokio::test]
    async fn the_plain_reports_csv_is_the_whole_reports_csv() {
        for count in [0, 3, 2_000] {
            let (aging, currencies) = aging_of(count);
            let whole = aging_csv(&aging_to_api(aging.clone(), currencies.clone())).unwrap();
            let plain = plain_aging_csv(aging, currencies).unwrap();
            let plain = plain.into_response();
            let length = plain.headers().get("content-length").cloned();
            let plain = plain.into_body().into_string().await.unwrap();
            let whole = whole
                .into_response()
                .into_body()
                .into_string()
                .await
                .unwrap();
            if plain.len() > ANSWER_PIECE {
                // Sent in pieces, and length-framed all the same.
                assert_eq!(length.unwrap().to_str().unwrap(), plain.len().to_string());
            }
            let records = csv::Reader::from_reader(whole.as_bytes()).records().count();
            assert_eq!(
                records as i64,
                count + 1,
                "a row a customer, and the totals"
            );
            assert_eq!(plain, whole, "{count} customers");
        }
    }

    #[tokio::test]
    async fn a_short_report_and_an_empty_one_are_the_whole_reports_text() {
        for count in [0, 1, 3] {
            let (whole, _, body) = answered(count).await;
            assert!(whole.len() < ANSWER_PIECE);
            assert_eq!(body, whole, "{count} customers");
        }
    }
}
