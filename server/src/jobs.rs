//! Background jobs of the server: the notification worker and periodic jobs. They run on
//! every instance, which is safe: each is idempotent and guarded by the database
//! (conditional updates, row locks).
use std::time::Duration;

use domain::Services;
use tokio::sync::watch;

/// Starts the notification worker and the periodic jobs; they stop when `shutdown` turns
/// true.
pub fn spawn(svc: Services, shutdown: watch::Receiver<bool>) {
    // Sends the outbox and queues renewal reminders (hourly) itself.
    tokio::spawn(domain::notify::run(svc.clone(), shutdown.clone()));
    every(
        Duration::from_secs(60),
        shutdown.clone(),
        "payments: retry pending",
        {
            let svc = svc.clone();
            move || {
                let svc = svc.clone();
                async move {
                    domain::payments::retry_pending(&svc)
                        .await
                        .map(|n| n as u64)
                }
            }
        },
    );
    let retention_days = svc.settings.usage_retention_days;
    if retention_days > 0 {
        let svc = svc.clone();
        every(
            Duration::from_secs(3600),
            shutdown.clone(),
            "usage: prune raw rows past retention",
            move || {
                let svc = svc.clone();
                async move {
                    let before = domain::time::now() - i64::from(retention_days) * 86_400;
                    domain::ops::prune_usage(
                        &svc.db,
                        before,
                        domain::ops::PRUNE_BATCH,
                        domain::ops::PRUNE_PAUSE,
                    )
                    .await
                }
            },
        );
    }
    every(
        Duration::from_secs(3600),
        shutdown,
        "plans: expire lapsed",
        move || {
            let svc = svc.clone();
            async move {
                domain::payments::expire_plans(&svc.db, domain::time::now())
                    .await
                    .map(|n| n as u64)
            }
        },
    );
}

fn every<F, Fut>(period: Duration, mut shutdown: watch::Receiver<bool>, name: &'static str, job: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<u64, domain::Error>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            match job().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(job = name, n, "job done"),
                Err(e) => tracing::error!(job = name, error = %e, "job failed"),
            }
        }
    });
}
