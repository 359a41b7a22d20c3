//! The one source of "now" and "today", so due dates and aging are testable for any date.

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The machine's clock. Timestamps are UTC; "today" (default issue and payment dates,
/// what is overdue, the reports' default `as_of`) is the date where the shop is, which for
/// a self-hosted server is the machine's local time zone (`TZ` overrides it).
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the machine's clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    #[allow(clippy::disallowed_methods)] // the one place that reads the machine's date
    fn today(&self) -> NaiveDate {
        chrono::Local::now().date_naive()
    }
}

/// A clock stopped at one instant, for tests.
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    pub fn on(date: NaiveDate) -> Self {
        FixedClock(date.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// "Today" in `zone`, or the server's own today without one.
pub fn today_in(clock: &dyn Clock, zone: Option<chrono_tz::Tz>) -> NaiveDate {
    match zone {
        Some(zone) => clock.now().with_timezone(&zone).date_naive(),
        None => clock.today(),
    }
}
