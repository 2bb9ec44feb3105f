//! `POST /v1/embeddings` for the embedding models of the catalog (never a denied one).
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::error::ApiError;
use crate::metered::{self, Asked, Outgoing, EMBEDDINGS};
use crate::{body, State};

pub async fn create(
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

fn check_input(body: &body::Object) -> Result<(), ApiError> {
    match body.get("input") {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        Some(Value::Array(a)) if !a.is_empty() => Ok(()),
        None | Some(Value::Null) => Err(ApiError::bad_request(
            Some("input"),
            "'input' is a required property.",
        )),
        Some(_) => Err(ApiError::bad_request(
            Some("input"),
            "'input' must be a non-empty string or array.",
        )),
    }
}

async fn run(
    st: &Arc<State>,
    ctx: &Ctx,
    caller: &Arc<Caller>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (original, mut object, requested) =
        metered::read_body(st, ctx, caller, EMBEDDINGS, headers, body, |o| {
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
            body_bytes: original.len(),
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
        Outgoing {
            path: "/v1/embeddings",
            body: &mut object,
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
