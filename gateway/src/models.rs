//! `GET /v1/models` and `GET /v1/models/{id}`: what the key's plan may use, from the
//! catalog (never from the upstream, so a restricted model can never leak into the list).
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::catalog::Model;
use domain::models::{plan_name, Access};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::{ErrorResponse, ModelList, ModelObject};
use crate::State;

/// The endpoint's name in usage rows.
pub const MODELS: &str = "models";

/// The catalog has no dates; a fixed `created` keeps answers stable.
const CREATED: i64 = 1_764_028_800;

fn object(m: &Model) -> ModelObject {
    ModelObject {
        id: m.id.clone(),
        object: "model".into(),
        created: CREATED,
        owned_by: "resayil".into(),
    }
}

/// The models the key's plan may use.
#[utoipa::path(get, path = "/v1/models", tag = "models",
    responses((status = 200, description = "The models of the key's plan (never a restricted one)", body = ModelList,
        headers(("x-request-id" = String), ("x-ratelimit-limit-requests" = String),
            ("x-ratelimit-remaining-requests" = String), ("x-ratelimit-reset-requests" = String)))))]
pub async fn list(
    AxState(st): AxState<Arc<State>>,
    Extension(caller): Extension<Arc<Caller>>,
) -> Json<ModelList> {
    let catalog = &st.svc.catalog;
    let data: Vec<ModelObject> = catalog
        .models_for_plan(&catalog.plans[caller.plan])
        .into_iter()
        .map(object)
        .collect();
    Json(ModelList {
        object: "list".into(),
        data,
    })
}

/// One model, if the key's plan may use it.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "models",
    params(("id" = String, Path, description = "A model id")),
    responses(
        (status = 200, description = "The model", body = ModelObject,
            headers(("x-request-id" = String), ("x-ratelimit-limit-requests" = String),
                ("x-ratelimit-remaining-requests" = String), ("x-ratelimit-reset-requests" = String))),
        (status = 403, description = "The model needs a higher plan (`model_not_in_plan`)", body = ErrorResponse),
        (status = 404, description = "No such model (`model_not_found`)", body = ErrorResponse)))]
pub async fn get(
    AxState(st): AxState<Arc<State>>,
    Extension(caller): Extension<Arc<Caller>>,
    Path(id): Path<String>,
) -> Response {
    let catalog = &st.svc.catalog;
    match catalog.access(&catalog.plans[caller.plan], &id) {
        Access::Allowed(m) => Json(object(m)).into_response(),
        Access::NeedsPlan(p) => ApiError::needs_plan(&id, &plan_name(p)).into_response(),
        Access::NotFound => ApiError::model_not_found(&id).into_response(),
    }
}
