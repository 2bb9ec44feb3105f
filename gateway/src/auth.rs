//! Bearer key → account and plan, cached briefly.
//!
//! A revoked key stops working at once, on every instance: a revocation in this process
//! drops the key from the cache as it happens (`domain::keys::revocations`) and is
//! published on Redis, where every other instance is subscribed and drops it too. Behind
//! that, every instance polls the database for keys revoked in the last seconds
//! ([`REVOCATION_POLL`]; revocations by the CLI, or while Redis was away), and the direct
//! credit reservation of small balances re-checks in its transaction that the key is live.
//!
//! Suspension travels the same way: an admin's suspension announces every key the account
//! uses — its own and the team keys it uses as a member, which live on the team owner's
//! account (`domain::keys::live_ids`) — and the poll also picks up accounts suspended in
//! the last seconds. The next lookup of such a key finds the account (or, for a team key,
//! the member) suspended and answers 403 `account_suspended`; refusals are not cached, so
//! a reactivation takes effect on the next request.
use foldhash::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use domain::{DatabaseConnection, Services};

use crate::error::ApiError;
use crate::shared::Redis;

/// How long a looked-up key is trusted before the next database lookup: plan changes (a
/// purchase, an expiry) take at most this long to apply. One indexed lookup per active
/// key every two seconds is nothing next to the requests it serves.
const CACHE_TTL: Duration = Duration::from_secs(2);
/// How often revocations are polled.
const REVOCATION_POLL: Duration = Duration::from_millis(200);
/// The Redis channel (under the deployment's prefix) of revoked key ids.
const REVOKED_CHANNEL: &str = "revoked-keys";
/// A cache larger than this is cleared (bounded memory under key-guessing traffic).
const MAX_ENTRIES: usize = 100_000;

/// Who is calling, as the rest of the gateway needs it.
#[derive(Debug)]
pub struct Caller {
    /// None: the portal's playground, authenticated by the signed-in session.
    pub key_id: Option<i64>,
    pub account_id: i64,
    /// Index into `catalog.plans` of the plan whose limits apply.
    pub plan: usize,
    /// For a team key, the member who uses it (`account_id` is then the team owner's,
    /// whose credits, plan and rate limit the whole team shares).
    pub member_id: Option<i64>,
    /// A team key whose owner's plan no longer allows teams: refused with 403 until the
    /// plan is renewed (`domain::teams`).
    pub team_lapsed: bool,
    /// The key's first characters, as the key list shows them (for logs).
    pub prefix: Arc<str>,
}

impl Caller {
    /// A signed-in account of the portal (the playground): no key, the same plan rules.
    pub fn session(
        svc: &Services,
        account_id: i64,
        plan: Option<&str>,
        expires: Option<i64>,
    ) -> Self {
        Self {
            key_id: None,
            account_id,
            plan: plan_index(svc, plan, expires),
            member_id: None,
            team_lapsed: false,
            prefix: Arc::from(""),
        }
    }

    /// The request came from the playground (usage rows are marked).
    pub fn playground(&self) -> bool {
        self.key_id.is_none()
    }
}

/// The index into `catalog.plans` of the plan whose limits apply now.
fn plan_index(svc: &Services, plan: Option<&str>, expires: Option<i64>) -> usize {
    let plan = svc
        .catalog
        .effective_plan(plan, expires, domain::time::now());
    svc.catalog
        .plans
        .iter()
        .position(|p| p.id == plan.id)
        .unwrap_or(0)
}

struct Cached {
    caller: Arc<Caller>,
    fetched: Instant,
}

pub struct KeyCache {
    /// By the SHA-256 digest of the presented key: no key is kept in memory as typed.
    entries: RwLock<HashMap<[u8; 32], Cached>>,
    /// When this instance last wrote `last_used_at` per key (at most once a minute).
    touched: Mutex<HashMap<i64, Instant>>,
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::missing_key)?;
    let (scheme, token) = value.split_once(' ').ok_or_else(ApiError::invalid_key)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::invalid_key());
    }
    Ok(token.trim())
}

impl KeyCache {
    /// A cache with its revocation watchers running on the current runtime.
    pub fn start(db: DatabaseConnection, redis: Option<Redis>) -> Arc<Self> {
        let cache = Arc::new(Self {
            entries: RwLock::default(),
            touched: Mutex::default(),
        });
        tokio::spawn(poll_revocations(Arc::downgrade(&cache), db));
        tokio::spawn(local_revocations(Arc::downgrade(&cache), redis.clone()));
        if let Some(redis) = redis {
            tokio::spawn(remote_revocations(Arc::downgrade(&cache), redis));
        }
        cache
    }

