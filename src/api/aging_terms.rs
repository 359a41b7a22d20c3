//! The aging report on the caller's terms (`buckets`, `age_by`, `detail=invoices`) and
//! the checks it then carries. The rule is `domain::aging_terms`; the open invoices and the
//! independent recount come from `db::aging_detail`.

use std::collections::BTreeMap;

use poem_openapi::{Enum, Object};

use super::reports::AgingReport;
use super::types::{Amount, Date};
use crate::db::aging_detail::OpenInvoice;
use crate::domain::aging_terms::{AgeBy, Terms};
use crate::domain::currency::Currency;
use crate::domain::money::Money;

/// The date an invoice's age counts from.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub(crate) enum AgeByParam {
    DueDate,
    IssueDate,
}

impl From<AgeByParam> for AgeBy {
    fn from(value: AgeByParam) -> Self {
        match value {
            AgeByParam::DueDate => AgeBy::DueDate,
            AgeByParam::IssueDate => AgeBy::IssueDate,
        }
    }
}

/// What to list under each customer.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub(crate) enum AgingDetail {
    Invoices,
}

/// One bucket on the report's terms: the days it holds (null where open-ended).
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingBucket {
    /// `current`, `days_1_30`, …, `days_over_90`.
    pub label: String,
    pub from_days: Option<i64>,
    pub to_days: Option<i64>,
    pub amount: Amount,
}

/// An invoice open at `as_of`, in its bucket.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingInvoice {
    pub invoice_id: i64,
    pub invoice_number: String,
    pub issue_date: Date,
    pub due_date: Date,
    /// Days from its due date (or issue date, by `age_by`) to `as_of`.
    pub days: i64,
    pub bucket: String,
    pub open_amount: Amount,
}

/// One check of the report's arithmetic, with its figures.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingCheck {
    pub holds: bool,
    /// The report's total.
    pub total: Amount,
    /// What was added up or counted to compare with it.
    pub compared_with: Amount,
}

/// The report checked against itself and against the records: `buckets_sum_to_total` (the
/// totals' buckets, on the report's terms, add up to the total), `customers_sum_to_totals`
/// (the customers' totals add up to it) and `total_equals_recount` (it equals the open
/// amounts counted again from invoices, allocations and write-offs alone).
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingChecks {
    pub buckets_sum_to_total: AgingCheck,
    pub customers_sum_to_totals: AgingCheck,
    pub total_equals_recount: AgingCheck,
}

/// `report` with buckets on `terms` for its totals and each customer, the open invoices
/// under each customer when `detail`, and the checks (against `recount`).
pub(crate) fn on_terms(
    mut report: AgingReport,
    (terms, detail): (&Terms, bool),
    open: Vec<OpenInvoice>,
    (recount, currency): (Money, Currency),
) -> AgingReport {
    let spans = terms.spans();
    let amount = |money| Amount::new(money, currency);
    let mut by_customer: BTreeMap<i64, (Vec<i64>, Vec<AgingInvoice>)> = BTreeMap::new();
    let mut totals = vec![0_i64; spans.len()];
    for invoice in open {
        let from = match terms.age_by {
            AgeBy::DueDate => invoice.due_date,
            AgeBy::IssueDate => invoice.issue_date,
        };
        let days = (report.as_of.0 - from).num_days();
        let index = terms.bucket_of(days);
        let (sums, invoices) = by_customer
            .entry(invoice.customer_id)
            .or_insert_with(|| (vec![0; spans.len()], Vec::new()));
        for slot in [sums.get_mut(index), totals.get_mut(index)]
            .into_iter()
            .flatten()
        {
            *slot = slot.saturating_add(invoice.amount.minor());
        }
        if detail {
            invoices.push(AgingInvoice {
                invoice_id: invoice.id,
                invoice_number: invoice.invoice_number,
                issue_date: Date(invoice.issue_date),
                due_date: Date(invoice.due_date),
                days,
                bucket: spans
                    .get(index)
                    .map(|s| s.label.clone())
                    .unwrap_or_default(),
                open_amount: amount(invoice.amount),
            });
        }
    }
    let buckets = |sums: &[i64]| -> Vec<AgingBucket> {
        spans
            .iter()
            .zip(sums)
            .map(|(span, sum)| AgingBucket {
                label: span.label.clone(),
                from_days: span.from,
                to_days: span.to,
                amount: amount(Money::from_minor(*sum)),
            })
            .collect()
    };
    for customer in &mut report.customers {
        let (sums, invoices) = by_customer
            .remove(&customer.customer_id)
            .unwrap_or_default();
        let sums = if sums.is_empty() {
            vec![0; spans.len()]
        } else {
            sums
        };
        customer.buckets = Some(buckets(&sums));
        customer.invoices = detail.then_some(invoices);
    }
    report.totals.buckets = Some(buckets(&totals));
    report.age_by = Some(match terms.age_by {
        AgeBy::DueDate => AgeByParam::DueDate,
        AgeBy::IssueDate => AgeByParam::IssueDate,
    });
    report.checks = Some(checks(&report, totals.iter().sum(), recount));
    report
}

fn checks(report: &AgingReport, buckets_sum: i64, recount: Money) -> AgingChecks {
    let total = report.totals.total.money;
    let customers_sum: i64 = report.customers.iter().map(|c| c.total.money.minor()).sum();
    let places = &report.totals.total;
    let check = |found: i64| AgingCheck {
        holds: found == total.minor(),
        total: *places,
        compared_with: Amount::new(Money::from_minor(found), report.currency.0),
    };
    AgingChecks {
        buckets_sum_to_total: check(buckets_sum),
        customers_sum_to_totals: check(customers_sum),
        total_equals_recount: check(recount.minor()),
    }
}
