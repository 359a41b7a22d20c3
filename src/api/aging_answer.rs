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
use super::reports::{customer_to_api, AgingCustomer, AgingReport};
use super::Done;
use crate::db::reports::CustomerAging;
use crate::domain::currency::Currency;
use crate::error::AppError;

/// Where the customers go: the report serialized with none reads `…"customers":[]…`, and
/// they are written between the brackets, so the bytes are serde's for the whole report.
const CUSTOMERS_OPEN: &str = "\"customers\":[";

/// How each customer's line is made from the customer as read, only as it is written:
/// the plain line, or the line with buckets (and invoices) on the caller's terms.
pub(crate) type LineOf = Box<dyn Fn(&CustomerAging) -> AgingCustomer + Send>;

/// The plain line of each customer, in `currency`.
pub(crate) fn plain_lines(currency: Currency) -> LineOf {
    Box::new(move |customer| customer_to_api(customer, currency))
}

/// The JSON answer of the report `frame` (all of it but its customers) listing
/// `customers` as `line` makes them: whole when it fits in one piece, else written as it
/// is sent (its length counted first, so the answer stays length-framed).
pub(crate) fn aging_answer(
    frame: AgingReport,
    customers: Vec<CustomerAging>,
    line: LineOf,
) -> Done<AgingReport> {
    let mut head = to_json_text(&frame);
    let Some(at) = head.find(CUSTOMERS_OPEN) else {
        // Not reached (the report always has its customers), but never a wrong answer.
        return whole(frame, &customers, &line);
    };
    let tail = head.split_off(at + CUSTOMERS_OPEN.len());
    let commas = customers.len().saturating_sub(1);
    let length = head.len()
        + customers
            .iter()
            .map(|c| json_length(&line(c)))
            .sum::<usize>()
        + commas
        + tail.len();
    if length <= ANSWER_PIECE {
        return whole(frame, &customers, &line);
    }
    Done::written(WrittenAnswer {
        length,
        source: Box::new(CustomerPieces {
            head: Some(head),
            customers: customers.into_iter(),
            written_one: false,
            tail: Some(tail),
            line,
        }),
    })
}

/// The answer of `frame` listing `customers`, serialized whole.
fn whole(mut frame: AgingReport, customers: &[CustomerAging], line: &LineOf) -> Done<AgingReport> {
    frame.customers = customers.iter().map(line).collect();
    Done::of(&frame)
}

