//! Requests per minute per account (RATE-01..03): a fixed one-minute window, counted in
//! Redis when configured (exact across instances) or in this process. Requests without a
//! valid key are counted per client IP against [`FAILED_KEYS_PER_MINUTE`], so they too
//! carry the `x-ratelimit-*` headers, and a flood of guessed keys is cut off with 429s.
//!
//! With Redis, a metered request's window is counted in the same script that takes its
//! place in flight ([`Limiter::admit`], `crate::admission`), and a subject this instance
//! has seen over its limit in the current window is refused without asking Redis again
//! (a window's count only grows, so the answer could only be the same).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::capacity::{LocalCapacity, Slot};
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
        // Names built once (a name given as text is parsed and checked on every insert).
        const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
        const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
        const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
        h.insert(LIMIT, HeaderValue::from(self.limit));
        h.insert(REMAINING, HeaderValue::from(self.remaining));
        h.insert(RESET, seconds(self.reset_secs));
    }
}

/// `n` seconds as OpenAI writes them (`"12s"`), without a formatted string in between.
fn seconds(n: u64) -> HeaderValue {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n).as_bytes();
    let mut buf = [b's'; 21];
    buf[..digits.len()].copy_from_slice(digits);
    HeaderValue::from_bytes(&buf[..=digits.len()]).unwrap_or(HeaderValue::from_static("0s"))
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
    /// With Redis: subject → the window in which Redis counted it over its limit.
    over: Mutex<HashMap<Subject, u64>>,
}

/// The current window and the seconds until it resets.
struct Window {
    index: u64,
    reset_secs: u64,
}

impl Limiter {
    pub fn new(redis: Option<Redis>, clock: domain::Clock) -> Self {
        Self {
            redis,
            clock,
            local: Mutex::default(),
            over: Mutex::default(),
        }
    }

    /// Whether windows are counted in Redis.
    pub fn shared(&self) -> bool {
        self.redis.is_some()
    }

    fn window(&self) -> Window {
        let now = self.clock.now().max(0) as u64;
        Window {
            index: now / 60,
            reset_secs: 60 - now % 60,
        }
    }

    fn redis_key(r: &Redis, subject: Subject, window: u64) -> String {
        match subject {
            Subject::Account(id) => r.key(&format!("rl:{id}:{window}")),
            Subject::Ip(ip) => r.key(&format!("rl:ip:{ip}:{window}")),
        }
    }

    /// The refusal, if Redis already counted `subject` over its limit in this window.
    pub fn known_over(&self, subject: Subject, limit: u32) -> Option<Decision> {
        let w = self.window();
        let over = self.over.lock().ok()?.get(&subject) == Some(&w.index);
        over.then_some(Decision {
            allowed: false,
            limit,
            remaining: 0,
            reset_secs: w.reset_secs,
        })
    }

