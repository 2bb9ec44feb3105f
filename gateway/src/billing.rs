//! What happens after admission: the [`Ticket`] of a request that holds a credit
//! reservation is finished exactly once with an [`Outcome`]; finishing settles the
//! reservation to the actual cost, records the threshold events and queues the usage row
//! — in a task, off the response path, tracked so a graceful shutdown waits for it.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::catalog::Model;
use domain::credits::{self, Reservation};
use domain::usage::UsageRecord;
use serde::Deserialize;

use crate::auth::Caller;
use crate::context::{Ctx, TrackGuard};
use crate::error::ApiError;
use crate::upstream::Provider;
use crate::State;

/// Token counts as OpenAI and Ollama report them.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.total_tokens
            .max(self.prompt_tokens + self.completion_tokens)
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// The status the client got (499: it went away first).
    pub status: u16,
    pub usage: Usage,
    /// False when nothing may be charged (no answer was produced).
    pub charge: bool,
    pub error: Option<&'static str>,
}

impl Outcome {
    pub fn answered(usage: Usage) -> Self {
        Self {
            status: 200,
            usage,
            charge: true,
            error: None,
        }
    }

    pub fn failed(e: &ApiError) -> Self {
        Self {
            status: e.status.as_u16(),
            usage: Usage::default(),
            charge: false,
            error: Some(e.code()),
        }
    }
}

struct Open {
    st: Arc<State>,
    request_id: Arc<str>,
    started: Instant,
    endpoint: &'static str,
    caller: Arc<Caller>,
    requested: String,
    model: Model,
    reservation: Reservation,
    served: Option<(String, Provider)>,
    /// Input tokens estimated from the body size: what a client that goes away before the
    /// usage arrives is charged for, with the chunks it received.
    prompt_estimate: u64,
    _track: TrackGuard,
}

/// A request holding a reservation. Dropped without [`Ticket::finish`] (the client went
/// away while the upstream was working) it charges the input estimate if an upstream was
/// called, nothing otherwise.
pub struct Ticket(Option<Open>);

pub struct NewTicket<'a> {
    pub ctx: &'a Ctx,
    pub endpoint: &'static str,
    pub caller: &'a Arc<Caller>,
    pub requested: &'a str,
    pub model: &'a Model,
    pub reservation: Reservation,
    pub prompt_estimate: u64,
}

impl Ticket {
    pub fn new(st: &Arc<State>, n: NewTicket<'_>) -> Self {
        Ticket(Some(Open {
            st: st.clone(),
            request_id: n.ctx.request_id.clone(),
            started: n.ctx.started,
            endpoint: n.endpoint,
            caller: n.caller.clone(),
            requested: n.requested.to_owned(),
            model: n.model.clone(),
            reservation: n.reservation,
            served: None,
            prompt_estimate: n.prompt_estimate,
            _track: st.tracker.enter(),
        }))
    }

    /// Records which upstream serves the request.
    pub fn served_by(&mut self, model: &str, provider: Provider) {
        if let Some(open) = &mut self.0 {
            open.served = Some((model.to_owned(), provider));
        }
    }

    pub fn prompt_estimate(&self) -> u64 {
        self.0.as_ref().map_or(0, |o| o.prompt_estimate)
    }

    pub fn finish(mut self, outcome: Outcome) {
        if let Some(open) = self.0.take() {
            tokio::spawn(settle(open, outcome));
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(open) = self.0.take() {
            let called = open.served.is_some();
            let outcome = Outcome {
                status: 499,
                usage: Usage {
                    prompt_tokens: open.prompt_estimate,
                    ..Usage::default()
                },
                charge: called,
                error: Some("client_closed"),
            };
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(settle(open, outcome));
            }
        }
    }
}

