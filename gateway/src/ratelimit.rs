//! Requests per minute per account (RATE-01..03): a fixed one-minute window, counted in
//! Redis when configured (exact across instances) or in this process. Requests without a
//! valid key are counted per client IP against [`FAILED_KEYS_PER_MINUTE`], so they too
//! carry the `x-ratelimit-*` headers, and a flood of guessed keys is cut off with 429s.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue};

use crate::shared::Redis;

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

impl Decision {
    /// `x-ratelimit-*` headers (OpenAI's names; this gateway limits requests only).
    pub fn write_headers(&self, h: &mut HeaderMap) {
        h.insert("x-ratelimit-limit-requests", HeaderValue::from(self.limit));
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(self.remaining),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("{}s", self.reset_secs)) {
            h.insert("x-ratelimit-reset-requests", v);
        }
    }
}

/// Requests with a missing or invalid key one client IP may make per minute.
pub const FAILED_KEYS_PER_MINUTE: u32 = 30;

/// Who a window counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Account(i64),
    /// Requests without a valid key, by client IP.
    Ip(IpAddr),
}

pub struct Limiter {
    redis: Option<Redis>,
    /// The services' clock: the system's, or a test's that moves only when told.
    clock: domain::Clock,
    /// subject → (window, count); windows are whole minutes since the epoch.
    local: Mutex<HashMap<Subject, (u64, u32)>>,
}

impl Limiter {
    pub fn new(redis: Option<Redis>, clock: domain::Clock) -> Self {
        Self {
            redis,
            clock,
            local: Mutex::default(),
        }
    }

    pub async fn check(&self, subject: Subject, limit: u32) -> Decision {
        let now = self.clock.now().max(0) as u64;
        let window = now / 60;
        let reset_secs = 60 - now % 60;
        let used = match &self.redis {
            Some(r) => {
                let key = match subject {
                    Subject::Account(id) => r.key(&format!("rl:{id}:{window}")),
                    Subject::Ip(ip) => r.key(&format!("rl:ip:{ip}:{window}")),
                };
                match r.incr_window(&key, 120).await {
                    Ok(n) => n,
                    Err(e) => {
                        // Degrade to this instance's count rather than refuse everything.
                        tracing::warn!("rate limit via Redis failed, counting locally: {e}");
                        self.count_locally(subject, window)
                    }
                }
            }
            None => self.count_locally(subject, window),
        };
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        Decision {
            allowed: used <= limit,
            limit,
            remaining: limit.saturating_sub(used),
            reset_secs,
        }
    }

    fn count_locally(&self, subject: Subject, window: u64) -> u64 {
        let Ok(mut map) = self.local.lock() else {
            return 0;
        };
        if map.len() > 100_000 {
            map.retain(|_, (w, _)| *w == window);
        }
        let entry = map.entry(subject).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        u64::from(entry.1)
    }
}
