//! Aging buckets by days past due (`as_of − due_date`).

use super::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    DaysOver90,
}

/// The last day past due of each bucket but the open-ended last one: the one definition of
/// the buckets, used here and by the report's SQL.
pub(crate) const BUCKET_LAST_DAYS: [i64; 4] = [0, 30, 60, 90];

impl Bucket {
    /// In report order.
    pub(crate) const ALL: [Bucket; 5] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::DaysOver90,
    ];

    /// 0 or fewer days past due is `current`; 1–30, 31–60, 61–90 and over 90 follow. The
    /// report's SQL buckets by [`Bucket::days`], an aging on terms by this; the tests hold
    /// both to this statement.
    pub(crate) fn for_days_past_due(days: i64) -> Self {
        BUCKET_LAST_DAYS
            .iter()
            .zip(Bucket::ALL)
            .find(|(last, _)| days <= **last)
            .map_or(Bucket::DaysOver90, |(_, bucket)| bucket)
    }

    /// The range of days past due this bucket holds (`None` where it is open-ended).
    pub(crate) fn days(self) -> (Option<i64>, Option<i64>) {
        let index = Bucket::ALL.iter().position(|b| *b == self).unwrap_or(0);
        let first = index
            .checked_sub(1)
            .and_then(|i| BUCKET_LAST_DAYS.get(i))
            .map(|last| last + 1);
        (first, BUCKET_LAST_DAYS.get(index).copied())
    }
}

/// The five buckets and their sum; the sum is only ever built by `add`, so they agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AgingTotals {
    pub current: Money,
    pub days_1_30: Money,
    pub days_31_60: Money,
    pub days_61_90: Money,
    pub days_over_90: Money,
    pub total: Money,
}

impl AgingTotals {
    pub(crate) fn add(&mut self, bucket: Bucket, amount: Money) {
        let slot = match bucket {
            Bucket::Current => &mut self.current,
            Bucket::Days1To30 => &mut self.days_1_30,
            Bucket::Days31To60 => &mut self.days_31_60,
            Bucket::Days61To90 => &mut self.days_61_90,
            Bucket::DaysOver90 => &mut self.days_over_90,
        };
        // Open amounts are bounded by invoice totals (≤ 10^14 cents each), so i64 sums of
        // any realistic book cannot overflow; saturate rather than wrap if one ever did.
        *slot = Money::from_minor(slot.minor().saturating_add(amount.minor()));
        self.total = Money::from_minor(self.total.minor().saturating_add(amount.minor()));
    }

    pub(crate) fn overdue(&self) -> Money {
        Money::from_minor(self.total.minor() - self.current.minor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_edges() {
        assert_eq!(Bucket::for_days_past_due(-5), Bucket::Current);
        assert_eq!(Bucket::for_days_past_due(0), Bucket::Current);
        assert_eq!(Bucket::for_days_past_due(1), Bucket::Days1To30);
        assert_eq!(Bucket::for_days_past_due(30), Bucket::Days1To30);
        assert_eq!(Bucket::for_days_past_due(31), Bucket::Days31To60);
        assert_eq!(Bucket::for_days_past_due(60), Bucket::Days31To60);
        assert_eq!(Bucket::for_days_past_due(61), Bucket::Days61To90);
        assert_eq!(Bucket::for_days_past_due(90), Bucket::Days61To90);
        assert_eq!(Bucket::for_days_past_due(91), Bucket::DaysOver90);
    }

    #[test]
    fn bucket_ranges_follow_the_bounds() {
        assert_eq!(Bucket::Current.days(), (None, Some(0)));
        assert_eq!(Bucket::Days31To60.days(), (Some(31), Some(60)));
        assert_eq!(Bucket::DaysOver90.days(), (Some(91), None));
    }

    #[test]
    fn buckets_sum_to_total() {
        let mut totals = AgingTotals::default();
        totals.add(Bucket::Current, Money::from_minor(100));
        totals.add(Bucket::DaysOver90, Money::from_minor(250));
        assert_eq!(totals.total, Money::from_minor(350));
        assert_eq!(totals.overdue(), Money::from_minor(250));
    }
}

/// Days sales outstanding: receivables ÷ credit sales over `period_days` × `period_days`,
/// to one decimal; `None` when there were no credit sales in the period.
pub(crate) fn dso(
    receivables: Money,
    credit_sales: Money,
    period_days: i64,
) -> Option<rust_decimal::Decimal> {
    if !credit_sales.is_positive() {
        return None;
    }
    let ratio = rust_decimal::Decimal::from(receivables.minor())
        .checked_mul(rust_decimal::Decimal::from(period_days))?
        .checked_div(rust_decimal::Decimal::from(credit_sales.minor()))?;
    Some(one_decimal(ratio))
}

/// Rounded half away from zero and shown with exactly one decimal (`30.0`).
pub(crate) fn one_decimal(value: rust_decimal::Decimal) -> rust_decimal::Decimal {
    let mut rounded =
        value.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(1);
    rounded
}

/// Mean of `total_days` over `count`, to one decimal; `None` for no data.
pub(crate) fn average_days(total_days: i64, count: i64) -> Option<rust_decimal::Decimal> {
    if count <= 0 {
        return None;
    }
    let mean =
        rust_decimal::Decimal::from(total_days).checked_div(rust_decimal::Decimal::from(count))?;
    Some(one_decimal(mean))
}

/// The amount-weighted mean days to pay, Σ(total × days) / Σ total over the paid invoices,
/// to one decimal: a large invoice paid late weighs more than a small one paid early.
/// `weighted` is in minor units × days; `None` without paid totals.
pub(crate) fn weighted_average_days(
    weighted: i128,
    paid_total: Money,
) -> Option<rust_decimal::Decimal> {
    if !paid_total.is_positive() {
        return None;
    }
    let weighted = rust_decimal::Decimal::try_from_i128_with_scale(weighted, 0).ok()?;
    let mean = weighted.checked_div(rust_decimal::Decimal::from(paid_total.minor()))?;
    Some(one_decimal(mean))
}

#[cfg(test)]
mod kpi_tests {
    use super::*;

    #[test]
    fn the_weighted_mean_weighs_by_amount() {
        // 1,000.00 paid after 40 days and 10.00 after 1 day: simple mean 20.5 days, but
        // (100000 × 40 + 1000 × 1) / 101000 = 39.6138… days by amount.
        let weighted = 100_000 * 40 + 1_000;
        assert_eq!(
            weighted_average_days(weighted, Money::from_minor(101_000)).map(|d| d.to_string()),
            Some("39.6".into())
        );
        assert_eq!(
            average_days(41, 2).map(|d| d.to_string()),
            Some("20.5".into())
        );
        assert_eq!(weighted_average_days(0, Money::ZERO), None);
        // Past i64, exact: 10^12 × 10^7 minor-days over 10^12.
        let huge = 1_000_000_000_000_i128 * 10_000_000;
        assert_eq!(
            weighted_average_days(huge, Money::from_minor(1_000_000_000_000))
                .map(|d| d.to_string()),
            Some("10000000.0".into())
        );
    }

    #[test]
    fn dso_and_average_days() {
        // 1,000.00 open against 3,000.00 sold in 90 days: 30 days of sales outstanding.
        assert_eq!(
            dso(Money::from_minor(100000), Money::from_minor(300000), 90).map(|d| d.to_string()),
            Some("30.0".into())
        );
        assert_eq!(dso(Money::from_minor(5), Money::ZERO, 90), None);
        assert_eq!(
            average_days(10, 3).map(|d| d.to_string()),
            Some("3.3".into())
        );
        assert_eq!(average_days(0, 0), None);
    }
}
