//! Credit thresholds (NOTIF-03/04) after each batch, without a query per batch.
use foldhash::HashMap;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use crate::events;

/// The last grant of each account, so the credit thresholds (NOTIF-03/04) cost no query
/// per batch: refreshed after a minute, or at once when the balance is above it (a new
/// grant or purchase came in).
#[derive(Default)]
pub(super) struct Thresholds {
    entries: HashMap<i64, GrantEntry>,
}

struct GrantEntry {
    grant: Option<(i64, i64)>,
    fetched: Instant,
    /// Dedupe keys this instance already recorded (the table deduplicates across them).
    recorded: Vec<String>,
}

const GRANT_TTL: Duration = Duration::from_secs(60);

impl Thresholds {
    pub(super) async fn check(
        &mut self,
        db: &DatabaseConnection,
        account_id: i64,
        balance: i64,
        warning_percent: i64,
    ) {
        let fresh = self.entries.get(&account_id).is_some_and(|e| {
            e.fetched.elapsed() < GRANT_TTL && e.grant.is_some_and(|(_, g)| balance <= g)
        });
        if !fresh {
            match events::last_grant(db, account_id).await {
                Ok(grant) => {
                    if self.entries.len() > 100_000 {
                        self.entries.clear();
                    }
                    self.entries.insert(
                        account_id,
                        GrantEntry {
                            grant,
                            fetched: Instant::now(),
                            recorded: Vec::new(),
                        },
                    );
                }
                Err(e) => {
                    tracing::error!("last grant not read: {e}");
                    return;
                }
            }
        }
        let Some(entry) = self.entries.get_mut(&account_id) else {
            return;
        };
        let Some((kind, key)) =
            events::credit_event(account_id, balance, entry.grant, warning_percent)
        else {
            return;
        };
        if entry.recorded.contains(&key) {
            return;
        }
        let payload = serde_json::json!({
            "balance": balance,
            "after_last_grant": entry.grant.map_or(0, |g| g.1),
        });
        match events::record(db, kind, Some(account_id), &key, payload).await {
            Ok(_) => entry.recorded.push(key),
            Err(e) => tracing::error!("credit event not recorded: {e}"),
        }
    }
}
