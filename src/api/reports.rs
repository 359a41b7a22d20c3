//! `/v1/reports`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::error::ReadError;
use super::scopes::scope_of;
use super::types::{Amount, Date, DecimalOut, Opt};
use super::{AppState, Done, Tag};
use crate::db::reports::{self as store};
use crate::domain::aging::{average_days, dso, AgingTotals};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::money::Money;

/// Open amounts by days past due (`as_of − due_date`); the five buckets sum to `total`.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingBuckets {
    /// Not yet past due (0 days or fewer).
    pub current: Amount,
    pub days_1_30: Amount,
    pub days_31_60: Amount,
    pub days_61_90: Amount,
    pub days_over_90: Amount,
    pub total: Amount,
    /// Customers' unapplied credit at `as_of`: a separate column, never a negative bucket.
    pub unapplied_credit: Amount,
    /// `total` − `unapplied_credit`.
    pub net: Amount,
}

impl AgingBuckets {
    fn of(t: AgingTotals, unapplied_credit: Money) -> Self {
        AgingBuckets {
            current: Amount(t.current),
            days_1_30: Amount(t.days_1_30),
            days_31_60: Amount(t.days_31_60),
            days_61_90: Amount(t.days_61_90),
            days_over_90: Amount(t.days_over_90),
            total: Amount(t.total),
            unapplied_credit: Amount(unapplied_credit),
            net: Amount(net(t.total, unapplied_credit)),
        }
    }
}

