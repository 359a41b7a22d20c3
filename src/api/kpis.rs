//! The dashboard's KPIs as objects that show their working (`?include=kpis`): each its
//! value, the formula, the inputs with their figures, and the period it covers. The rules
//! are `domain::aging` (DSO, mean days to pay) and `domain::kpis`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use poem_openapi::Object;

use super::types::{Amount, Date, DecimalOut};
use crate::db::conn::Conn;
use crate::db::report_scope::ReportScope;
use crate::db::reports::{self as store, Dashboard};
use crate::domain::aging::{average_days, dso, weighted_average_days};
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
    conn: &Conn,
    scope: &ReportScope,
    as_of: NaiveDate,
) -> Result<Vec<SeriesPoint>, AppError> {
    let amount = |money| Amount::new(money, scope.currency);
    let months = last_full_months(as_of, 12);
    // The twelve month ends' open totals in one pass over the records: twelve agings at
    // past dates took 10 s of a 1M book (BENCHMARKS.md, issue 16).
    let ends: Vec<NaiveDate> = months.iter().map(|(_, last)| *last).collect();
    let outstanding = crate::db::open_totals::open_totals_at(conn, scope, &ends)?;
    let mut points = Vec::with_capacity(12);
    for ((first, last), open) in months.into_iter().zip(outstanding) {
        let days = u64::try_from((last - first).num_days() + 1).unwrap_or(0);
        points.push(SeriesPoint {
            month_start: Date(first),
            month_end: Date(last),
            invoiced: amount(store::invoiced(conn, scope, (last, days))?),
            collected: amount(store::collected(conn, scope, (last, days))?),
            outstanding: amount(open),
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
/// the last full month, percent), `average_days_to_pay` (by invoice) and
/// `average_days_to_pay_weighted` (by amount), `percent_current` and
/// `overdue_percent`.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct Kpis {
    pub dso: Kpi,
    pub cei: Kpi,
    pub average_days_to_pay: Kpi,
    pub average_days_to_pay_weighted: Kpi,
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
    conn: &Conn,
    scope: &ReportScope,
    as_of: NaiveDate,
) -> Result<Option<MonthFigures>, AppError> {
    let Some((first, last)) = last_full_month(as_of) else {
        return Ok(None);
    };
    let Some(before) = first.pred_opt() else {
        return Ok(None);
    };
    let beginning = crate::db::open_totals::open_totals_at(conn, scope, &[before])?;
    let beginning = beginning.into_iter().next().unwrap_or(Money::ZERO);
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

/// One KPI: its value, formula, the inputs with their figures, and its period.
fn kpi(
    value: Option<rust_decimal::Decimal>,
    formula: &str,
    inputs: &[(&str, String)],
    period: KpiPeriod,
) -> Kpi {
    Kpi {
        value: value.map(DecimalOut),
        formula: formula.to_owned(),
        inputs: inputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        period,
    }
}

/// CEI over the last full month before `as_of`, if there is one.
fn cei_kpi(month: Option<MonthFigures>, currency: Currency, as_of: NaiveDate) -> Kpi {
    let text = |money: Money| Amount::new(money, currency).json_text();
    match month {
        Some(m) => kpi(
            cei(m.beginning, m.credit_sales, (m.ending, m.ending_current)),
            "(beginning_receivables + credit_sales − ending_receivables) / (beginning_receivables + credit_sales − ending_current) × 100",
            &[
                ("beginning_receivables", text(m.beginning)),
                ("credit_sales", text(m.credit_sales)),
                ("ending_receivables", text(m.ending)),
                ("ending_current", text(m.ending_current)),
            ],
            KpiPeriod { from: Some(Date(m.first)), to: Date(m.last) },
        ),
        None => kpi(None, "no full month before as_of", &[], KpiPeriod { from: None, to: Date(as_of) }),
    }
}

/// The KPIs of dashboard `d` at `as_of`.
pub(crate) fn kpis(
    d: &Dashboard,
    as_of: NaiveDate,
    month: Option<MonthFigures>,
    currency: Currency,
) -> Kpis {
    let text = |money: Money| Amount::new(money, currency).json_text();
    let at = |from: Option<NaiveDate>| KpiPeriod {
        from: from.map(Date),
        to: Date(as_of),
    };
    let totals = d.aging.totals;
    let (outstanding, current, overdue) = (totals.total, totals.current, totals.overdue());
    let cei_kpi = cei_kpi(month, currency, as_of);
    Kpis {
        dso: kpi(
            dso(outstanding, d.credit_sales_last_90_days, 90),
            "total_outstanding / credit_sales_last_90_days × 90",
            &[
                ("total_outstanding", text(outstanding)),
                (
                    "credit_sales_last_90_days",
                    text(d.credit_sales_last_90_days),
                ),
                ("days", "90".into()),
            ],
            // Reaching back before the first date, the window starts with the books.
            at(crate::domain::dates::sub_days(as_of, 89)),
        ),
        cei: cei_kpi,
        average_days_to_pay: kpi(
            average_days(d.total_days_to_pay, d.paid_invoice_count),
            "total_days_to_pay / paid_invoice_count",
            &[
                ("total_days_to_pay", d.total_days_to_pay.to_string()),
                ("paid_invoice_count", d.paid_invoice_count.to_string()),
            ],
            at(None),
        ),
        average_days_to_pay_weighted: kpi(
            weighted_average_days(d.weighted_days_to_pay, d.paid_total),
            "paid_total_times_days / paid_total",
            &[
                (
                    "paid_total_times_days",
                    minor_days(d.weighted_days_to_pay, currency),
                ),
                ("paid_total", text(d.paid_total)),
            ],
            at(None),
        ),
        percent_current: kpi(
            percent(current, outstanding),
            "current / total_outstanding × 100",
            &[
                ("current", text(current)),
                ("total_outstanding", text(outstanding)),
            ],
            at(Some(as_of)),
        ),
        overdue_percent: kpi(
            percent(overdue, outstanding),
            "total_overdue / total_outstanding × 100",
            &[
                ("total_overdue", text(overdue)),
                ("total_outstanding", text(outstanding)),
            ],
            at(Some(as_of)),
        ),
    }
}

/// Σ(total × days) as an amount-days figure in the currency's places (`4001000` minor-days
/// in USD is `40010.00`).
fn minor_days(weighted: i128, currency: Currency) -> String {
    match rust_decimal::Decimal::try_from_i128_with_scale(weighted, currency.exponent()) {
        Ok(value) => value.to_string(),
        Err(_) => format!("{weighted} (minor units × days)"),
    }
}
