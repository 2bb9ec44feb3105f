//! `POST /v1/chat/completions`, streamed (SSE) or not.
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use crate::auth::Caller;
use crate::billing::{record_refusal, Outcome, Usage};
use crate::context::Ctx;
use crate::error::ApiError;
use crate::metered::{self, Outgoing, CHAT};
use crate::relay::Relay;
use crate::{body, State};

#[derive(Deserialize)]
struct WithUsage {
    usage: Option<Usage>,
}

pub async fn completions(
    AxState(st): AxState<Arc<State>>,
    Extension(ctx): Extension<Ctx>,
    Extension(caller): Extension<Arc<Caller>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match run(&st, &ctx, &caller, &headers, body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn run(
    st: &Arc<State>,
    ctx: &Ctx,
    caller: &Arc<Caller>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limits = &st.svc.catalog.gateway;
    let (original, mut object) = body::read_object(headers, body, limits.max_body_bytes)
        .await
        .inspect_err(|e| record_refusal(st, ctx, CHAT, Some(caller), "", e))?;
    let req = body::chat(&object).inspect_err(|e| {
        let model = object.get("model").and_then(|m| m.as_str()).unwrap_or("");
        record_refusal(st, ctx, CHAT, Some(caller), model, e)
    })?;
    let prompt_estimate = (original.len() as u64).div_ceil(4);
    let max_output = req.max_tokens.unwrap_or(limits.default_max_tokens);
    let (model, ticket) = metered::admit(
        st,
        ctx,
        caller,
        CHAT,
        &req.model,
        prompt_estimate,
        max_output,
    )
    .await?;
    let priority = st.svc.catalog.plans[caller.plan].priority;
    let mut ticket = Some(ticket);
    let (res, route) = metered::send(
        st,
        &model,
        priority,
        &mut ticket,
        Outgoing {
            path: "/v1/chat/completions",
            original: &original,
            body: &mut object,
            requested: &req.model,
            ask_usage: req.stream,
        },
    )
    .await?;
    let Some(ticket) = ticket else {
        return Err(ApiError::internal());
    };
    if req.stream {
        let mut relay = Relay::new(res, ticket, route.slot, req.client_wants_usage);
        if relay.prime().await.is_err() {
            return Err(ApiError::upstream_failed());
        }
        let mut response = Body::from_stream(relay).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        return Ok(response);
    }
    let bytes = match res.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(request_id = %ctx.request_id, "upstream body failed: {e}");
            let err = ApiError::upstream_failed();
            ticket.finish(Outcome::failed(&err));
            return Err(err);
        }
    };
    drop(route.slot);
    let usage = serde_json::from_slice::<WithUsage>(&bytes)
        .ok()
        .and_then(|w| w.usage)
        // An answer without usage is charged for its estimated input.
        .unwrap_or(Usage {
            prompt_tokens: prompt_estimate,
            ..Usage::default()
        });
    ticket.finish(Outcome::answered(usage));
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}