    pub async fn authenticate(
        &self,
        svc: &Services,
        headers: &HeaderMap,
    ) -> Result<Arc<Caller>, ApiError> {
        let presented = bearer(headers)?;
        let hash = domain::keys::sha256(presented);
        if let Some(caller) = self.fresh(&hash) {
            if let Some(key_id) = caller.key_id {
                self.touch(svc, key_id);
            }
            return Ok(caller);
        }
        let (key, account) = match domain::keys::authenticate(&svc.db, presented).await {
            Ok(found) => found,
            Err(domain::Error::Unauthorized) => return Err(ApiError::invalid_key()),
            Err(domain::Error::Suspended) => return Err(ApiError::account_suspended()),
            Err(e) => {
                tracing::error!("key lookup failed: {e}");
                return Err(ApiError::internal());
            }
        };
        let now = domain::time::now();
        let team_lapsed = key.team_id.is_some()
            && !domain::teams::plan_allows_teams(
                &svc.catalog,
                account.plan.as_deref(),
                account.plan_expires_at,
                now,
            );
        let plan = plan_index(svc, account.plan.as_deref(), account.plan_expires_at);
        let caller = Arc::new(Caller {
            key_id: Some(key.id),
            account_id: account.id,
            plan,
            member_id: key.member_id,
            team_lapsed,
            prefix: Arc::from(key.prefix.as_str()),
        });
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                hash,
                Cached {
                    caller: caller.clone(),
                    fetched: Instant::now(),
                },
            );
        }
        self.touch(svc, key.id);
        Ok(caller)
    }

    fn fresh(&self, hash: &[u8; 32]) -> Option<Arc<Caller>> {
        let entries = self.entries.read().ok()?;
        let c = entries.get(hash)?;
        (c.fetched.elapsed() < CACHE_TTL).then(|| c.caller.clone())
    }

    /// Drops every cached entry of these keys.
    pub fn forget(&self, key_ids: &[i64]) {
        if key_ids.is_empty() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, c| !c.caller.key_id.is_some_and(|k| key_ids.contains(&k)));
        }
    }

    /// Writes `last_used_at` off the request path, at most once a minute per key.
    fn touch(&self, svc: &Services, key_id: i64) {
        let due = match self.touched.lock() {
            Ok(mut t) => {
                let due = t
                    .get(&key_id)
                    .is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
                if due {
                    t.insert(key_id, Instant::now());
                }
                due
            }
            Err(_) => false,
        };
        if due {
            let db = svc.db.clone();
            tokio::spawn(async move {
                if let Err(e) = domain::keys::touch(&db, key_id).await {
                    tracing::warn!(key_id, "last_used_at not written: {e}");
                }
            });
        }
    }
}

/// Revocations in this process: forgotten here, published for the other instances.
async fn local_revocations(cache: Weak<KeyCache>, redis: Option<Redis>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut revoked = domain::keys::revocations();
    loop {
        let id = match revoked.recv().await {
            Ok(id) => id,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let Some(c) = cache.upgrade() else { return };
        c.forget(&[id]);
        if let Some(r) = &redis {
            if let Err(e) = r.publish(&r.key(REVOKED_CHANNEL), id).await {
                tracing::warn!(key_id = id, "revocation not published: {e}");
            }
        }
    }
}

/// Revocations published by the other instances.
async fn remote_revocations(cache: Weak<KeyCache>, redis: Redis) {
    let channel = redis.key(REVOKED_CHANNEL);
    loop {
        let res = redis
            .subscribe(&channel, |id| {
                if let Some(c) = cache.upgrade() {
                    c.forget(&[id]);
                }
            })
            .await;
        if cache.upgrade().is_none() {
            return;
        }
        if let Err(e) = res {
            tracing::warn!("revocation subscription lost, resubscribing: {e}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn poll_revocations(cache: Weak<KeyCache>, db: DatabaseConnection) {
    let mut since = domain::time::now() - 5;
    let mut tick = tokio::time::interval(REVOCATION_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(cache) = cache.upgrade() else { return };
        // Revocation times are whole seconds: look back a little so none is missed.
        let now = domain::time::now();
        let revoked = domain::keys::revoked_since(&db, since - 2).await;
        match revoked {
            Ok(ids) => {
                cache.forget(&ids);
                since = now;
            }
            Err(e) => tracing::warn!("revocation poll failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_bearer_tokens_are_accepted() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h).unwrap_err().code(), "invalid_api_key");
        h.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert!(bearer(&h).is_err());
        h.insert("authorization", HeaderValue::from_static("bearer  rsl_x "));
        assert_eq!(bearer(&h).unwrap(), "rsl_x");
    }
}
