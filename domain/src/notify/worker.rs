//! The background worker: expands queued notifications into messages, sends due
//! messages one claim at a time, retries temporary failures with exponential backoff, and
//! checks the schedules (renewal reminders) every hour. Any number of instances may run
//! it at once: the claims in `outbox` keep each message with one sender at a time.
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::expand;
use super::outbox::{self, Outcome};
use super::providers::{Outgoing, Provider, SendError};
use super::schedules;
use crate::{time, Error, Services};

/// How the worker paces itself. The defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Pause between passes when nothing is due.
    pub poll: Duration,
    /// How long one provider call may take.
    pub send_timeout: Duration,
    /// How long a claim lasts before another worker may take the message over (the
    /// sender is presumed dead). Always longer than `send_timeout`, so a live sender
    /// finishes before anyone else may start.
    pub lease: Duration,
    /// Wait after the first temporary failure; doubled after each further one.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Attempts before a message that keeps failing temporarily is marked failed.
    pub max_attempts: i32,
    /// Messages sent per pass at most, so the schedules and shutdown get their turn.
    pub max_per_pass: usize,
    /// How often the schedules are checked.
    pub schedule_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            send_timeout: Duration::from_secs(20),
            lease: Duration::from_secs(60),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            // 30 s, 1, 2, 4 … 32 min, then hourly: about 15 hours of outage.
            max_attempts: 20,
            max_per_pass: 200,
            schedule_every: Duration::from_secs(3600),
        }
    }
}

impl WorkerConfig {
    /// The wait before attempt `attempts + 1`, after `attempts` failed ones.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.backoff_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.backoff_max)
    }

    fn lease_secs(&self) -> i64 {
        let lease = self.lease.max(self.send_timeout + Duration::from_secs(2));
        lease.as_secs_f64().ceil() as i64
    }
}

pub struct Worker {
    svc: Services,
    /// The provider of the settings, or why there is none (messages then wait, queued
    /// and visible, until the settings are fixed and the server restarted).
    provider: Result<Provider, String>,
    cfg: WorkerConfig,
}

impl Worker {
    pub fn new(svc: Services, cfg: WorkerConfig) -> Self {
        let provider = Provider::from_settings(&svc.settings, &svc.catalog);
        if let Err(e) = &provider {
            tracing::error!("whatsapp: {e}; messages are queued but not sent");
        }
        Self { svc, provider, cfg }
    }

    /// One pass: expands every queued notification, then sends what is due. Returns how
    /// many messages the provider accepted.
    pub async fn run_once(&self) -> Result<usize, Error> {
        while expand::expand(&self.svc, 100).await? > 0 {}
        let Ok(provider) = &self.provider else {
            return Ok(0);
        };
        let started = time::now();
        let mut sent = 0;
        for _ in 0..self.cfg.max_per_pass {
            let claimed = outbox::claim_one(&self.svc.db, self.cfg.lease_secs(), started).await?;
            let Some(m) = claimed else {
                break;
            };
            if self.deliver(provider, m).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    async fn deliver(
        &self,
        provider: &Provider,
        m: crate::entities::outbox::Model,
    ) -> Result<bool, Error> {
        let params: Vec<(String, String)> = serde_json::from_str(&m.params).unwrap_or_default();
        let out = Outgoing {
            to: &m.recipient,
            lang: &m.lang,
            template: &m.template,
            params: &params,
            body: &m.body,
        };
        let result = provider
            .send(&self.svc.http, &out, self.cfg.send_timeout)
            .await;
        let accepted = result.is_ok();
        let outcome = match result {
            Ok(provider_id) => Outcome::Sent { provider_id },
            Err(SendError::Transient(error)) if m.attempts < self.cfg.max_attempts => {
                let wait = self.cfg.backoff(m.attempts);
                tracing::warn!(id = m.id, attempts = m.attempts, error = %error, retry_in = ?wait, "whatsapp: temporary failure");
                // At least a second: the next pass, not this one, retries it.
                let at = time::now() + (wait.as_secs() as i64).max(1);
                Outcome::Retry { error, at }
            }
            Err(e) => {
                tracing::error!(id = m.id, attempts = m.attempts, error = %e, "whatsapp: message failed");
                Outcome::Failed {
                    error: match e {
                        SendError::Transient(e) => {
                            format!("gave up after {} attempts: {e}", m.attempts)
                        }
                        SendError::Permanent(e) => e,
                    },
                }
            }
        };
        let kept = outbox::finish(&self.svc.db, &m, outcome).await?;
        if !kept {
            tracing::warn!(
                id = m.id,
                "whatsapp: the claim ran out before the send ended"
            );
        }
        Ok(accepted && kept)
    }

    /// Runs passes until `shutdown` turns true. A send in progress is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            provider = self.provider.as_ref().map_or("none", |p| p.name()),
            "notification worker started"
        );
        let mut last_schedule: Option<Instant> = None;
        while !*shutdown.borrow() {
            if last_schedule.is_none_or(|t| t.elapsed() >= self.cfg.schedule_every) {
                last_schedule = Some(Instant::now());
                match schedules::renewal_reminders(&self.svc.db, time::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(n, "renewal reminders queued"),
                    Err(e) => tracing::error!(error = %e, "renewal reminders failed"),
                }
            }
            let busy = match self.run_once().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "notification pass failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("notification worker stopped");
    }
}

/// The background worker with the default pacing, until `shutdown` turns true. The server
/// starts it once per instance.
pub async fn run(svc: Services, shutdown: watch::Receiver<bool>) {
    Worker::new(svc, WorkerConfig::default())
        .run(shutdown)
        .await
}

/// One pass with the default pacing (tests, and `resayil` commands).
pub async fn run_once(svc: &Services) -> Result<usize, Error> {
    Worker::new(svc.clone(), WorkerConfig::default())
        .run_once()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = WorkerConfig::default();
        let secs: Vec<u64> = (1..=9).map(|a| c.backoff(a).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert!(c.lease_secs() > c.send_timeout.as_secs() as i64);
    }
}