/// What is owed net of credit.
fn net(total: Money, credit: Money) -> Money {
    Money::from_minor(total.minor() - credit.minor())
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingCustomer {
    pub customer_id: i64,
    pub customer_code: String,
    pub name: String,
    pub current: Amount,
    pub days_1_30: Amount,
    pub days_31_60: Amount,
    pub days_61_90: Amount,
    pub days_over_90: Amount,
    pub total: Amount,
    /// Invoices with an open amount at `as_of`.
    pub invoice_count: i64,
    /// The customer's unapplied credit at `as_of`.
    pub unapplied_credit: Amount,
    /// `total` − `unapplied_credit`.
    pub net: Amount,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingReport {
    pub as_of: Date,
    pub totals: AgingBuckets,
    /// Customers with an open amount or unapplied credit, by total descending.
    pub customers: Vec<AgingCustomer>,
}

fn aging_to_api(aging: store::Aging) -> AgingReport {
    AgingReport {
        as_of: Date(aging.as_of),
        totals: AgingBuckets::of(aging.totals, aging.unapplied_credit),
        customers: aging
            .customers
            .into_iter()
            .map(|c| AgingCustomer {
                customer_id: c.customer_id,
                customer_code: c.customer_code,
                name: c.name,
                current: Amount(c.totals.current),
                days_1_30: Amount(c.totals.days_1_30),
                days_31_60: Amount(c.totals.days_31_60),
                days_61_90: Amount(c.totals.days_61_90),
                days_over_90: Amount(c.totals.days_over_90),
                total: Amount(c.totals.total),
                invoice_count: c.invoice_count,
                unapplied_credit: Amount(c.unapplied_credit),
                net: Amount(net(c.totals.total, c.unapplied_credit)),
            })
            .collect(),
    }
}

/// Invoices issued on or before `as_of`, by their current status.
#[derive(Object, Debug, Clone, Default, serde::Serialize)]
pub(crate) struct StatusCounts {
    pub draft: i64,
    pub sent: i64,
    pub partially_paid: i64,
    pub paid: i64,
    pub void: i64,
    /// Closed with a write-off among what closed them.
    pub written_off: i64,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct Debtor {
    pub customer_id: i64,
    pub customer_code: String,
    pub name: String,
    pub outstanding: Amount,
    pub overdue: Amount,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct DashboardReport {
    pub as_of: Date,
    /// Open receivables at `as_of`; equals the aging report's total for the same date.
    pub total_outstanding: Amount,
    /// The part of `total_outstanding` past due at `as_of`.
    pub total_overdue: Amount,
    pub overdue_invoice_count: i64,
    pub open_invoice_count: i64,
    pub invoice_counts_by_status: StatusCounts,
    /// Totals of invoices (not draft, not void) issued in the 30 days ending at `as_of`.
    pub invoiced_last_30_days: Amount,
    /// Payments dated in the 30 days ending at `as_of`, less payments voided in them: negative
    /// when more bounced in the window than came in.
    pub collected_last_30_days: Amount,
    /// Totals of invoices (not draft, not void) issued in the 90 days ending at `as_of`, less
    /// credit notes issued in them (and not voided in them).
    pub credit_sales_last_90_days: Amount,
    /// Days sales outstanding, one decimal; null without credit sales in the period.
    pub dso: Option<DecimalOut>,
    pub dso_formula: String,
    /// Mean days from issue to final payment over invoices fully paid by `as_of`; null when none.
    pub average_days_to_pay: Option<DecimalOut>,
    pub aging: AgingBuckets,
    /// The five customers owing the most at `as_of`.
    pub top_debtors: Vec<Debtor>,
    /// Refunds dated in the 30 days ending at `as_of`.
    pub refunded_last_30_days: Amount,
    /// Customers' unapplied credit at `as_of`.
    pub total_unapplied_credit: Amount,
    /// Credit notes issued in the 30 days ending at `as_of`, less credit notes voided in them.
    pub credited_last_30_days: Amount,
    /// Write-offs dated in the 30 days ending at `as_of`, less write-offs reversed in them.
    pub written_off_last_30_days: Amount,
}

#[derive(Default)]
pub(crate) struct ReportsApi;

#[OpenApi(tag = "Tag::Reports")]
impl ReportsApi {
    /// Get aging report
    ///
    /// Historical: an invoice counts when it was issued on or before `as_of` and is neither draft nor void; its open amount is its total less the payments dated on or before `as_of`. Buckets by days past due: 0 or fewer is `current`, then 1–30, 31–60, 61–90 and over 90.
    #[oai(
        path = "/v1/reports/aging",
        method = "get",
        operation_id = "aging_report"
    )]
    async fn aging(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Default today.
        as_of: Query<Opt<Date>>,
        /// Only this customer.
        customer_id: Query<Opt<i64>>,
    ) -> Result<Done<AgingReport>, ReadError> {
        let org = auth.require(scope_of("aging_report"))?.organization_id;
        let _build = state.report_permit().await?;
        let mut errors = crate::error::FieldErrorsBuilder::new();
        crate::api::types::params!(errors; as_of, customer_id);
        errors.finish()?;
        let as_of = as_of
            .0
            .map(|d| d.0)
            .unwrap_or_else(|| state.today_for(auth.context()));
        let customer_id = customer_id.0;
        let aging = state
            .db
            .read(move |conn| {
                if let Some(id) = customer_id {
                    if !crate::db::customers::exists(conn, org, id)? {
                        return Err(crate::db::customers::not_found(id));
                    }
                }
                store::aging(conn, org, as_of, customer_id)
            })
            .await?;
        Ok(Done::of(&aging_to_api(aging)))
    }

    /// Get dashboard analytics
    ///
    /// Receivables, collections, DSO and the top debtors at `as_of`.
    #[oai(
        path = "/v1/reports/dashboard",
        method = "get",
        operation_id = "dashboard_report"
    )]
    async fn dashboard(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Default today.
        as_of: Query<Opt<Date>>,
    ) -> Result<Done<DashboardReport>, ReadError> {
        let org = auth.require(scope_of("dashboard_report"))?.organization_id;
        let _build = state.report_permit().await?;
        let mut errors = crate::error::FieldErrorsBuilder::new();
        crate::api::types::params!(errors; as_of);
        errors.finish()?;
        let as_of = as_of
            .0
            .map(|d| d.0)
            .unwrap_or_else(|| state.today_for(auth.context()));
        let d = state
            .db
            .read(move |conn| store::dashboard(conn, org, as_of))
            .await?;
        let count = |status: InvoiceStatus| {
            d.status_counts
                .iter()
                .find(|(s, _)| *s == status)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        let totals = d.aging.totals;
        Ok(Done::of(&DashboardReport {
            as_of: Date(as_of),
            total_outstanding: Amount(totals.total),
            total_overdue: Amount(totals.overdue()),
            overdue_invoice_count: d.aging.overdue_invoice_count(),
            open_invoice_count: d.aging.invoice_count(),
            invoice_counts_by_status: StatusCounts {
                draft: count(InvoiceStatus::Draft),
                sent: count(InvoiceStatus::Sent),
                partially_paid: count(InvoiceStatus::PartiallyPaid),
                paid: count(InvoiceStatus::Paid),
                void: count(InvoiceStatus::Void),
                written_off: count(InvoiceStatus::WrittenOff),
            },
            invoiced_last_30_days: Amount(d.invoiced_last_30_days),
            collected_last_30_days: Amount(d.collected_last_30_days),
            credit_sales_last_90_days: Amount(d.credit_sales_last_90_days),
            dso: dso(totals.total, d.credit_sales_last_90_days, 90).map(DecimalOut),
            dso_formula: "total_outstanding / credit_sales_last_90_days × 90".into(),
            average_days_to_pay: average_days(d.total_days_to_pay, d.paid_invoice_count)
                .map(DecimalOut),
            aging: AgingBuckets::of(totals, d.aging.unapplied_credit),
            top_debtors: d
                .aging
                .customers
                .iter()
                .filter(|c| c.totals.total.is_positive())
                .take(5)
                .map(|c| Debtor {
                    customer_id: c.customer_id,
                    customer_code: c.customer_code.clone(),
                    name: c.name.clone(),
                    outstanding: Amount(c.totals.total),
                    overdue: Amount(c.totals.overdue()),
                })
                .collect(),
            refunded_last_30_days: Amount(d.refunded_last_30_days),
            total_unapplied_credit: Amount(d.aging.unapplied_credit),
            credited_last_30_days: Amount(d.credited_last_30_days),
            written_off_last_30_days: Amount(d.written_off_last_30_days),
        }))
    }
}
