//! `/v1/reports`.

use super::aging_answer::{aging_answer, aging_csv, plain_lines, LineOf};
use super::aging_terms::{
    AgeByParam, AgingBucket, AgingChecks, AgingDetail, AgingInvoice, OnTerms,
};
use super::kpis::{includes, kpis, month_figures, series, Includes, Kpis, SeriesPoint};
use crate::domain::aging_terms::{parse_edges, AgeBy, Terms, DEFAULT_EDGES};
use poem::http::HeaderMap;

use super::documents::{Answer, CsvFile};
use super::export::{cells, wants_csv, ListFormat};
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::error::ReadError;
use super::scopes::scope_of;
use super::types::{Amount, CurrencyCode, Date, DecimalOut, Opt};
use super::{AppState, Done, Tag};
use crate::db::report_scope::ReportScope;
use crate::db::reports::{self as store};
use crate::domain::aging::{average_days, dso, AgingTotals};
use crate::domain::currency::Currency;
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
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<AgingBucket>>,
}

impl AgingBuckets {
    pub(crate) fn of(t: AgingTotals, unapplied_credit: Money, currency: Currency) -> Self {
        let amount = |money| Amount::new(money, currency);
        AgingBuckets {
            current: amount(t.current),
            days_1_30: amount(t.days_1_30),
            days_31_60: amount(t.days_31_60),
            days_61_90: amount(t.days_61_90),
            days_over_90: amount(t.days_over_90),
            total: amount(t.total),
            unapplied_credit: amount(unapplied_credit),
            net: amount(net(t.total, unapplied_credit)),
            buckets: None,
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
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<AgingBucket>>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoices: Option<Vec<AgingInvoice>>,
}

/// With `buckets`, `age_by`, `detail` or `checks`, the totals and each customer also carry
/// `buckets` on those terms (and each customer its open `invoices` with `detail=invoices`),
/// and the report carries `checks`. The five named buckets stay the standard ones.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct AgingReport {
    pub as_of: Date,
    pub totals: AgingBuckets,
    /// Customers with an open amount or unapplied credit, by total descending.
    pub customers: Vec<AgingCustomer>,
    /// The one currency the report covers, and every amount in it is in.
    pub currency: CurrencyCode,
    /// The organization's other currencies that hold open amounts or unapplied credit at
    /// `as_of`: ask for each with `?currency=`. Amounts are never converted between
    /// currencies.
    pub currencies: Vec<CurrencyCode>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_by: Option<AgeByParam>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<AgingChecks>,
}

/// One report's currency, and the others that hold open amounts.
pub(crate) type Currencies = (Currency, Vec<CurrencyCode>);

/// The report of `aging` but for its customers (an empty list).
pub(crate) fn frame_of(aging: &store::Aging, (currency, currencies): Currencies) -> AgingReport {
    AgingReport {
        as_of: Date(aging.as_of),
        totals: AgingBuckets::of(aging.totals, aging.unapplied_credit, currency),
        currency: CurrencyCode(currency),
        currencies,
        customers: Vec::new(),
        age_by: None,
        checks: None,
    }
}

/// One customer's line of the report.
pub(crate) fn customer_to_api(c: &store::CustomerAging, currency: Currency) -> AgingCustomer {
    let amount = |money| Amount::new(money, currency);
    AgingCustomer {
        customer_id: c.customer_id,
        customer_code: c.customer_code.clone(),
        name: c.name.clone(),
        current: amount(c.totals.current),
        days_1_30: amount(c.totals.days_1_30),
        days_31_60: amount(c.totals.days_31_60),
        days_61_90: amount(c.totals.days_61_90),
        days_over_90: amount(c.totals.days_over_90),
        total: amount(c.totals.total),
        invoice_count: c.invoice_count,
        unapplied_credit: amount(c.unapplied_credit),
        net: amount(net(c.totals.total, c.unapplied_credit)),
        buckets: None,
        invoices: None,
    }
}

/// An aging report as read: its frame (all but its customers), its customers, and how
/// each customer's line is made (the plain one, or on the caller's terms) as it is written.
struct BuiltAging {
    frame: AgingReport,
    customers: Vec<store::CustomerAging>,
    line: LineOf,
}

/// The aging of `org` at `as_of` (for one customer, in one currency), on `terms` if asked.
fn build_aging(
    conn: &crate::db::conn::Conn,
    (org, asked, customer_id, as_of): (i64, Option<Currency>, Option<i64>, chrono::NaiveDate),
    terms: Option<(Terms, bool)>,
) -> Result<BuiltAging, crate::error::AppError> {
    if let Some(id) = customer_id {
        if !crate::db::customers::exists(conn, org, id)? {
            return Err(crate::db::customers::not_found(id));
        }
    }
    let (scope, currencies) = scoped(conn, org, (asked, customer_id), as_of)?;
    let Some(terms) = terms else {
        let mut aging = store::aging(conn, &scope, as_of, customer_id)?;
        let customers = std::mem::take(&mut aging.customers);
        return Ok(BuiltAging {
            frame: frame_of(&aging, (scope.currency, currencies)),
            customers,
            line: plain_lines(scope.currency),
        });
    };
    let asked = crate::db::aging_detail::OpenInvoices {
        as_of,
        customer_id,
        numbers: terms.1,
    };
    let mut on_terms = OnTerms::new(terms, (as_of, scope.currency));
    let add = &mut |invoice| on_terms.add(invoice);
    let mut aging = crate::db::aging_detail::aging_with_each_invoice(conn, &scope, asked, add)?;
    let customers = std::mem::take(&mut aging.customers);
    let frame = frame_of(&aging, (scope.currency, currencies));
    let recount = crate::db::aging_detail::recount_open(conn, &scope, as_of, customer_id)?;
    Ok(BuiltAging {
        frame: on_terms.frame(frame, &customers, recount),
        customers,
        line: Box::new(move |customer| on_terms.line(customer)),
    })
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
    /// The one currency the report covers, and every amount in it is in.
    pub currency: CurrencyCode,
    /// The organization's other currencies that hold open amounts or unapplied credit at
    /// `as_of`.
    pub currencies: Vec<CurrencyCode>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpis: Option<Kpis>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<Vec<SeriesPoint>>,
}

/// The scope of a report and the other currencies that hold open amounts or unapplied
/// credit at `as_of`.
fn scoped(
    conn: &crate::db::conn::Conn,
    org: i64,
    (asked, customer_id): (Option<Currency>, Option<i64>),
    as_of: chrono::NaiveDate,
) -> Result<(ReportScope, Vec<CurrencyCode>), crate::error::AppError> {
    let (scope, others) = ReportScope::of(conn, org, asked, customer_id)?;
    let mut holding = Vec::new();
    for other in others {
        let there = scope.in_currency(other);
        let aging = store::aging(conn, &there, as_of, customer_id)?;
        // Open invoices, or credit waiting to be used: either is money in that currency.
        if aging.totals.total.is_positive() || aging.unapplied_credit != Money::ZERO {
            holding.push(CurrencyCode(other));
        }
    }
    Ok((scope, holding))
}

#[derive(Default)]
pub(crate) struct ReportsApi;

#[OpenApi(tag = "Tag::Reports")]
impl ReportsApi {
    /// Get aging report
    ///
    /// Historical: an invoice counts when it was issued on or before `as_of` and is neither draft nor void; its open amount is its total less the payments dated on or before `as_of`. Buckets by days past due: 0 or fewer is `current`, then 1–30, 31–60, 61–90 and over 90. As CSV (`Accept: text/csv` or `format=csv`): a row a customer, then a `Total` row.
    #[allow(clippy::too_many_arguments)]
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
        /// The one currency to report (ISO 4217); default the customer's with `customer_id`,
        /// else the organization's.
        currency: Query<Opt<CurrencyCode>>,
        /// Bucket edges in days, increasing, up to 10 (`30,60,90,120`); default `30,60,90`.
        buckets: Query<Opt<String>>,
        /// Count days from the `due_date` (default) or the `issue_date`.
        age_by: Query<Opt<AgeByParam>>,
        /// `invoices`: list each customer's open invoices with their bucket.
        detail: Query<Opt<AgingDetail>>,
        /// `true`: carry the checks (they come with any of `buckets`, `age_by`, `detail`).
        checks: Query<Opt<bool>>,
        /// `json` (default, by `Accept`) or `csv`.
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Done<AgingReport>, false, true>, ReadError> {
        let org = auth.require(scope_of("aging_report"))?.organization_id;
        let _build = state.report_permit().await?;
        let mut errors = crate::error::FieldErrorsBuilder::new();
        crate::api::types::params!(errors; as_of, customer_id, currency, buckets, age_by, detail, checks, format);
        let terms = terms_asked(buckets.0, age_by.0, &mut errors);
        errors.finish()?;
        let detail = detail.0.is_some();
        let csv = wants_csv(format.0, headers);
        let terms = (terms.is_some() || detail || checks.0 == Some(true)).then(|| {
            terms.unwrap_or_else(|| Terms {
                edges: DEFAULT_EDGES.to_vec(),
                age_by: AgeBy::DueDate,
            })
        });
        let asked = currency.0.map(|code| code.0);
        let as_of = as_of
            .0
            .map(|d| d.0)
            .unwrap_or_else(|| state.today_for(auth.context()));
        let asked = (org, asked, customer_id.0, as_of);
        let built = state
            .db
            // The CSV has no invoice rows: their lines are not kept for it.
            .read(move |conn| build_aging(conn, asked, terms.map(|terms| (terms, detail && !csv))))
            .await?;
        let BuiltAging {
            frame,
            customers,
            line,
        } = built;
        Ok(if csv {
            Answer::Csv(aging_csv(&frame, &customers, &line)?)
        } else {
            Answer::Json(aging_answer(frame, customers, line))
        })
    }