async fn settle(open: Open, outcome: Outcome) {
    let st = &open.st;
    let catalog = &st.svc.catalog;
    let actual = if outcome.charge {
        catalog.cost(&open.model, outcome.usage.total())
    } else {
        0
    };
    let charged = match credits::settle(&st.svc.db, &open.reservation, actual).await {
        Ok(s) => {
            if s.charged > 0 {
                st.grants.check(st, open.caller.account_id, s.balance).await;
            }
            s.charged
        }
        Err(e) => {
            // The reservation stays debited: the customer paid the estimate.
            tracing::error!(request_id = %open.request_id, "settlement failed: {e}");
            open.reservation.amount
        }
    };
    let (served, provider) = match open.served {
        Some((m, p)) => (Some(m), Some(p.as_str())),
        None => (None, None),
    };
    st.usage.record(UsageRecord {
        request_id: open.request_id.to_string(),
        account_id: Some(open.caller.account_id),
        key_id: Some(open.caller.key_id),
        endpoint: open.endpoint,
        requested_model: open.requested,
        served_model: served,
        provider,
        prompt_tokens: outcome.usage.prompt_tokens as i64,
        completion_tokens: outcome.usage.completion_tokens as i64,
        credits: charged,
        latency_ms: open.started.elapsed().as_millis() as i64,
        status: outcome.status,
        error: outcome.error.map(str::to_owned),
        created_at: domain::time::now(),
    });
}

/// The last grant of each account, so the credit thresholds (NOTIF-03/04) cost no query
/// per request: refreshed after a minute, or at once when the balance is above it (a new
/// grant or purchase came in).
#[derive(Default)]
pub struct GrantCache {
    entries: Mutex<HashMap<i64, GrantEntry>>,
}

struct GrantEntry {
    grant: Option<(i64, i64)>,
    fetched: Instant,
    /// Dedupe keys this instance already recorded (the table deduplicates across them).
    recorded: Vec<String>,
}

const GRANT_TTL: Duration = Duration::from_secs(60);

impl GrantCache {
    pub async fn check(&self, st: &State, account_id: i64, balance: i64) {
        let cached = self.entries.lock().ok().and_then(|m| {
            m.get(&account_id)
                .filter(|e| e.fetched.elapsed() < GRANT_TTL)
                .filter(|e| e.grant.is_some_and(|(_, granted)| balance <= granted))
                .map(|e| e.grant)
        });
        let grant = match cached {
            Some(g) => g,
            None => match domain::events::last_grant(&st.svc.db, account_id).await {
                Ok(g) => {
                    if let Ok(mut m) = self.entries.lock() {
                        if m.len() > 100_000 {
                            m.clear();
                        }
                        m.insert(
                            account_id,
                            GrantEntry {
                                grant: g,
                                fetched: Instant::now(),
                                recorded: Vec::new(),
                            },
                        );
                    }
                    g
                }
                Err(e) => {
                    tracing::error!("last grant not read: {e}");
                    return;
                }
            },
        };
        let pct = st.svc.catalog.gateway.credit_warning_percent;
        let Some((kind, key)) = domain::events::credit_event(account_id, balance, grant, pct)
        else {
            return;
        };
        let seen = self.entries.lock().ok().is_some_and(|m| {
            m.get(&account_id)
                .is_some_and(|e| e.recorded.contains(&key))
        });
        if seen {
            return;
        }
        let payload = serde_json::json!({
            "balance": balance,
            "after_last_grant": grant.map_or(0, |g| g.1),
        });
        match domain::events::record(&st.svc.db, kind, Some(account_id), &key, payload).await {
            Ok(_) => {
                if let Ok(mut m) = self.entries.lock() {
                    if let Some(e) = m.get_mut(&account_id) {
                        e.recorded.push(key);
                    }
                }
            }
            Err(e) => tracing::error!("credit event not recorded: {e}"),
        }
    }
}

/// The usage row of a request refused before any reservation.
pub fn record_refusal(
    st: &State,
    ctx: &Ctx,
    endpoint: &'static str,
    caller: Option<&Caller>,
    requested: &str,
    e: &ApiError,
) {
    st.usage.record(UsageRecord {
        request_id: ctx.request_id.to_string(),
        account_id: caller.map(|c| c.account_id),
        key_id: caller.map(|c| c.key_id),
        endpoint,
        requested_model: requested.to_owned(),
        served_model: None,
        provider: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        credits: 0,
        latency_ms: ctx.started.elapsed().as_millis() as i64,
        status: e.status.as_u16(),
        error: Some(e.code().to_owned()),
        created_at: domain::time::now(),
    });
}
