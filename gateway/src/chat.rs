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
use crate::metered::{self, Asked, Outgoing, CHAT};
use crate::openapi::{ChatCompletion, ChatCompletionEvent, ChatCompletionRequest, ErrorResponse};
use crate::relay::{PrimeError, Relay};
use crate::{body, State};

/// A chat completion, streamed (SSE) or not.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "chat",
    request_body = ChatCompletionRequest,
    responses(
        (status = 200, description = "The answer: JSON, or with `stream: true` server-sent events of ChatCompletionChunk ending with `data: [DONE]`",
            content((ChatCompletion = "application/json"), (ChatCompletionEvent = "text/event-stream")),
            headers(("x-request-id" = String), ("x-ratelimit-limit-requests" = String),
                ("x-ratelimit-remaining-requests" = String), ("x-ratelimit-reset-requests" = String))),
        (status = 400, description = "Invalid body or field (param names it; `invalid_request_body`, `max_tokens_too_large`), or refused by the model server", body = ErrorResponse),
        (status = 402, description = "Not enough credits (`insufficient_credits`, with `top_up_url`)", body = ErrorResponse),
        (status = 403, description = "The model needs a higher plan (`model_not_in_plan`)", body = ErrorResponse),
        (status = 404, description = "No such model (`model_not_found`)", body = ErrorResponse),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorResponse),
        (status = 413, description = "The body is too large (`request_too_large`)", body = ErrorResponse),
        (status = 502, description = "The model server failed (`upstream_error`, `upstream_wrong_mode`); nothing charged", body = ErrorResponse),
        (status = 503, description = "Busy or unavailable (`overloaded`, `upstream_unavailable`, `cloud_budget_exhausted`, `cloud_unavailable`); see `retry-after`", body = ErrorResponse)))]
pub async fn completions(
    AxState(st): AxState<Arc<State>>,
    Extension(ctx): Extension<Ctx>,
    Extension(caller): Extension<Arc<Caller>>,
    req: axum::extract::Request,
) -> Response {
    // The request whole rather than a `HeaderMap` extractor, which copies every header.
    let (parts, body) = req.into_parts();
    match run(&st, &ctx, &caller, &parts.headers, body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

/// [`completions`] for a request admitted outside the router
/// ([`crate::Gateway::chat_completions`]): the context and caller are in its extensions,
/// where admission put them.
pub async fn without_router(st: Arc<State>, req: axum::extract::Request) -> Response {
    let ext = req.extensions();
    let (Some(ctx), Some(caller)) = (ext.get::<Ctx>().cloned(), ext.get::<Arc<Caller>>().cloned())
    else {
        return ApiError::internal().into_response();
    };
    completions(AxState(st), Extension(ctx), Extension(caller), req).await
}

async fn run(
    st: &Arc<State>,
    ctx: &Ctx,
    caller: &Arc<Caller>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (object, req) =
        metered::read_body(st, ctx, caller, CHAT, headers, body, body::chat).await?;
    let admitted = metered::admit(
        st,
        ctx,
        caller,
        Asked {
            endpoint: CHAT,
            model: &req.model,
            body_bytes: object.text().len(),
            max_tokens: Some(req.max_tokens),
        },
    )
    .await?;
    let mut ticket = Some(admitted.ticket);
    let (res, route) = metered::send(
        st,
        &admitted.model,
        caller,
        &mut ticket,
        admitted.place,
        Outgoing {
            path: "/v1/chat/completions",
            body: &object,
            ask_usage: req.stream,
            max_tokens: admitted.max_tokens,
        },
    )
    .await?;
    let Some(ticket) = ticket else {
        return Err(ApiError::internal());
    };
    if req.stream {
        let mut relay = Relay::new(res, ticket, route.slot, req.client_wants_usage);
        match relay.prime().await {
            Ok(()) => {}
            Err(PrimeError::Failed) => return Err(ApiError::upstream_failed()),
            Err(PrimeError::WrongMode) => return Err(ApiError::upstream_wrong_mode()),
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
    metered::answer_json(ctx, res, ticket, route.slot).await
}