    /// Get dashboard analytics
    ///
    /// Receivables, collections, DSO and the top debtors at `as_of`. As CSV (`Accept: text/csv` or `format=csv`): the top debtors, a row each.
    #[allow(clippy::too_many_arguments)]
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
        /// The one currency to report (ISO 4217); default the organization's.
        currency: Query<Opt<CurrencyCode>>,
        /// A comma list: `kpis` adds each KPI with its formula, inputs and period; `series`
        /// adds invoiced, collected and outstanding for each of the last 12 full months (none before 1900).
        include: Query<Opt<String>>,
        /// `json` (default, by `Accept`) or `csv` (the top debtors).
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Done<DashboardReport>, false, true>, ReadError> {
        let org = auth.require(scope_of("dashboard_report"))?.organization_id;
        let _build = state.report_permit().await?;
        let mut errors = crate::error::FieldErrorsBuilder::new();
        crate::api::types::params!(errors; as_of, currency, include, format);
        let asked_for = includes(include.0.as_deref()).unwrap_or_else(|message| {
            errors.add("include", message);
            Includes::default()
        });
        errors.finish()?;
        let asked = currency.0.map(|code| code.0);
        let as_of = as_of
            .0
            .map(|d| d.0)
            .unwrap_or_else(|| state.today_for(auth.context()));
        let (d, month, (currency, currencies)) = state
            .db
            .read(move |conn| {
                let (scope, currencies) = scoped(conn, org, (asked, None), as_of)?;
                let dashboard = store::dashboard(conn, &scope, as_of)?;
                let month = match asked_for.kpis {
                    true => Some(month_figures(conn, &scope, as_of)?),
                    false => None,
                };
                let series = match asked_for.series {
                    true => Some(series(conn, &scope, as_of)?),
                    false => None,
                };
                Ok((dashboard, (month, series), (scope.currency, currencies)))
            })
            .await?;
        let (month, series) = month;
        let kpis = month.map(|month| kpis(&d, as_of, month, currency));
        let mut report = dashboard_to_api(d, as_of, (currency, currencies));
        report.kpis = kpis;
        report.series = series;
        if wants_csv(format.0, headers) {
            return Ok(Answer::Csv(debtors_csv(&report)?));
        }
        Ok(Answer::Json(Done::of(&report)))
    }
}

/// The dashboard's answer from its figures.
fn dashboard_to_api(
    d: store::Dashboard,
    as_of: chrono::NaiveDate,
    (currency, currencies): Currencies,
) -> DashboardReport {
    let amount = |money| Amount::new(money, currency);
    let count = |status: InvoiceStatus| {
        d.status_counts
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let totals = d.aging.totals;
    DashboardReport {
        as_of: Date(as_of),
        total_outstanding: amount(totals.total),
        total_overdue: amount(totals.overdue()),
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
        invoiced_last_30_days: amount(d.invoiced_last_30_days),
        collected_last_30_days: amount(d.collected_last_30_days),
        credit_sales_last_90_days: amount(d.credit_sales_last_90_days),
        dso: dso(totals.total, d.credit_sales_last_90_days, 90).map(DecimalOut),
        dso_formula: "total_outstanding / credit_sales_last_90_days × 90".into(),
        average_days_to_pay: average_days(d.total_days_to_pay, d.paid_invoice_count)
            .map(DecimalOut),
        aging: AgingBuckets::of(totals, d.aging.unapplied_credit, currency),
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
                outstanding: amount(c.totals.total),
                overdue: amount(c.totals.overdue()),
            })
            .collect(),
        refunded_last_30_days: amount(d.refunded_last_30_days),
        total_unapplied_credit: amount(d.aging.unapplied_credit),
        credited_last_30_days: amount(d.credited_last_30_days),
        written_off_last_30_days: amount(d.written_off_last_30_days),
        currency: CurrencyCode(currency),
        currencies,
        kpis: None,
        series: None,
    }
}

