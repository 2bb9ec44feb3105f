//! `GET /v1/models` and `GET /v1/models/{id}`: what the key's plan may use, from the
//! catalog (never from the upstream, so a restricted model can never leak into the list).
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::catalog::Model;
use domain::models::{plan_name, Access};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::State;

/// The endpoint's name in usage rows.
pub const MODELS: &str = "models";

/// The catalog has no dates; a fixed `created` keeps answers stable.
const CREATED: i64 = 1_764_028_800;

fn object(m: &Model) -> Value {
    json!({"id": m.id, "object": "model", "created": CREATED, "owned_by": "resayil"})
}

pub async fn list(
    AxState(st): AxState<Arc<State>>,
    Extension(caller): Extension<Arc<Caller>>,
) -> Json<Value> {
    let catalog = &st.svc.catalog;
    let data: Vec<Value> = catalog
        .models_for_plan(&catalog.plans[caller.plan])
        .into_iter()
        .map(object)
        .collect();
    Json(json!({"object": "list", "data": data}))
}

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
