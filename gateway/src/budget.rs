//! The daily cloud budget (CLOUD-01/02): cloud requests (failovers included) per day,
//! the day ending at midnight Asia/Kuwait (UTC+3, no daylight saving). At the cap cloud is
//! off until the next day. Crossing the warning share and the cap records an event once
//! per day for the admins.
use std::sync::Mutex;

use domain::events::{self, Kind};
use domain::DatabaseConnection;

use crate::shared::Redis;

pub use domain::time::{kuwait_day, kuwait_midnight, seconds_to_kuwait_midnight};

pub struct CloudBudget {
    redis: Option<Redis>,
    /// (Kuwait day, cloud requests that day) without Redis.
    local: Mutex<(i64, u64)>,
    /// The cap and the warning share are read from the live catalog at each request, so
    /// an admin's change applies at once (`domain::admin::catalog::update_budget`).
    catalog: std::sync::Arc<domain::catalog::Live>,
    db: DatabaseConnection,
}

impl CloudBudget {
    /// Starts from today's cloud usage rows, so a restart does not reset the count.
    pub async fn new(
        redis: Option<Redis>,
        db: DatabaseConnection,
        catalog: std::sync::Arc<domain::catalog::Live>,
    ) -> Result<Self, domain::Error> {
        let now = domain::time::now();
        let seed = domain::usage::cloud_requests_since(&db, kuwait_midnight(now)).await?;
        if let Some(r) = &redis {
            let key = r.key(&format!("cloud:{}", kuwait_day(now)));
            if let Err(e) = r.seed(&key, seed, 2 * 86_400).await {
                tracing::warn!("cloud budget seed in Redis failed: {e}");
            }
        }
        Ok(Self {
            redis,
            local: Mutex::new((kuwait_day(now), seed)),
            catalog,
            db,
        })
    }

    /// Cloud requests a day at most.
    pub fn cap(&self) -> u64 {
        self.catalog.gateway.cloud_daily_cap
    }

    /// The request count that records the warning event.
    fn warn_at(&self) -> u64 {
        let g = &self.catalog.gateway;
        (g.cloud_daily_cap
            .saturating_mul(g.cloud_budget_warn_percent))
        .div_ceil(100)
        .max(1)
    }

    /// Counts one cloud request if today's cap allows it.
    pub async fn try_take(&self) -> bool {
        let now = domain::time::now();
        let day = kuwait_day(now);
        let n = match &self.redis {
            Some(r) => match r
                .incr_window(&r.key(&format!("cloud:{day}")), 2 * 86_400)
                .await
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!("cloud budget via Redis failed, counting locally: {e}");
                    self.count_locally(day)
                }
            },
            None => self.count_locally(day),
        };
        let cap = self.cap();
        if n > cap {
            return false;
        }
        // Each count is handed out once, so exactly one request crosses each threshold;
        // it records the event (twice a day at most, so inline).
        if n == self.warn_at() {
            self.record_event(Kind::CloudBudgetWarning, "cloud_budget_80", day, n)
                .await;
        }
        if n == cap {
            self.record_event(Kind::CloudBudgetExhausted, "cloud_budget_100", day, n)
                .await;
        }
        true
    }

    /// Cloud requests counted today.
    pub async fn used_today(&self) -> u64 {
        let day = kuwait_day(domain::time::now());
        if let Some(r) = &self.redis {
            if let Ok(n) = r.get_u64(&r.key(&format!("cloud:{day}"))).await {
                return n.min(self.cap());
            }
        }
        match self.local.lock() {
            Ok(l) if l.0 == day => l.1.min(self.cap()),
            _ => 0,
        }
    }

    fn count_locally(&self, day: i64) -> u64 {
        let Ok(mut l) = self.local.lock() else {
            return u64::MAX;
        };
        if l.0 != day {
            *l = (day, 0);
        }
        l.1 += 1;
        l.1
    }

    async fn record_event(&self, kind: Kind, name: &str, day: i64, n: u64) {
        let key = format!("{name}:{day}");
        let payload = serde_json::json!({ "used": n, "cap": self.cap(), "kuwait_day": day });
        if let Err(e) = events::record(&self.db, kind, None, &key, payload).await {
            tracing::error!("cloud budget event not recorded: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_turns_at_midnight_in_kuwait() {
        // 20:59:59 UTC = 23:59:59 in Kuwait; one second later is the next day there.
        let before = 1_764_104_399;
        assert_eq!(kuwait_day(before) + 1, kuwait_day(before + 1));
        assert_eq!(seconds_to_kuwait_midnight(before), 1);
        assert_eq!(seconds_to_kuwait_midnight(before + 1), 86_400);
        assert_eq!(kuwait_midnight(before + 1), before + 1);
    }
}
