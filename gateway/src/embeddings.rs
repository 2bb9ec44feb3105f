//! `POST /v1/embeddings` for the embedding models of the catalog (never a denied one).
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::error::ApiError;
use crate::metered::{self, Asked, Outgoing, EMBEDDINGS};
use crate::openapi::{EmbeddingList, EmbeddingRequest, ErrorResponse};
use crate::{body, State};

/// Embeddings of one or more texts.
#[utoipa::path(post, path = "/v1/embeddings", tag = "embeddings",
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "The embeddings", body = EmbeddingList,
            headers(("x-request-id" = String), ("x-ratelimit-limit-requests" = String),
                ("x-ratelimit-remaining-requests" = String), ("x-ratelimit-reset-requests" = String))),
        (status = 400, description = "Invalid body or field (param names it), or refused by the model server", body = ErrorResponse),
        (status = 402, description = "Not enough credits (`insufficient_credits`, with `top_up_url`)", body = ErrorResponse),
        (status = 403, description = "The model needs a higher plan (`model_not_in_plan`)", body = ErrorResponse),
        (status = 404, description = "No such model (`model_not_found`)", body = ErrorResponse),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorResponse),
        (status = 413, description = "The body is too large (`request_too_large`)", body = ErrorResponse),
        (status = 502, description = "The model server failed (`upstream_error`); nothing charged", body = ErrorResponse),
        (status = 503, description = "Busy or unavailable; see `retry-after`", body = ErrorResponse)))]
pub async fn create(
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

fn check_input(body: &body::Object) -> Result<(), ApiError> {
    if body.is_non_empty_string("input") || body.is_non_empty_array("input") {
        return Ok(());
    }
    if body.is_null_or_absent("input") {
        return Err(ApiError::bad_request(
            Some("input"),
            "'input' is a required property.",
        ));
    }
    Err(ApiError::bad_request(
        Some("input"),
        "'input' must be a non-empty string or array.",
    ))
}

async fn run(
    st: &Arc<State>,
    ctx: &Ctx,
    caller: &Arc<Caller>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (object, requested) = metered::read_body(st, ctx, caller, EMBEDDINGS, headers, body, |o| {
        body::model(o).and_then(|m| check_input(o).map(|()| m))
    })
    .await?;
    let admitted = metered::admit(
        st,
        ctx,
        caller,
        Asked {
            endpoint: EMBEDDINGS,
            model: &requested,
            body_bytes: object.text().len(),
            max_tokens: None,
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
            path: "/v1/embeddings",
            body: &object,
            ask_usage: false,
            max_tokens: None,
        },
    )
    .await?;
    let Some(ticket) = ticket else {
        return Err(ApiError::internal());
    };
    metered::answer_json(ctx, res, ticket, route.slot).await
}
