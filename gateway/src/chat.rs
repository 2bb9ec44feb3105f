//! `POST /v1/chat/completions`, streamed (SSE) or not.
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::error::ApiError;
use crate::metered::{self, Outgoing, CHAT};
use crate::relay::Relay;
use crate::{body, State};

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
    let (original, mut object, req) =
        metered::read_body(st, ctx, caller, CHAT, headers, body, body::chat).await?;
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
        let mut response = Body::new(relay).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        return Ok(response);
    }
    metered::answer_json(ctx, res, ticket, route.slot, prompt_estimate).await
}
