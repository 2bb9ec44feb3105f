//! Requests per minute per account (RATE-01..03): a fixed one-minute window, counted in
//! Redis when configured (exact across instances) or in this process.
use std::collections::HashMap;
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

pub struct Limiter {
    redis: Option<Redis>,
    /// account → (window, count); windows are whole minutes since the epoch.
    local: Mutex<HashMap<i64, (u64, u32)>>,
}

impl Limiter {
    pub fn new(redis: Option<Redis>) -> Self {
        Self {
            redis,
            local: Mutex::default(),
        }
    }

    pub async fn check(&self, account_id: i64, limit: u32) -> Decision {
        let now = domain::time::now().max(0) as u64;
        let window = now / 60;
        let reset_secs = 60 - now % 60;
        let used = match &self.redis {
            Some(r) => {
                let key = r.key(&format!("rl:{account_id}:{window}"));
                match r.incr_window(&key, 120).await {
                    Ok(n) => n,
                    Err(e) => {
                        // Degrade to this instance's count rather than refuse everything.
                        tracing::warn!("rate limit via Redis failed, counting locally: {e}");
                        self.count_locally(account_id, window)
                    }
                }
            }
            None => self.count_locally(account_id, window),
        };
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        Decision {
            allowed: used <= limit,
            limit,
            remaining: limit.saturating_sub(used),
            reset_secs,
        }
    }

    fn count_locally(&self, account_id: i64, window: u64) -> u64 {
        let Ok(mut map) = self.local.lock() else {
            return 0;
        };
        if map.len() > 100_000 {
            map.retain(|_, (w, _)| *w == window);
        }
        let entry = map.entry(account_id).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        u64::from(entry.1)
    }
}
