//! The steps shared by the metered endpoints (chat completions, embeddings) after the body
//! is read: model access, the completion limit, the account's open requests, credit
//! reservation, and sending to the chosen upstream with one failover to the cloud when the
//! local upstream is busy or down. What anything costs is `domain::pricing`.
use std::sync::Arc;

use domain::catalog::Model;
use domain::models::{plan_name, Access};
use domain::pricing::{Estimate, Usage};

use crate::auth::Caller;
use crate::body::{self, Decided, Object};
use crate::capacity::Slot;
use crate::context::Ctx;
use crate::error::ApiError;
use crate::settlement::{record_refusal, NewTicket, Outcome, Ticket};
use crate::upstream::{self, Answer, Provider, Route, Sent};
use crate::State;

/// Endpoint names in usage rows.
pub const CHAT: &str = "chat.completions";
pub const EMBEDDINGS: &str = "embeddings";

/// Reads the body of a metered request and checks it with `parse`. A refusal is recorded
/// as a usage row, naming the model when the body has one.
pub async fn read_body<T>(
    st: &Arc<State>,
    ctx: &Ctx,
    caller: &Arc<Caller>,
    endpoint: &'static str,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    parse: impl FnOnce(&Object) -> Result<T, ApiError>,
) -> Result<(Object, T), ApiError> {
    let limits = &st.svc.catalog.gateway;
    let object = match body::read_object(headers, body, limits.max_body_bytes).await {
        Ok(read) => read,
        Err(e) => return Err(refusal(st, ctx, endpoint, caller, "", e).await),
    };
    match parse(&object) {
        Ok(parsed) => Ok((object, parsed)),
        Err(e) => {
            let model = object.get("model");
            let model = model.as_ref().and_then(|m| m.as_str()).unwrap_or("");
            Err(refusal(st, ctx, endpoint, caller, model, e).await)
        }
    }
}

/// Records a refusal as a usage row. A request whose rate-limit window is still to be
/// counted (`ratelimit::Gate`) is counted first, and refused for its rate instead when
/// it is over: the answer a request over its limit always gets.
pub async fn refusal(
    st: &Arc<State>,
    ctx: &Ctx,
    endpoint: &'static str,
    caller: &Caller,
    requested: &str,
    e: ApiError,
) -> ApiError {
    if let Some(gate) = &ctx.gate {
        let d = gate.decide(&st.limiter).await;
        if !d.allowed {
            let e = ApiError::rate_limited(d.limit, d.reset_secs);
            record_refusal(st, ctx, endpoint, Some(caller), "", &e);
            return e;
        }
    }
    record_refusal(st, ctx, endpoint, Some(caller), requested, &e);
    e
}

/// What a metered request asks for, once its body is read.
pub struct Asked<'a> {
    pub endpoint: &'static str,
    pub model: &'a str,
    pub body_bytes: usize,
    /// Chat: the request's `max_tokens`; None for embeddings (no completion).
    pub max_tokens: Option<Option<u64>>,
}

/// An admitted request.
pub struct Admitted {
    pub model: Model,
    pub ticket: Ticket,
    /// The completion limit the upstream is told (chat).
    pub max_tokens: Option<u64>,
    /// The local place taken with the rate-limit window (Redis): `None` when not tried,
    /// `Some(None)` when none was free.
    pub place: Option<Option<Slot>>,
}

