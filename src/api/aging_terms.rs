//! The aging report on the caller's terms (`buckets`, `age_by`, `detail=invoices`) and
//! the checks it then carries. The rule is `domain::aging_terms`; the open invoices and the
//! independent recount come from `db::aging_detail`.

use std::collections::HashMap;

use chrono::NaiveDate;
use poem_openapi::{Enum, Object};

use super::aging_held::{HeldInvoice, HeldInvoices};
use super::reports::{customer_to_api, AgingCustomer, AgingReport};
use super::types::{Amount, Date};
use crate::db::aging_detail::OpenInvoice;
use crate::db::reports::CustomerAging;
use crate::domain::aging_terms::{AgeBy, Span, Terms};
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

/// The report's buckets on the caller's terms, sorted once from the open invoices: the
/// totals' sums, and each customer's sums (with `detail`, its invoices as read). A
/// customer's line is made from them only as it is written, so the report never holds
/// every customer's wire form, nor every invoice's.
pub(crate) struct OnTerms {
    terms: Terms,
    spans: Vec<Span>,
    detail: bool,
    as_of: NaiveDate,
    currency: Currency,
    totals: Vec<i64>,
    /// Each customer's sums, one row of `spans.len()` in `sums`, found by `slot_of`: one
    /// vector for all, not one each.
    slot_of: HashMap<i64, usize>,
    sums: Vec<i64>,
    held: HeldInvoices,
}

impl OnTerms {
    /// No invoices yet, on `terms` at `as_of`; with `detail`, each customer's invoices
    /// are kept for its line.
    pub(crate) fn new(
        (terms, detail): (Terms, bool),
        (as_of, currency): (NaiveDate, Currency),
    ) -> OnTerms {
        let spans = terms.spans();
        OnTerms {
            totals: vec![0; spans.len()],
            slot_of: HashMap::new(),
            sums: Vec::new(),
            held: HeldInvoices::default(),
            terms,
            spans,
            detail,
            as_of,
            currency,
        }
    }

    /// An open invoice, in its bucket.
    pub(crate) fn add(&mut self, invoice: OpenInvoice) {
        let index = self
            .terms
            .bucket_of(self.days(invoice.issue_date, invoice.due_date));
        let width = self.spans.len();
        let next = self.slot_of.len();
        let slot = *self.slot_of.entry(invoice.customer_id).or_insert(next);
        if slot == next {
            self.sums.resize(self.sums.len() + width, 0);
        }
        let row = self.sums.get_mut(slot * width..(slot + 1) * width);
        let mine = row.and_then(|row| row.get_mut(index));
        for sum in [mine, self.totals.get_mut(index)].into_iter().flatten() {
            *sum = sum.saturating_add(invoice.amount.minor());
        }
        if self.detail {
            self.held.push(invoice);
        }
    }

    /// `frame` (the report without its customers) with the totals' buckets, `age_by` and
    /// the checks (of `customers`' totals, and against `recount`). The kept invoices are
    /// put in customer order here, should they have come in another.
    pub(crate) fn frame(
        &mut self,
        mut frame: AgingReport,
        customers: &[CustomerAging],
        recount: Money,
    ) -> AgingReport {
        self.held.by_customer();
        frame.totals.buckets = Some(self.buckets(&self.totals));
        frame.age_by = Some(match self.terms.age_by {
            AgeBy::DueDate => AgeByParam::DueDate,
            AgeBy::IssueDate => AgeByParam::IssueDate,
        });
        let customers_sum = customers.iter().map(|c| c.totals.total.minor()).sum();
        let sums = (self.totals.iter().sum(), customers_sum);
        frame.checks = Some(checks(&frame, sums, recount));
        frame
    }

    /// `customer`'s line: the plain one with its buckets on the terms (and its invoices).
    pub(crate) fn line(&self, customer: &CustomerAging) -> AgingCustomer {
        let mut line = customer_to_api(customer, self.currency);
        let width = self.spans.len();
        let sums = self
            .slot_of
            .get(&customer.customer_id)
            .and_then(|slot| self.sums.get(slot * width..(slot + 1) * width));
        line.buckets = Some(match sums {
            Some(sums) => self.buckets(sums),
            None => self.buckets(&vec![0; width]),
        });
        line.invoices = self.detail.then(|| {
            let held = self.held.of(customer.customer_id);
            held.map(|(invoice, number)| self.invoice_line(invoice, number))
                .collect()
        });
        line
    }

    /// Days from the invoice's due date (or issue date) to the report's date.
    fn days(&self, issue_date: NaiveDate, due_date: NaiveDate) -> i64 {
        let from = match self.terms.age_by {
            AgeBy::DueDate => due_date,
            AgeBy::IssueDate => issue_date,
        };
        (self.as_of - from).num_days()
    }

    fn invoice_line(&self, invoice: &HeldInvoice, number: &str) -> AgingInvoice {
        let days = self.days(invoice.issue_date, invoice.due_date);
        AgingInvoice {
            invoice_id: invoice.id,
            invoice_number: number.to_owned(),
            issue_date: Date(invoice.issue_date),
            due_date: Date(invoice.due_date),
            days,
            bucket: self
                .spans
                .get(self.terms.bucket_of(days))
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            open_amount: Amount::new(Money::from_minor(invoice.amount), self.currency),
        }
    }

    fn buckets(&self, sums: &[i64]) -> Vec<AgingBucket> {
        self.spans
            .iter()
            .zip(sums)
            .map(|(span, sum)| AgingBucket {
                label: span.label.clone(),
                from_days: span.from,
                to_days: span.to,
                amount: Amount::new(Money::from_minor(*sum), self.currency),
            })
            .collect()
    }
}

fn checks(
    report: &AgingReport,
    (buckets_sum, customers_sum): (i64, i64),
    recount: Money,
) -> AgingChecks {
    let total = report.totals.total.money;
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