/// The dashboard's top debtors as CSV.
fn debtors_csv(report: &DashboardReport) -> Result<CsvFile, crate::error::AppError> {
    let columns = [
        "customer_id",
        "customer_code",
        "name",
        "outstanding",
        "overdue",
    ];
    let rows = report.top_debtors.iter().map(|debtor| {
        let mut row = cells(debtor, &columns);
        row.push(report.currency.0.to_string());
        row
    });
    let header = [
        "customer_id",
        "customer_code",
        "name",
        "outstanding",
        "overdue",
        "currency",
    ];
    CsvFile::of(format!("top-debtors-{}.csv", report.as_of.0), &header, rows)
}

/// The terms a request asks for, if it names `buckets` or `age_by`; a bad list of edges is
/// added to `errors`.
fn terms_asked(
    buckets: Option<String>,
    age_by: Option<AgeByParam>,
    errors: &mut crate::error::FieldErrorsBuilder,
) -> Option<Terms> {
    let edges = match buckets.as_deref().map(parse_edges) {
        Some(Ok(edges)) => Some(edges),
        Some(Err(message)) => {
            errors.add("buckets", message);
            None
        }
        None => None,
    };
    if edges.is_none() && age_by.is_none() {
        return None;
    }
    Some(Terms {
        edges: edges.unwrap_or_else(|| DEFAULT_EDGES.to_vec()),
        age_by: age_by.map_or(AgeBy::DueDate, AgeBy::from),
    })
}