/// Model access, the completion limit, the account's open requests, then reservation. A
/// refusal is already recorded as a usage row.
pub async fn admit(
    st: &Arc<State>,
    ctx: &Ctx,
    caller: &Arc<Caller>,
    asked: Asked<'_>,
) -> Result<Admitted, ApiError> {
    let Asked {
        endpoint,
        model: requested,
        ..
    } = asked;
    let refuse = |e: ApiError| refusal(st, ctx, endpoint, caller, requested, e);
    let catalog = &st.svc.catalog;
    let plan = &catalog.plans[caller.plan];
    let model = match catalog.access(plan, requested) {
        Access::Allowed(m) => m,
        Access::NeedsPlan(p) => {
            return Err(refuse(ApiError::needs_plan(requested, &plan_name(p))).await)
        }
        Access::NotFound => return Err(refuse(ApiError::model_not_found(requested)).await),
    };
    let wants_embedding = endpoint == EMBEDDINGS;
    if model.embedding != wants_embedding {
        let msg = if wants_embedding {
            format!("The model `{requested}` does not create embeddings; use an embedding model.")
        } else {
            format!("The model `{requested}` is an embedding model; use /v1/embeddings.")
        };
        return Err(refuse(ApiError::bad_request(Some("model"), msg)).await);
    }
    let (completion_limit, upstream_max) = match asked.max_tokens {
        None => (0, None),
        Some(max_tokens) => match catalog.check_max_tokens(model, max_tokens) {
            Ok((reserved, upstream)) => (reserved, Some(upstream)),
            Err(e) => return Err(refuse(ApiError::too_many_tokens(e.asked, e.limit)).await),
        },
    };
    // With Redis: the rate-limit window and, for a local model, a place in flight, in
    // one round trip (a place taken here is given back if the request is refused below).
    let place = match &ctx.gate {
        Some(gate) => {
            let want = model.kind == domain::catalog::ModelKind::Local;
            let (d, slot) = gate
                .decide_with_place(&st.limiter, &st.capacity, want)
                .await;
            if !d.allowed {
                let e = ApiError::rate_limited(d.limit, d.reset_secs);
                record_refusal(st, ctx, endpoint, Some(caller), "", &e);
                return Err(e);
            }
            want.then_some(slot)
        }
        None => None,
    };
    let limit = catalog.concurrent_requests(plan);
    let Some(open) = st.open.enter(caller.account_id, limit) else {
        return Err(refuse(ApiError::too_many_open(limit)).await);
    };
    let estimate = Estimate::new(asked.body_bytes, completion_limit);
    let amount = catalog.reservation(model, &estimate);
    let reservation = match st
        .meter
        .reserve_as(caller.key_id, caller.account_id, amount, &ctx.request_id)
        .await
    {
        Ok(r) => r,
        Err(domain::Error::InsufficientCredits) => {
            record_exhausted(st, caller.account_id);
            return Err(refuse(ApiError::no_credits(&st.top_up_url)).await);
        }
        Err(domain::Error::Unauthorized) => {
            if let Some(key_id) = caller.key_id {
                st.keys.forget(&[key_id]);
            }
            return Err(refuse(ApiError::invalid_key()).await);
        }
        Err(domain::Error::Suspended) => {
            if let Some(key_id) = caller.key_id {
                st.keys.forget(&[key_id]);
            }
            return Err(refuse(ApiError::account_suspended()).await);
        }
        Err(e) => {
            tracing::error!(request_id = %ctx.request_id, "reservation failed: {e}");
            return Err(refuse(ApiError::internal()).await);
        }
    };
    let ticket = Ticket::new(
        st,
        NewTicket {
            ctx,
            endpoint,
            caller,
            requested,
            model,
            reservation,
            estimate,
            open,
        },
    );
    Ok(Admitted {
        model: model.clone(),
        ticket,
        max_tokens: upstream_max,
        place,
    })
}

/// NOTIF-04 also fires on a 402.
fn record_exhausted(st: &Arc<State>, account_id: i64) {
    let db = st.svc.db.clone();
    let pct = st.svc.catalog.gateway.credit_warning_percent;
    tokio::spawn(async move {
        if let Err(e) = domain::events::check_credits(&db, account_id, 0, pct).await {
            tracing::error!("credit event not recorded: {e}");
        }
    });
}

/// What to send and how.
pub struct Outgoing<'a> {
    pub path: &'static str,
    pub body: &'a Object,
    /// Ask the upstream for `stream_options.include_usage`.
    pub ask_usage: bool,
    /// The completion limit the upstream is told (chat).
    pub max_tokens: Option<u64>,
}

