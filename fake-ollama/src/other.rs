//! The simple routes: health, version, tags, ps, models, embeddings, control.
use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{ConfigPatch, Handle};

/// Fixed so that responses are deterministic.
const CREATED: i64 = 1_764_000_000;

pub async fn root() -> &'static str {
    "Ollama is running"
}

pub async fn version() -> Json<Value> {
    Json(json!({"version": "0.12.0-fake"}))
}

fn details() -> Value {
    json!({"parent_model": "", "format": "gguf", "family": "fake", "families": ["fake"],
           "parameter_size": "1B", "quantization_level": "Q4_K_M"})
}

pub async fn tags(State(h): State<Handle>) -> Json<Value> {
    let models: Vec<Value> = h
        .config()
        .models
        .iter()
        .map(|m| {
            json!({"name": m, "model": m, "modified_at": "2026-11-25T00:00:00Z",
                   "size": 1_000_000, "digest": "0".repeat(64), "details": details()})
        })
        .collect();
    Json(json!({ "models": models }))
}

pub async fn ps(State(h): State<Handle>) -> Json<Value> {
    let models: Vec<Value> = h
        .config()
        .models
        .iter()
        .take(1)
        .map(|m| {
            json!({"name": m, "model": m, "size": 1_000_000, "digest": "0".repeat(64),
                   "details": details(), "expires_at": "2099-01-01T00:00:00Z",
                   "size_vram": 0, "context_length": 4096})
        })
        .collect();
    Json(json!({ "models": models }))
}

pub async fn models(State(h): State<Handle>) -> Json<Value> {
    let data: Vec<Value> = h
        .config()
        .models
        .iter()
        .map(|m| json!({"id": m, "object": "model", "created": CREATED, "owned_by": "library"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

pub async fn model(State(h): State<Handle>, Path(id): Path<String>) -> Response {
    if h.config().models.contains(&id) {
        Json(json!({"id": id, "object": "model", "created": CREATED, "owned_by": "library"}))
            .into_response()
    } else {
        not_found(&id)
    }
}

/// Ollama's `/v1` error shape.
pub fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    (status, Json(body)).into_response()
}

pub fn busy() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "api_error",
        "server busy, please try again.  maximum pending requests exceeded",
    )
}

pub fn not_found(model: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found_error",
        &format!("model \"{model}\" not found, try pulling it first"),
    )
}

pub fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok())
}

#[derive(Deserialize)]
pub struct EmbeddingRequest {
    model: Option<String>,
    input: Option<Value>,
}

pub async fn embeddings(
    State(h): State<Handle>,
    headers: HeaderMap,
    body: Result<Json<EmbeddingRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    h.counters.embed.fetch_add(1, Ordering::Relaxed);
    let _in_flight = h.enter();
    let Ok(Json(req)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid JSON",
        );
    };
    let cfg = h.config();
    let Some(model) = req.model else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "model is required",
        );
    };
    h.record(&model, authorization(&headers), None);
    if cfg.busy {
        return busy();
    }
    if cfg.strict_models && !cfg.models.contains(&model) {
        return not_found(&model);
    }
    let inputs: Vec<String> = match req.input {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "invalid input",
            )
        }
    };
    let mut tokens = 0u64;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            tokens += crate::chat::count_tokens(text);
            json!({"object": "embedding", "embedding": vector(text, cfg.embedding_dims), "index": i})
        })
        .collect();
    Json(json!({"object": "list", "data": data, "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
    .into_response()
}

/// A deterministic unit-ish vector derived from the text (FNV-1a per dimension).
fn vector(text: &str, dims: usize) -> Vec<f32> {
    (0..dims)
        .map(|d| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ d as u64;
            for b in text.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            ((h % 2000) as f32 / 1000.0) - 1.0
        })
        .collect()
}

pub async fn show_control(State(h): State<Handle>) -> Json<Value> {
    Json(json!({"config": h.config(), "stats": h.stats()}))
}

pub async fn control(State(h): State<Handle>, Json(patch): Json<ConfigPatch>) -> Json<Value> {
    h.update(patch);
    tracing::info!(config = ?h.config(), "behaviour changed");
    Json(json!({"config": h.config(), "stats": h.stats()}))
}

#[cfg(test)]
mod tests {
    use super::vector;

    #[test]
    fn embeddings_are_deterministic_and_differ_by_text() {
        assert_eq!(vector("a", 4), vector("a", 4));
        assert_ne!(vector("a", 4), vector("b", 4));
        assert!(vector("hello", 16).iter().all(|x| (-1.0..=1.0).contains(x)));
    }
}
