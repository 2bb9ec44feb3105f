//! Slows and then refuses repeated failed logins: per (account, IP) with a doubling
//! backoff, with a much higher ceiling per account and a ceiling per IP.
//!
//! | counter | free failures | then |
//! |---|---|---|
//! | (account, IP) | 3 | refused for 1 s, 2 s, 4 s … (doubling, at most the window) after each further failure |
//! | account (all IPs) | 99 | refused for the rest of the window |
//! | IP (all accounts) | 29 | refused for the rest of the window |
//!
//! So strangers guessing from other addresses slow only themselves: the owner, from their
//! own address, keeps logging in until a distributed attack reaches the account ceiling
//! (fail2ban, fed by the `login failed` log lines, bans long before that).
//!
//! Every allowed attempt counts as a failure *before* the password is checked, and a
//! success gives it back: parallel guesses cannot all pass the check before the first
//! failure is recorded. A refused attempt never reaches the (deliberately slow) hash.
//!
//! In-process: each instance counts its own failures; fail2ban (which reads the log lines
//! of every instance) is the cross-instance defence.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::proxies::{forwarded_for, TrustedProxies};

/// Failures within this window count.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures of one account from one IP before the backoff starts.
const PAIR_FREE: u32 = 3;
/// The first backoff; each further failure doubles it (up to `WINDOW`).
const BACKOFF: Duration = Duration::from_secs(1);
/// From this many failures on, attempts are refused until the window passes.
const BLOCK_AFTER_ACCOUNT: u32 = 100;
const BLOCK_AFTER_IP: u32 = 30;

/// Failures of one key: how many, since when (the window), and the last one (backoff).
#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
    last: Instant,
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

/// What to do with a login attempt, decided before the password is looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password (the attempt is already counted as a failure).
    Allow,
    /// Refuse without checking; this much later an attempt may be allowed again.
    Refused { retry_after: Duration },
}

fn pair_key(account: &str, ip: &str) -> String {
    format!("p:{ip}:{account}")
}
fn account_key(account: &str) -> String {
    format!("a:{account}")
}
fn ip_key(ip: &str) -> String {
    format!("i:{ip}")
}

/// How long after its last failure a pair with `count` failures must wait.
fn backoff(count: u32) -> Duration {
    if count < PAIR_FREE {
        return Duration::ZERO;
    }
    let doublings = (count - PAIR_FREE).min(20);
    BACKOFF.saturating_mul(1 << doublings).min(WINDOW)
}