/// Chooses the upstream and sends. On failure the ticket is finished (nothing charged)
/// and the error returned.
pub async fn send(
    st: &Arc<State>,
    model: &Model,
    caller: &Caller,
    ticket: &mut Option<Ticket>,
    place: Option<Option<Slot>>,
    out: Outgoing<'_>,
) -> Result<(Answer, Route), ApiError> {
    let priority = st.svc.catalog.plans[caller.plan].priority;
    let fail = |ticket: &mut Option<Ticket>, e: ApiError| {
        if let Some(t) = ticket.take() {
            t.finish(Outcome::failed(&e));
        }
        e
    };
    let mut route = match upstream::choose(st, model, priority, caller.account_id, place).await {
        Ok(r) => r,
        Err(e) => return Err(fail(ticket, e)),
    };
    loop {
        let bytes = body::for_upstream(
            out.body,
            &Decided {
                model: &route.upstream_model,
                ask_usage: out.ask_usage,
                max_tokens: out.max_tokens,
            },
        );
        let target = match route.provider {
            Provider::Local => Some(&st.local),
            Provider::Cloud => st.cloud.as_ref(),
        };
        let Some(target) = target else {
            return Err(fail(ticket, ApiError::cloud_unavailable()));
        };
        if let Some(t) = ticket.as_mut() {
            t.served_by(&route.served, route.provider);
        }
        // A shutdown's drain deadline also ends a request still waiting for its answer's
        // head (a non-stream answer's head comes only when it is complete).
        let drain = match ticket.as_ref() {
            Some(t) => t.drain_signal(),
            None => tokio::sync::watch::channel(false).1,
        };
        let sent = tokio::select! {
            sent = target.send(out.path, bytes) => sent,
            () = crate::relay::drained(drain) => {
                return Err(fail(ticket, ApiError::shutting_down()));
            }
        };
        let err = match sent {
            Sent::Ok(res) => return Ok((res, route)),
            Sent::Failed(e) => return Err(fail(ticket, e)),
            Sent::Down => ApiError::unreachable(),
            Sent::Busy => ApiError::busy(2),
        };
        // Busy or down: a local request gets one try on its cloud fallback.
        if route.provider == Provider::Local {
            route.slot = None;
            if let Some(cloud) = upstream::failover(st, model).await {
                route = cloud;
                continue;
            }
        }
        return Err(fail(ticket, err));
    }
}

#[derive(serde::Deserialize)]
struct WithUsage {
    usage: Option<Usage>,
}

/// `"usage"`, searched from the end.
static USAGE_KEY: std::sync::LazyLock<memchr::memmem::FinderRev<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::FinderRev::new(b"\"usage\""));

/// The usage of a whole (non-stream) answer: None when the answer is not a JSON object
/// (an SSE stream: the upstream streamed although not asked to), `Some(None)` when it
/// reports none. The answer passes to the client as the upstream wrote it; the gateway
/// reads only this.
fn answer_usage(answer: &[u8]) -> Option<Option<Usage>> {
    let answer = answer.trim_ascii();
    if !answer.starts_with(b"{") {
        return None;
    }
    if let Some(usage) = usage_written_last(answer) {
        return Some(Some(usage));
    }
    serde_json::from_slice::<WithUsage>(answer)
        .ok()
        .map(|a| a.usage)
}

