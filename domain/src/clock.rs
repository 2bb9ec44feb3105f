//! Where the rate limits and throttles read the time: the system clock in production, a
//! manual clock in tests, so a test moves time forward instead of sleeping through (or
//! dodging) a one-minute or one-hour window.
//!
//! [`Clock`] is carried by [`crate::Services`]; the gateway's rate limiter and the domain's
//! throttles ([`crate::throttle`], [`crate::rate`]) read it on every request. Reading it
//! costs what reading the system clock costs, plus one branch (and one atomic load for a
//! manual clock): no allocation, no lock. Timestamps stored in the tables still come from
//! [`crate::time::now`].
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A clock, cheap to clone: copies of a manual clock share its time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock.
    manual: Option<Arc<Manual>>,
}

/// A clock that stands still until it is told to move.
#[derive(Debug)]
struct Manual {
    /// Unix time (milliseconds) and monotonic time when the clock was made…
    start_unix_ms: u64,
    start: Instant,
    /// …and how far it has been moved since.
    elapsed_ms: AtomicU64,
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands still at the current system time until [`Clock::advance`]d.
    pub fn manual() -> Self {
        Self {
            manual: Some(Arc::new(Manual {
                start_unix_ms: system_unix_ms(),
                start: Instant::now(),
                elapsed_ms: AtomicU64::new(0),
            })),
        }
    }

    /// Moves a manual clock forward (and its copies with it); a system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(m) = &self.manual {
            let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            m.elapsed_ms.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Unix time in seconds.
    pub fn now(&self) -> i64 {
        i64::try_from(self.unix_ms() / 1000).unwrap_or(i64::MAX)
    }

    /// Unix time in milliseconds.
    pub fn unix_ms(&self) -> u64 {
        match &self.manual {
            None => system_unix_ms(),
            Some(m) => m
                .start_unix_ms
                .saturating_add(m.elapsed_ms.load(Ordering::Relaxed)),
        }
    }

    /// Monotonic time, for measuring windows and backoffs.
    pub fn instant(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(m) => m.start + Duration::from_millis(m.elapsed_ms.load(Ordering::Relaxed)),
        }
    }
}

fn system_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced_and_its_copies_follow() {
        let clock = Clock::manual();
        let copy = clock.clone();
        let (unix, mono) = (clock.unix_ms(), clock.instant());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(copy.unix_ms(), unix);
        assert_eq!(copy.instant(), mono);
        clock.advance(Duration::from_secs(61));
        assert_eq!(copy.unix_ms(), unix + 61_000);
        assert_eq!(copy.instant(), mono + Duration::from_secs(61));
        assert_eq!(copy.now(), i64::try_from((unix + 61_000) / 1000).unwrap());
    }

    #[test]
    fn the_system_clock_follows_the_system_time() {
        let clock = Clock::system();
        let before = crate::time::now();
        let now = clock.now();
        assert!(now >= before && now <= crate::time::now());
        let t = clock.instant();
        std::thread::sleep(Duration::from_millis(20));
        assert!(clock.instant() >= t + Duration::from_millis(20));
    }
}