impl LoginThrottle {
    /// Decides on an attempt of `account` from `ip` at `now` (the services'
    /// [`crate::Clock`]); when allowed, counts it as a failure until
    /// [`LoginThrottle::record_success`] takes it back.
    pub fn attempt(&self, account: &str, ip: &str, now: Instant) -> Verdict {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, f| now.duration_since(f.since) < WINDOW);
        }
        let live = |key: &str| {
            map.get(key)
                .filter(|f| now.duration_since(f.since) < WINDOW)
                .copied()
        };
        let (pair, acc, by_ip) = (pair_key(account, ip), account_key(account), ip_key(ip));
        let mut wait = Duration::ZERO;
        for (key, ceiling) in [(&acc, BLOCK_AFTER_ACCOUNT), (&by_ip, BLOCK_AFTER_IP)] {
            if let Some(f) = live(key).filter(|f| f.count >= ceiling) {
                wait = wait.max(WINDOW.saturating_sub(now.duration_since(f.since)));
            }
        }
        if let Some(f) = live(&pair) {
            wait = wait.max(backoff(f.count).saturating_sub(now.duration_since(f.last)));
        }
        if !wait.is_zero() {
            return Verdict::Refused { retry_after: wait };
        }
        for key in [pair, acc, by_ip] {
            let f = map.entry(key).or_insert(Failures {
                count: 0,
                since: now,
                last: now,
            });
            if now.duration_since(f.since) >= WINDOW {
                f.count = 0;
                f.since = now;
            }
            f.count = f.count.saturating_add(1);
            f.last = now;
        }
        Verdict::Allow
    }

    /// The password was right: the account's failures are forgiven (this pair's and all
    /// IPs'), and the IP gets back the attempt it was charged.
    pub fn record_success(&self, account: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&pair_key(account, ip));
        map.remove(&account_key(account));
        if let Some(f) = map.get_mut(&ip_key(ip)) {
            f.count = f.count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "owner@x.com";

    fn allowed(v: Verdict) -> bool {
        v == Verdict::Allow
    }

    #[test]
    fn three_free_failures_then_a_doubling_backoff_for_that_ip_only() {
        let t = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(allowed(t.attempt(OWNER, "6.6.6.6", t0)));
        }
        assert_eq!(
            t.attempt(OWNER, "6.6.6.6", t0),
            Verdict::Refused {
                retry_after: Duration::from_secs(1)
            }
        );
        let t1 = t0 + Duration::from_secs(1);
        assert!(allowed(t.attempt(OWNER, "6.6.6.6", t1)));
        // Four failures: two seconds now.
        assert!(!allowed(t.attempt(
            OWNER,
            "6.6.6.6",
            t1 + Duration::from_secs(1)
        )));
        assert!(allowed(t.attempt(
            OWNER,
            "6.6.6.6",
            t1 + Duration::from_secs(2)
        )));
        // The owner, from their own address, is not slowed by any of it.
        assert!(allowed(t.attempt(OWNER, "10.0.0.1", t1)));
    }

    #[test]
    fn parallel_attempts_are_counted_before_the_password_is_checked() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let allowed_now = (0..50)
            .filter(|_| allowed(t.attempt(OWNER, "6.6.6.6", now)))
            .count();
        assert_eq!(allowed_now, 3);
    }

    #[test]
    fn failures_from_many_ips_do_not_lock_the_owner_out_until_the_account_ceiling() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..33 {
            for _ in 0..3 {
                assert!(allowed(t.attempt(OWNER, &format!("198.51.100.{n}"), now)));
            }
        }
        // 99 failures from 33 strangers: the owner still gets in from home.
        assert!(allowed(t.attempt(OWNER, "10.0.0.1", now)));
        t.record_success(OWNER, "10.0.0.1");
        for n in 0..34 {
            for _ in 0..3 {
                t.attempt(OWNER, &format!("203.0.113.{n}"), now);
            }
        }
        assert!(matches!(
            t.attempt(OWNER, "10.0.0.1", now),
            Verdict::Refused { retry_after } if retry_after > Duration::from_secs(60)
        ));
        assert!(allowed(t.attempt("other@x.com", "10.0.0.1", now)));
        // The window passes.
        assert!(allowed(t.attempt(OWNER, "10.0.0.1", now + WINDOW)));
    }

    #[test]
    fn one_ip_trying_many_accounts_is_blocked() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..30 {
            assert!(allowed(t.attempt(&format!("u{n}@x.com"), "9.9.9.9", now)));
        }
        assert!(!allowed(t.attempt("new@x.com", "9.9.9.9", now)));
        assert!(allowed(t.attempt("new@x.com", "9.9.9.8", now)));
    }

    #[test]
    fn success_forgives_the_account_and_gives_the_ip_its_attempt_back() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..3 {
            t.attempt(OWNER, "1.1.1.1", now);
        }
        assert!(!allowed(t.attempt(OWNER, "1.1.1.1", now)));
        t.record_success(OWNER, "1.1.1.1");
        assert!(allowed(t.attempt(OWNER, "1.1.1.1", now)));
        // 29 successful logins from one office IP never add up to the IP ceiling.
        for n in 0..40 {
            let user = format!("staff{n}@x.com");
            assert!(allowed(t.attempt(&user, "5.5.5.5", now)));
            t.record_success(&user, "5.5.5.5");
        }
    }
}
