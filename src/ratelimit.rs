//! Per-key request limits over three fixed windows (minute, hour, day), and a throttle on
//! failed authentication per client address so keys cannot be guessed.
//!
//! Hand-written rather than `governor`: clients are promised `X-RateLimit-Remaining` and a
//! `X-RateLimit-Reset` epoch for calendar-aligned windows, which a GCRA limiter does not model.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
    /// Failed authentications allowed per client address per minute (0 turns it off).
    pub auth_failures_per_minute: u32,
}

impl Default for Limits {
    /// The documented defaults.
    fn default() -> Self {
        Limits {
            per_minute: 50,
            per_hour: 1000,
            per_day: 10000,
            auth_failures_per_minute: AUTH_FAILURES_PER_MINUTE,
        }
    }
}

impl Limits {
    pub const OFF: Limits = Limits {
        per_minute: 0,
        per_hour: 0,
        per_day: 0,
        auth_failures_per_minute: AUTH_FAILURES_PER_MINUTE,
    };

    /// (limit, window length in seconds) of the three windows, in the order the counters
    /// keep them; a limit of 0 is a window that is off.
    fn all_windows(&self) -> [(u32, u64); 3] {
        [
            (self.per_minute, 60),
            (self.per_hour, 3600),
            (self.per_day, 86400),
        ]
    }

    fn any_on(&self) -> bool {
        self.all_windows().iter().any(|(limit, _)| *limit > 0)
    }
}

/// What to tell the client: the window nearest exhaustion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix epoch seconds at which that window starts over.
    pub reset: u64,
    pub retry_after: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    start: u64,
    count: u32,
}

/// Failed authentications allowed per client address per minute, by default.
pub const AUTH_FAILURES_PER_MINUTE: u32 = 20;

pub struct RateLimiter {
    limits: Limits,
    per_key: Mutex<HashMap<i64, [Window; 3]>>,
    auth_failures: Mutex<HashMap<IpAddr, Window>>,
}

/// A panic elsewhere must not disable rate limiting: the counters stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        RateLimiter {
            limits,
            per_key: Mutex::new(HashMap::new()),
            auth_failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key_id` at `now` (epoch seconds), unless a window is full.
    /// `None` when every window is off.
    pub(crate) fn check(&self, key_id: i64, now: u64) -> Option<Decision> {
        if !self.limits.any_on() {
            return None;
        }
        let mut table = lock(&self.per_key);
        let counters = table.entry(key_id).or_default();
        let mut active: Vec<(&mut Window, u32, u64)> = counters
            .iter_mut()
            .zip(self.limits.all_windows())
            .filter(|(_, (limit, _))| *limit > 0)
            .map(|(window, (limit, seconds))| (window, limit, seconds))
            .collect();
        for (window, _, seconds) in active.iter_mut() {
            let start = now - now % *seconds;
            if window.start != start {
                **window = Window { start, count: 0 };
            }
        }
        let full = active
            .iter()
            .filter(|(window, limit, _)| window.count >= *limit)
            .map(|(window, limit, seconds)| (window.start + seconds, *limit))
            .max_by_key(|(reset, _)| *reset);
        if let Some((reset, limit)) = full {
            return Some(Decision {
                allowed: false,
                limit,
                remaining: 0,
                reset,
                retry_after: reset.saturating_sub(now).max(1),
            });
        }
        for (window, _, _) in active.iter_mut() {
            window.count += 1;
        }
        let (window, limit, seconds) = active
            .iter()
            .min_by_key(|(window, limit, _)| limit - window.count)?;
        Some(Decision {
            allowed: true,
            limit: *limit,
            remaining: limit - window.count,
            reset: window.start + seconds,
            retry_after: 0,
        })
    }

    /// Seconds the address must wait before trying a key again, if it failed too often.
    pub(crate) fn auth_blocked(&self, addr: IpAddr, now: u64) -> Option<u64> {
        let limit = self.limits.auth_failures_per_minute;
        if limit == 0 {
            return None;
        }
        let table = lock(&self.auth_failures);
        let window = table.get(&addr)?;
        let start = now - now % 60;
        (window.start == start && window.count >= limit)
            .then(|| (start + 60).saturating_sub(now).max(1))
    }

    pub(crate) fn record_auth_failure(&self, addr: IpAddr, now: u64) {
        let mut table = lock(&self.auth_failures);
        let start = now - now % 60;
        // Bounded memory under a spray of addresses: forget windows that have ended.
        if table.len() > 10_000 {
            table.retain(|_, window| window.start == start);
        }
        let window = table.entry(addr).or_default();
        if window.start != start {
            *window = Window { start, count: 0 };
        }
        window.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_and_refuses_past_the_minute_limit() {
        let limiter = RateLimiter::new(Limits {
            per_minute: 3,
            per_hour: 100,
            per_day: 0,
            ..Limits::default()
        });
        let now = 1_700_000_000 - 1_700_000_000 % 60 + 10;
        let first = limiter.check(1, now).unwrap();
        assert_eq!((first.allowed, first.limit, first.remaining), (true, 3, 2));
        assert_eq!(first.reset, now - 10 + 60);
        limiter.check(1, now).unwrap();
        assert_eq!(limiter.check(1, now).unwrap().remaining, 0);
        let refused = limiter.check(1, now).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, 50);
        // Another key has its own windows; the next minute starts over.
        assert!(limiter.check(2, now).unwrap().allowed);
        assert!(limiter.check(1, now + 50).unwrap().allowed);
    }

    #[test]
    fn off_means_no_limit() {
        assert_eq!(RateLimiter::new(Limits::OFF).check(1, 0), None);
    }

    #[test]
    fn auth_failures_block_an_address() {
        let limiter = RateLimiter::new(Limits::default());
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let now = 6_000;
        for _ in 0..AUTH_FAILURES_PER_MINUTE {
            assert_eq!(limiter.auth_blocked(addr, now), None);
            limiter.record_auth_failure(addr, now);
        }
        assert_eq!(limiter.auth_blocked(addr, now + 5), Some(55));
        assert_eq!(limiter.auth_blocked(addr, now + 60), None);
    }

    #[test]
    fn a_limit_of_zero_never_blocks_an_address() {
        let limiter = RateLimiter::new(Limits {
            auth_failures_per_minute: 0,
            ..Limits::default()
        });
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let now = 1_700_000_000;
        for _ in 0..100 {
            limiter.record_auth_failure(addr, now);
        }
        assert_eq!(limiter.auth_blocked(addr, now), None);
    }
}
