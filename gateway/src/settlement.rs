//! Settlement: the [`Ticket`] of a request that holds a credit reservation is finished
//! exactly once with an [`Outcome`] (how the request ended); finishing asks
//! `domain::pricing` what that ending costs and hands the charge and the usage row to the
//! meter (`domain::meter`), whose writer charges, records the threshold events and writes
//! the row — off the response path, without waiting. The rules of what is charged live in
//! `domain::pricing`; this module only reports the ending.
use std::sync::Arc;
use std::time::Instant;

use domain::catalog::Model;
use domain::meter::Reservation;
use domain::pricing::{Ending, Estimate, Usage};
use domain::usage::UsageRecord;

use crate::auth::Caller;
use crate::concurrency::OpenGuard;
use crate::context::{Ctx, TrackGuard};
use crate::error::ApiError;
use crate::upstream::Provider;
use crate::State;

/// How a request ended, and what the client was told.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// The status the client got (499: it went away first).
    pub status: u16,
    pub ending: Ending,
    pub error: Option<&'static str>,
}

impl Outcome {
    /// A complete answer; `relayed`: content chunks streamed (None: not a stream).
    pub fn answered(usage: Option<Usage>, relayed: Option<u64>) -> Self {
        Self {
            status: 200,
            ending: Ending::Answered { usage, relayed },
            error: None,
        }
    }

    /// The upstream answered in the other mode than asked (SSE for JSON, JSON for SSE):
    /// the client got 502 `upstream_wrong_mode`; the work is charged (`domain::pricing`).
    pub fn wrong_mode(usage: Option<Usage>) -> Self {
        let e = ApiError::upstream_wrong_mode();
        Self {
            status: e.status.as_u16(),
            ending: Ending::WrongMode { usage },
            error: Some(e.code()),
        }
    }

    /// Nothing came out: `e` is what the client got.
    pub fn failed(e: &ApiError) -> Self {
        Self {
            status: e.status.as_u16(),
            ending: Ending::FailedBeforeOutput,
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
    /// What the reservation assumed: what endings without a usage report are charged from.
    estimate: Estimate,
    _track: TrackGuard,
    /// One of the account's open requests until the request is settled.
    _open: OpenGuard,
}

/// A request holding a reservation. Dropped without [`Ticket::finish`] the client went
/// away: [`Ending::GoneAfterUpstream`] once an upstream was called, else
/// [`Ending::GoneBeforeUpstream`].
pub struct Ticket(Option<Open>);

pub struct NewTicket<'a> {
    pub ctx: &'a Ctx,
    pub endpoint: &'static str,
    pub caller: &'a Arc<Caller>,
    pub requested: &'a str,
    pub model: &'a Model,
    pub reservation: Reservation,
    pub estimate: Estimate,
    pub open: OpenGuard,
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
            estimate: n.estimate,
            _track: st.tracker.enter(),
            _open: n.open,
        }))
    }

    /// Records which upstream serves the request.
    pub fn served_by(&mut self, model: &str, provider: Provider) {
        if let Some(open) = &mut self.0 {
            open.served = Some((model.to_owned(), provider));
        }
    }

    /// Reports the time to the first event of a stream.
    pub fn first_output(&self) {
        if let Some(open) = &self.0 {
            crate::metrics::first_token(&open.model.id, open.started.elapsed());
        }
    }

    /// Resolves when the gateway is draining and open streams must end
    /// ([`crate::Gateway::end_streams`]).
    pub fn drain_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        match &self.0 {
            Some(open) => open.st.drain.subscribe(),
            None => tokio::sync::watch::channel(false).1,
        }
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
            let ending = if open.served.is_some() {
                Ending::GoneAfterUpstream { relayed: 0 }
            } else {
                Ending::GoneBeforeUpstream
            };
            let outcome = Outcome {
                status: 499,
                ending,
                error: Some("client_closed"),
            };
            settle(open, outcome);
        }
    }
}

/// Hands the request's cost and usage row to the meter: no await, no database.
fn settle(open: Open, outcome: Outcome) {
    let st = &open.st;
    let charge = st
        .svc
        .catalog
        .charge(&open.model, &open.estimate, outcome.ending);
    let (served, provider) = match open.served {
        Some((m, p)) => (Some(m), Some(p.as_str())),
        None => (None, None),
    };
    crate::metrics::request(&crate::metrics::Done {
        request_id: &open.request_id,
        endpoint: open.endpoint,
        model: &open.model.id,
        status: outcome.status,
        provider: provider.unwrap_or(""),
        latency: open.started.elapsed(),
        account: Some(open.caller.account_id),
        key_prefix: &open.caller.prefix,
        credits: charge.credits,
        error: outcome.error,
    });
    let row = UsageRecord {
        request_id: open.request_id.to_string(),
        account_id: Some(open.caller.account_id),
        key_id: open.caller.key_id,
        member_id: open.caller.member_id,
        playground: open.caller.playground(),
        endpoint: open.endpoint,
        requested_model: open.requested,
        served_model: served,
        provider,
        prompt_tokens: clamp(charge.usage.prompt_tokens),
        completion_tokens: clamp(charge.usage.completion_tokens),
        // Set by the meter's writer to what was charged in the end.
        credits: 0,
        latency_ms: open.started.elapsed().as_millis() as i64,
        status: outcome.status,
        error: outcome.error.map(str::to_owned),
        created_at: domain::time::now(),
    };
    st.meter.settle(open.reservation, charge.credits, row);
}

fn clamp(tokens: u64) -> i64 {
    i64::try_from(tokens).unwrap_or(i64::MAX)
}

/// The usage row of an unmetered request that passed admission (model lists, unknown
/// routes): no tokens, no credits.
pub fn record_answer(st: &State, ctx: &Ctx, endpoint: &'static str, caller: &Caller, status: u16) {
    crate::metrics::request(&crate::metrics::Done {
        request_id: &ctx.request_id,
        endpoint,
        model: "",
        status,
        provider: "",
        latency: ctx.started.elapsed(),
        account: Some(caller.account_id),
        key_prefix: &caller.prefix,
        credits: 0,
        error: None,
    });
    st.meter.record(UsageRecord {
        request_id: ctx.request_id.to_string(),
        account_id: Some(caller.account_id),
        key_id: caller.key_id,
        member_id: caller.member_id,
        playground: caller.playground(),
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
    crate::metrics::request(&crate::metrics::Done {
        request_id: &ctx.request_id,
        endpoint,
        model: crate::metrics::known_model(&st.svc.catalog, requested),
        status: e.status.as_u16(),
        provider: "",
        latency: ctx.started.elapsed(),
        account: caller.map(|c| c.account_id),
        key_prefix: caller.map_or("", |c| &c.prefix),
        credits: 0,
        error: Some(e.code()),
    });
    st.meter.record(UsageRecord {
        request_id: ctx.request_id.to_string(),
        account_id: caller.map(|c| c.account_id),
        key_id: caller.and_then(|c| c.key_id),
        member_id: caller.and_then(|c| c.member_id),
        playground: caller.is_some_and(Caller::playground),
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
