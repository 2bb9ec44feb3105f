//! What happens after admission: the [`Ticket`] of a request that holds a credit
//! reservation is finished exactly once with an [`Outcome`]; finishing hands the actual
//! cost and the usage row to the meter (`domain::meter`), whose writer charges, records
//! the threshold events and writes the row — off the response path, without waiting.
use std::sync::Arc;
use std::time::Instant;

use domain::catalog::Model;
use domain::meter::Reservation;
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
            settle(open, outcome);
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
            settle(open, outcome);
        }
    }
}

/// Hands the request's cost and usage row to the meter: no await, no database.
fn settle(open: Open, outcome: Outcome) {
    let st = &open.st;
    let actual = if outcome.charge {
        st.svc.catalog.cost(&open.model, outcome.usage.total())
    } else {
        0
    };
    let (served, provider) = match open.served {
        Some((m, p)) => (Some(m), Some(p.as_str())),
        None => (None, None),
    };
    let row = UsageRecord {
        request_id: open.request_id.to_string(),
        account_id: Some(open.caller.account_id),
        key_id: Some(open.caller.key_id),
        endpoint: open.endpoint,
        requested_model: open.requested,
        served_model: served,
        provider,
        prompt_tokens: outcome.usage.prompt_tokens as i64,
        completion_tokens: outcome.usage.completion_tokens as i64,
        // Set by the meter's writer to what was charged in the end.
        credits: 0,
        latency_ms: open.started.elapsed().as_millis() as i64,
        status: outcome.status,
        error: outcome.error.map(str::to_owned),
        created_at: domain::time::now(),
    };
    st.meter.settle(open.reservation, actual, row);
}

/// The usage row of an unmetered request that passed admission (model lists, unknown
/// routes): no tokens, no credits.
pub fn record_answer(st: &State, ctx: &Ctx, endpoint: &'static str, caller: &Caller, status: u16) {
    st.meter.record(UsageRecord {
        request_id: ctx.request_id.to_string(),
        account_id: Some(caller.account_id),
        key_id: Some(caller.key_id),
        endpoint,
        latency_ms: ctx.started.elapsed().as_millis() as i64,
        status,
        error: (status >= 400).then(|| format!("http_{status}")),
        created_at: domain::time::now(),
        ..UsageRecord::default()
    });
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
    st.meter.record(UsageRecord {
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