/// Ollama writes `usage` as the answer's last field: read from there, without reading
/// the rest of the answer, when `usage` is a key of the outermost object — the object
/// its value closes is followed by nothing else. Anything else (usage elsewhere, or not
/// an object) is None, and the caller reads the whole answer.
fn usage_written_last(answer: &[u8]) -> Option<Usage> {
    let at = USAGE_KEY.rfind(answer)?;
    // A key: its quote follows `{` or `,`. A quote inside a string is escaped (`\"`), so
    // `"usage"` found inside a string or a longer key is not preceded by either.
    if !matches!(answer[..at].trim_ascii_end().last(), Some(b'{' | b',')) {
        return None;
    }
    let value = answer[at + b"\"usage\"".len()..]
        .trim_ascii_start()
        .strip_prefix(b":")?;
    let mut values = serde_json::Deserializer::from_slice(value).into_iter::<Usage>();
    let usage = values.next()?.ok()?;
    // The object that holds it ends the answer: it is the outermost one.
    (value[values.byte_offset()..].trim_ascii() == b"}").then_some(usage)
}

/// Reads a non-stream answer, frees the local slot, settles and relays it as JSON. An
/// answer that is not a JSON object (an SSE stream: the upstream streamed although not
/// asked to) is refused as a wrong-mode answer and charged like one.
pub async fn answer_json(
    ctx: &Ctx,
    res: Answer,
    ticket: Ticket,
    slot: Option<Slot>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let drain = ticket.drain_signal();
    let read = tokio::select! {
        // The body first: it has usually come with the head, and then the drain signal is
        // never polled (polling it registers the task under a lock every request shares).
        biased;
        read = res.bytes() => read,
        () = crate::relay::drained(drain) => {
            let err = ApiError::shutting_down();
            ticket.finish(Outcome::failed(&err));
            return Err(err);
        }
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(request_id = %ctx.request_id, "upstream body failed: {e}");
            let err = ApiError::upstream_failed();
            ticket.finish(Outcome::failed(&err));
            return Err(err);
        }
    };
    drop(slot);
    let Some(usage) = answer_usage(&bytes) else {
        tracing::error!(request_id = %ctx.request_id, "upstream answer is not JSON: wrong mode");
        ticket.finish(Outcome::wrong_mode(None));
        return Err(ApiError::upstream_wrong_mode());
    };
    ticket.finish(Outcome::answered(usage, None));
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::{answer_usage, Usage};

    #[test]
    fn the_usage_of_an_answer_is_read_wherever_it_is_written() {
        let ollama = br#"{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"Hi \"usage\":{\"total_tokens\":1}}","role":"assistant"}}],"id":"chatcmpl-1","model":"m","object":"chat.completion","usage":{"completion_tokens":20,"prompt_tokens":7,"total_tokens":27}}
"#;
        assert_eq!(answer_usage(ollama), Some(Some(Usage::new(7, 20))));
        // Elsewhere in the object, spaced, with fields the gateway does not read.
        let first = br#" { "usage" : {"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0}} , "id":"x" } "#;
        assert_eq!(answer_usage(first), Some(Some(Usage::new(3, 4))));
        // A `usage` deeper down, last in the text, is not the answer's.
        let nested = br#"{"id":"x","choices":[],"x":{"usage":{"prompt_tokens":9}}}"#;
        assert_eq!(answer_usage(nested), Some(None));
        let nested = br#"{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"x":{"usage":{"prompt_tokens":9}}}"#;
        assert_eq!(answer_usage(nested), Some(Some(Usage::new(1, 1))));
        // A key that ends in `"usage` (an escaped quote) is not `usage`.
        let trap = br#"{"usage":{"prompt_tokens":1},"a\"usage":{"prompt_tokens":9}}"#;
        assert_eq!(
            answer_usage(trap).flatten().map(|u| u.prompt_tokens),
            Some(1)
        );
        // No usage, or null.
        assert_eq!(answer_usage(br#"{"id":"x"}"#), Some(None));
        assert_eq!(answer_usage(br#"{"id":"x","usage":null}"#), Some(None));
        // Not an object: a stream, or nothing.
        assert_eq!(
            answer_usage(b"data: {\"usage\":{}}\n\ndata: [DONE]\n\n"),
            None
        );
        assert_eq!(answer_usage(b""), None);
        assert_eq!(answer_usage(b"{\"id\":"), None);
    }
}
