//! Time in UTC as unix seconds, the portable representation stored in every table.
use std::time::{SystemTime, UNIX_EPOCH};

/// The Kuwait day arithmetic (daily caps turn at midnight Asia/Kuwait) lives in `locale`.
pub use locale::{kuwait_day, kuwait_midnight, seconds_to_kuwait_midnight};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