    /// The decision for `used` requests in window `w`; a refusal counted by Redis is
    /// remembered for [`Limiter::known_over`].
    fn decide(&self, subject: Subject, w: &Window, used: u64, limit: u32, redis: bool) -> Decision {
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        let allowed = used <= limit;
        if !allowed && redis {
            if let Ok(mut over) = self.over.lock() {
                if over.len() > 100_000 {
                    over.retain(|_, window| *window == w.index);
                }
                over.insert(subject, w.index);
            }
        }
        Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(used),
            reset_secs: w.reset_secs,
        }
    }

    pub async fn check(&self, subject: Subject, limit: u32) -> Decision {
        let w = self.window();
        if let Some(refused) = self.known_over(subject, limit) {
            return refused;
        }
        let (used, redis) = match &self.redis {
            Some(r) => match r
                .incr_window(&Self::redis_key(r, subject, w.index), 120)
                .await
            {
                Ok(n) => (n, true),
                Err(e) => {
                    // Degrade to this instance's count rather than refuse everything.
                    tracing::warn!("rate limit via Redis failed, counting locally: {e}");
                    (self.count_locally(subject, w.index), false)
                }
            },
            None => (self.count_locally(subject, w.index), false),
        };
        self.decide(subject, &w, used, limit, redis)
    }

    /// The window of `subject` counted and, if it allows the request and `want_place`, a
    /// place in flight at `cap` taken when one is free now — with Redis in one round trip
    /// ([`LocalCapacity::admit`]). Without a place the caller goes on as without one (the
    /// failover and the wait queue of `upstream::choose`).
    pub async fn admit(
        &self,
        subject: Subject,
        limit: u32,
        cap: &Arc<LocalCapacity>,
        want_place: bool,
    ) -> (Decision, Option<Slot>) {
        if let Some(refused) = self.known_over(subject, limit) {
            return (refused, None);
        }
        let Some(r) = self.redis.as_ref().filter(|_| cap.shared()) else {
            let decision = self.check(subject, limit).await;
            let slot = if decision.allowed && want_place {
                cap.acquire_now().await
            } else {
                None
            };
            return (decision, slot);
        };
        let w = self.window();
        let key = Self::redis_key(r, subject, w.index);
        match cap.admit(&key, 120, limit, want_place).await {
            Ok(a) => (self.decide(subject, &w, a.count, limit, true), a.slot),
            Err(e) => {
                tracing::warn!("rate limit via Redis failed, counting locally: {e}");
                let used = self.count_locally(subject, w.index);
                (self.decide(subject, &w, used, limit, false), None)
            }
        }
    }
}

/// A metered request's rate-limit decision, left open by the admission middleware when
/// the windows are in Redis: the request counts in its window in the same script that
/// takes its place in flight ([`Gate::decide_with_place`], once its body is read and
/// checked), or — if it is refused before that — just before the refusal
/// ([`Gate::decide`]), so a request over the limit is always answered 429 whatever else
/// is wrong with it, as when the window is counted first.
pub struct Gate {
    subject: Subject,
    limit: u32,
    decided: Mutex<Option<Decision>>,
}

impl Gate {
    pub fn new(subject: Subject, limit: u32) -> Self {
        Self {
            subject,
            limit,
            decided: Mutex::new(None),
        }
    }

    pub fn decided(&self) -> Option<Decision> {
        self.decided.lock().ok().and_then(|d| *d)
    }

    fn set(&self, d: Decision) -> Decision {
        if let Ok(mut slot) = self.decided.lock() {
            *slot.get_or_insert(d)
        } else {
            d
        }
    }

    /// The decision, counting the request in its window if it was not yet.
    pub async fn decide(&self, limiter: &Limiter) -> Decision {
        if let Some(d) = self.decided() {
            return d;
        }
        let d = limiter.check(self.subject, self.limit).await;
        self.set(d)
    }

    /// As [`Limiter::admit`]; a place only on the first decision.
    pub async fn decide_with_place(
        &self,
        limiter: &Limiter,
        cap: &Arc<LocalCapacity>,
        want_place: bool,
    ) -> (Decision, Option<Slot>) {
        if let Some(d) = self.decided() {
            return (d, None);
        }
        let (d, slot) = limiter
            .admit(self.subject, self.limit, cap, want_place)
            .await;
        (self.set(d), slot)
    }
}

impl Limiter {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_header_is_whole_seconds_with_an_s() {
        for n in [0, 7, 10, 59, 60, 1_000, u64::MAX] {
            assert_eq!(seconds(n), HeaderValue::from_str(&format!("{n}s")).unwrap());
        }
        let mut h = HeaderMap::new();
        Decision {
            allowed: true,
            limit: 60,
            remaining: 59,
            reset_secs: 42,
        }
        .write_headers(&mut h);
        assert_eq!(h["x-ratelimit-limit-requests"], "60");
        assert_eq!(h["x-ratelimit-remaining-requests"], "59");
        assert_eq!(h["x-ratelimit-reset-requests"], "42s");
    }
}