/// The report's text in pieces of about [`ANSWER_PIECE`]: the text before the customers,
/// as many customers as fill a piece at a time, then the text after them.
struct CustomerPieces {
    head: Option<String>,
    customers: std::vec::IntoIter<CustomerAging>,
    written_one: bool,
    tail: Option<String>,
    line: LineOf,
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
            let _ = serde_json::to_writer(&mut piece, &(self.line)(&customer));
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

/// The report `frame` as CSV: a row a customer (each made by `line` as its row is
/// written, so the customers are never held in their wire form, nor all their rows at
/// once), then the totals; the bucket columns are the report's own (on the caller's terms
/// when it has them).
pub(crate) fn aging_csv(
    frame: &AgingReport,
    customers: &[CustomerAging],
    line: &LineOf,
) -> Result<CsvFile, AppError> {
    let count = customers.iter().map(|c| c.invoice_count).sum();
    let code = frame.currency.0.to_string();
    let rows = customers.iter().map(|c| customer_row(&line(c), &code));
    csv_of(frame, rows, count)
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
    use crate::api::aging_terms::OnTerms;
    use crate::api::reports::frame_of;
    use crate::api::types::CurrencyCode;
    use crate::db::aging_detail::OpenInvoice;
    use crate::db::reports::Aging;
    use crate::domain::aging::{AgingTotals, Bucket};
    use crate::domain::aging_terms::{AgeBy, Terms};
    use crate::domain::money::Money;

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    fn jpy() -> Currency {
        Currency::parse("JPY").unwrap()
    }

    /// A report of `count` customers whose names need escaping, in JPY (no decimals) and
    /// listing another currency, so every part of the text is there.
    fn aging_of(count: i64) -> (AgingReport, Vec<CustomerAging>) {
        let mut totals = AgingTotals::default();
        let customers = (1..=count)
            .map(|id| {
                let mut owed = AgingTotals::default();
                let bucket = Bucket::ALL[(id % 5) as usize];
                owed.add(bucket, Money::from_minor(id * 1_234));
                totals.add(bucket, Money::from_minor(id * 1_234));
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
            as_of: as_of(),
            totals,
            customers: Vec::new(),
            unapplied_credit: Money::from_minor(99),
        };
        let others = vec![CurrencyCode(Currency::USD)];
        (frame_of(&aging, (jpy(), others)), customers)
    }

    /// Each customer's invoices, every third customer with none, on terms with `detail`.
    fn on_terms(customers: &[CustomerAging], detail: bool) -> OnTerms {
        let open: Vec<_> = customers
            .iter()
            .filter(|c| c.customer_id % 3 != 0)
            .flat_map(|c| {
                (0..c.invoice_count).map(move |n| OpenInvoice {
                    id: c.customer_id * 10 + n,
                    customer_id: c.customer_id,
                    invoice_number: format!("INV-{}-{n}", c.customer_id),
                    issue_date: as_of() - chrono::Days::new(40 * n as u64 + 3),
                    due_date: as_of() - chrono::Days::new(30 * n as u64),
                    amount: Money::from_minor(c.customer_id * 100 + n),
                })
            })
            .collect();
        let terms = Terms {
            edges: vec![15, 45, 120],
            age_by: AgeBy::IssueDate,
        };
        let mut on_terms = OnTerms::new((terms, detail), (as_of(), jpy()));
        open.into_iter().for_each(|invoice| on_terms.add(invoice));
        on_terms
    }

    /// The answer's text and `Content-Length`, and the report's text serialized whole.
    async fn answered(
        (frame, customers): (AgingReport, Vec<CustomerAging>),
        line: LineOf,
    ) -> (String, Option<String>, String) {
        let mut report = frame.clone();
        report.customers = customers.iter().map(&line).collect();
        let whole = to_json_text(&report);
        let response = aging_answer(frame, customers, line).into_response();
        let length = response
            .headers()
            .get("content-length")
            .map(|value| value.to_str().unwrap().to_string());
        let body = response.into_body().into_string().await.unwrap();
        (whole, length, body)
    }

    #[tokio::test]
    async fn a_long_report_written_in_pieces_is_the_whole_reports_text() {
        let (whole, length, body) = answered(aging_of(2_000), plain_lines(jpy())).await;
        assert!(whole.len() > 20 * ANSWER_PIECE, "{} bytes", whole.len());
        assert_eq!(body, whole);
        assert_eq!(length, Some(whole.len().to_string()));
    }

    #[tokio::test]
    async fn a_report_on_terms_written_in_pieces_is_the_whole_reports_text() {
        for detail in [false, true] {
            let (frame, customers) = aging_of(2_000);
            let mut terms = on_terms(&customers, detail);
            let frame = terms.frame(frame, &customers, Money::from_minor(7));
            let line: LineOf = Box::new(move |c| terms.line(c));
            let (whole, length, body) = answered((frame, customers), line).await;
            assert!(whole.len() > 20 * ANSWER_PIECE, "{} bytes", whole.len());
            assert!(whole.contains("\"days_16_45\""), "the terms' buckets");
            assert_eq!(
                whole.contains("\"INV-2-1\""),
                detail,
                "invoices with detail"
            );
            assert_eq!(body, whole, "detail: {detail}");
            assert_eq!(length, Some(whole.len().to_string()));
        }
    }

    /// The CSV made row by row is the one made from the whole report's lines.
    #[tokio::test]
    async fn the_reports_csv_is_made_from_the_same_lines() {
        for count in [0, 3, 2_000] {
            let (frame, customers) = aging_of(count);
            let line = plain_lines(jpy());
            let mut report = frame.clone();
            report.customers = customers.iter().map(&line).collect();
            let rows = report.customers.iter().map(|c| customer_row(c, "JPY"));
            let whole = csv_of(
                &report,
                rows,
                customers.iter().map(|c| c.invoice_count).sum(),
            );
            let made = aging_csv(&frame, &customers, &line)
                .unwrap()
                .into_response();
            let length = made.headers().get("content-length").cloned();
            let made = made.into_body().into_string().await.unwrap();
            let whole = whole.unwrap().into_response().into_body();
            let whole = whole.into_string().await.unwrap();
            if made.len() > ANSWER_PIECE {
                // Sent in pieces, and length-framed all the same.
                assert_eq!(length.unwrap().to_str().unwrap(), made.len().to_string());
            }
            let records = csv::Reader::from_reader(whole.as_bytes()).records().count();
            assert_eq!(
                records as i64,
                count + 1,
                "a row a customer, and the totals"
            );
            assert_eq!(made, whole, "{count} customers");
        }
    }

    #[tokio::test]
    async fn a_short_report_and_an_empty_one_are_the_whole_reports_text() {
        for count in [0, 1, 3] {
            let (whole, _, body) = answered(aging_of(count), plain_lines(jpy())).await;
            assert!(whole.len() < ANSWER_PIECE);
            assert_eq!(body, whole, "{count} customers");
        }
    }
}
