//! Slows and then blocks repeated failed logins, per account and per IP.
//!
//! In-process: each instance counts its own failures; fail2ban (which reads the
//! `login failed` log lines of every instance) is the cross-instance defence.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The client address a proxy put first in `X-Forwarded-For` (only to be used when the
/// settings trust that proxy: `trust_forwarded_for`).
pub fn forwarded_for(header: &str) -> Option<std::net::IpAddr> {
    header.split(',').next()?.trim().parse().ok()
}

/// Failures within this window count.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// From this many failures on, each attempt waits a little (slowed).
const SLOW_AFTER: u32 = 3;
/// From this many failures on, attempts are refused until the window passes (blocked).
const BLOCK_AFTER_ACCOUNT: u32 = 10;
const BLOCK_AFTER_IP: u32 = 30;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// What to do with a login attempt before checking the password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Wait this long first.
    Slow(Duration),
    Blocked,
}

impl LoginThrottle {
    pub fn check(&self, account: &str, ip: &str) -> Verdict {
        let a = self.count(&format!("a:{account}"));
        let i = self.count(&format!("i:{ip}"));
        if a >= BLOCK_AFTER_ACCOUNT || i >= BLOCK_AFTER_IP {
            Verdict::Blocked
        } else if a.max(i) >= SLOW_AFTER {
            Verdict::Slow(Duration::from_millis(
                250 * u64::from(a.max(i) - SLOW_AFTER + 1),
            ))
        } else {
            Verdict::Allow
        }
    }

    pub fn record_failure(&self, account: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        for key in [format!("a:{account}"), format!("i:{ip}")] {
            let entry = map.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful login clears the account's counter (not the IP's).
    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("a:{account}"));
    }

    fn count(&self, key: &str) -> u32 {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((n, since)) if since.elapsed() < WINDOW => *n,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_forwarded_address_is_the_client() {
        assert_eq!(
            forwarded_for(" 203.0.113.7 , 10.0.0.1"),
            Some([203, 0, 113, 7].into())
        );
        assert_eq!(forwarded_for("not-an-ip"), None);
    }

    #[test]
    fn failures_first_slow_then_block_an_account() {
        let t = LoginThrottle::default();
        for _ in 0..2 {
            t.record_failure("a@x.com", "1.1.1.1");
        }
        assert_eq!(t.check("a@x.com", "1.1.1.1"), Verdict::Allow);
        t.record_failure("a@x.com", "1.1.1.1");
        assert!(matches!(t.check("a@x.com", "2.2.2.2"), Verdict::Slow(_)));
        for _ in 0..7 {
            t.record_failure("a@x.com", "3.3.3.3");
        }
        assert_eq!(t.check("a@x.com", "4.4.4.4"), Verdict::Blocked);
        assert_eq!(t.check("b@x.com", "4.4.4.4"), Verdict::Allow);
    }

    #[test]
    fn one_ip_trying_many_accounts_is_blocked() {
        let t = LoginThrottle::default();
        for n in 0..30 {
            t.record_failure(&format!("u{n}@x.com"), "9.9.9.9");
        }
        assert_eq!(t.check("new@x.com", "9.9.9.9"), Verdict::Blocked);
    }

    #[test]
    fn success_clears_the_account_counter() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            t.record_failure("a@x.com", "1.1.1.1");
        }
        t.record_success("a@x.com");
        assert_eq!(t.check("a@x.com", "5.5.5.5"), Verdict::Allow);
    }
}
