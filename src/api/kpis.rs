//! The dashboard's KPIs as objects that show their working (`?include=kpis`): each its
//! value, the formula, the inputs with their figures, and the period it covers. The rules
//! are `domain::aging` (DSO, mean days to pay) and `domain::kpis`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use poem_openapi::Object;
use rusqlite::Connection;

use super::types::{Amount, Date, DecimalOut};
use crate::db::report_scope::ReportScope;
use crate::db::reports::{self as store, Dashboard};
use crate::domain::aging::{average_days, dso};
use crate::domain::currency::Currency;
use crate::domain::kpis::{cei, last_full_month, last_full_months, percent};
use crate::domain::money::Money;
use crate::error::AppError;

/// What `include=kpis,series` asks the dashboard to add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Includes {
    pub kpis: bool,
    pub series: bool,
}

/// `include`: a comma list of `kpis` and `series`.
pub(crate) fn includes(text: Option<&str>) -> Result<Includes, String> {
    let mut asked = Includes::default();
    for part in text
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part {
            "kpis" => asked.kpis = true,
            "series" => asked.series = true,
            other => return Err(format!("'{other}' is not one of: kpis, series")),
        }
    }
    Ok(asked)
}

/// One month of the dashboard's series, for charts.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct SeriesPoint {
    pub month_start: Date,
    pub month_end: Date,
    /// Totals of invoices issued in the month (neither draft nor void).
    pub invoiced: Amount,
    /// Payments received in the month, less payments voided in it.
    pub collected: Amount,
    /// Open receivables at the month's end: the aging's total on that date.
    pub outstanding: Amount,
}

/// The last 12 full months before `as_of`, oldest first.
pub(crate) fn series(
    conn: &Connection,
    scope: &ReportScope,
    as_of: NaiveDate,
) -> Result<Vec<SeriesPoint>, AppError> {
    let amount = |money| Amount::new(money, scope.currency);
    let mut points = Vec::with_capacity(12);
    for (first, last) in last_full_months(as_of, 12) {
        let days = u64::try_from((last - first).num_days() + 1).unwrap_or(0);
        points.push(SeriesPoint {
            month_start: Date(first),
            month_end: Date(last),
            invoiced: amount(store::invoiced(conn, scope, (last, days))?),
            collected: amount(store::collected(conn, scope, (last, days))?),
            outstanding: amount(store::aging(conn, scope, last, None)?.totals.total),
        });
    }
    Ok(points)
}

/// The dates a KPI covers (`from` null: since the books began).
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct KpiPeriod {
    pub from: Option<Date>,
    pub to: Date,
}

/// One KPI: `value` (null where its denominator is 0) = `formula` over `inputs`.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct Kpi {
    pub value: Option<DecimalOut>,
    pub formula: String,
    /// Each input of the formula and its figure (amounts in the report's currency).
    pub inputs: BTreeMap<String, String>,
    pub period: KpiPeriod,
}

/// The KPIs, each with its working: `dso` (days), `cei` (collection effectiveness over
/// the last full month, percent), `average_days_to_pay`, `percent_current` and
/// `overdue_percent`.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct Kpis {
    pub dso: Kpi,
    pub cei: Kpi,
    pub average_days_to_pay: Kpi,
    pub percent_current: Kpi,
    pub overdue_percent: Kpi,
}

/// The figures CEI needs from the last full month before `as_of`.
pub(crate) struct MonthFigures {
    first: NaiveDate,
    last: NaiveDate,
    beginning: Money,
    credit_sales: Money,
    ending: Money,
    ending_current: Money,
}

/// Reads the month's figures: the aging at the end of the day before it began and at its
/// end, and its credit sales.
pub(crate) fn month_figures(
    conn: &Connection,
    scope: &ReportScope,
    as_of: NaiveDate,
) -> Result<Option<MonthFigures>, AppError> {
    let Some((first, last)) = last_full_month(as_of) else {
        return Ok(None);
    };
    let Some(before) = first.pred_opt() else {
        return Ok(None);
    };
    let beginning = store::aging(conn, scope, before, None)?.totals.total;
    let end = store::aging(conn, scope, last, None)?.totals;
    let days = u64::try_from((last - first).num_days() + 1).unwrap_or(0);
    let credit_sales = store::credit_sales(conn, scope, (last, days))?;
    Ok(Some(MonthFigures {
        first,
        last,
        beginning,
        credit_sales,
        ending: end.total,
        ending_current: end.current,
    }))
}

/// The KPIs of dashboard `d` at `as_of`.
pub(crate) fn kpis(
    d: &Dashboard,
    as_of: NaiveDate,
    month: Option<MonthFigures>,
    currency: Currency,
) -> Kpis {
    let text = |money: Money| Amount::new(money, currency).json_text();
    let inputs = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let at = |from: Option<NaiveDate>| KpiPeriod {
        from: from.map(Date),
        to: Date(as_of),
    };
    let totals = d.aging.totals;
    let (outstanding, current, overdue) = (totals.total, totals.current, totals.overdue());
    let kpi = |value: Option<rust_decimal::Decimal>, formula: &str, inputs, period| Kpi {
        value: value.map(DecimalOut),
        formula: formula.to_owned(),
        inputs,
        period,
    };
    let cei_kpi = match month {
        Some(m) => kpi(
            cei(m.beginning, m.credit_sales, (m.ending, m.ending_current)),
            "(beginning_receivables + credit_sales − ending_receivables) / (beginning_receivables + credit_sales − ending_current) × 100",
            inputs(&[
                ("beginning_receivables", text(m.beginning)),
                ("credit_sales", text(m.credit_sales)),
                ("ending_receivables", text(m.ending)),
                ("ending_current", text(m.ending_current)),
            ]),
            KpiPeriod { from: Some(Date(m.first)), to: Date(m.last) },
        ),
        None => kpi(None, "no full month before as_of", BTreeMap::new(), at(None)),
    };
    Kpis {
        dso: kpi(
            dso(outstanding, d.credit_sales_last_90_days, 90),
            "total_outstanding / credit_sales_last_90_days × 90",
            inputs(&[
                ("total_outstanding", text(outstanding)),
                (
                    "credit_sales_last_90_days",
                    text(d.credit_sales_last_90_days),
                ),
                ("days", "90".into()),
            ]),
            at(as_of.checked_sub_days(chrono::Days::new(89))),
        ),
        cei: cei_kpi,
        average_days_to_pay: kpi(
            average_days(d.total_days_to_pay, d.paid_invoice_count),
            "total_days_to_pay / paid_invoice_count",
            inputs(&[
                ("total_days_to_pay", d.total_days_to_pay.to_string()),
                ("paid_invoice_count", d.paid_invoice_count.to_string()),
            ]),
            at(None),
        ),
        percent_current: kpi(
            percent(current, outstanding),
            "current / total_outstanding × 100",
            inputs(&[
                ("current", text(current)),
                ("total_outstanding", text(outstanding)),
            ]),
            at(Some(as_of)),
        ),
        overdue_percent: kpi(
            percent(overdue, outstanding),
            "total_overdue / total_outstanding × 100",
            inputs(&[
                ("total_overdue", text(overdue)),
                ("total_outstanding", text(outstanding)),
            ]),
            at(Some(as_of)),
        ),
    }
}
