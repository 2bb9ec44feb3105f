//! Hourly allowances for costly self-service actions: registrations per IP and per phone
//! prefix, checkouts per account. A fixed one-hour window per key, counted in memory (per
//! instance: with N instances behind a balancer an address gets up to N times the
//! allowance, still a small number).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(3600);

#[derive(Default)]
pub struct Hourly {
    used: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Hourly {
    /// Takes one of the `limit` uses of `key` in the hour that contains `now` (the
    /// services' [`crate::Clock`]), or says how long until that hour is over.
    pub fn take(&self, key: &str, limit: u32, now: Instant) -> Result<(), Duration> {
        self.take_all(&[(key, limit)], now)
    }

    /// Takes one use of every key, or none when any is used up.
    pub fn take_all(&self, keys: &[(&str, u32)], now: Instant) -> Result<(), Duration> {
        let mut map = self.used.lock().unwrap_or_else(|p| p.into_inner());
        for (key, limit) in keys {
            if let Some((n, since)) = map.get(*key) {
                let age = now.duration_since(*since);
                if age < WINDOW && *n >= *limit {
                    return Err(WINDOW - age);
                }
            }
        }
        for (key, _) in keys {
            bump(&mut map, key, now);
        }
        Ok(())
    }
}

fn bump(map: &mut HashMap<String, (u32, Instant)>, key: &str, now: Instant) {
    if map.len() > 100_000 {
        map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
    }
    let entry = map.entry(key.to_owned()).or_insert((0, now));
    if now.duration_since(entry.1) >= WINDOW {
        *entry = (0, now);
    }
    entry.0 = entry.0.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_per_hour() {
        let h = Hourly::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(h.take_all(&[("k", 3)], t0).is_ok());
        }
        let wait = h
            .take_all(&[("k", 3)], t0 + Duration::from_secs(600))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(3000));
        assert!(h.take_all(&[("other", 3)], t0).is_ok());
        assert!(h.take_all(&[("k", 3)], t0 + WINDOW).is_ok());
    }

    #[test]
    fn take_all_takes_nothing_when_one_key_is_used_up() {
        let h = Hourly::default();
        let now = Instant::now();
        assert!(h.take_all(&[("ip", 1), ("prefix", 5)], now).is_ok());
        assert!(h.take_all(&[("ip", 1), ("prefix", 5)], now).is_err());
        // The refused attempt did not use the prefix's allowance.
        for _ in 0..4 {
            assert!(h.take_all(&[("other-ip", 9), ("prefix", 5)], now).is_ok());
        }
        assert!(h.take("prefix", 5, now).is_err());
    }
}
