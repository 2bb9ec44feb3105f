//! `POST /v1/chat/completions` as Ollama's OpenAI layer answers it: deterministic text, one
//! token per streamed chunk, a separate finish chunk, the `include_usage` chunk with
//! `"choices":[]`, then `data: [DONE]`.
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::other::{authorization, busy, error, not_found};
use crate::{Config, Handle};

const WORDS: &[&str] = &[
    "Hello", " from", " the", " fake", " Ollama", ".", " This", " text", " is", " always", " the",
    " same", " for", " the", " same", " request", ",", " one", " token", " per", " chunk",
];

/// The deterministic `i`-th token of every answer.
pub fn token(i: u32) -> &'static str {
    WORDS[i as usize % WORDS.len()]
}

/// A rough token count: one per 4 bytes, at least one for non-empty text.
pub fn count_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

/// What the handler needs from the request body.
struct Request {
    model: String,
    stream: bool,
    include_usage: bool,
    /// Tokens to generate, and whether that was a limit the client set.
    max_tokens: Option<u32>,
    prompt_tokens: u64,
}

fn parse(body: &Value) -> Result<Request, &'static str> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or("model is required")?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("messages is required")?;
    let prompt_tokens = messages
        .iter()
        .map(|m| match m.get("content") {
            Some(Value::String(s)) => count_tokens(s),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .map(count_tokens)
                .sum(),
            _ => 0,
        })
        .sum::<u64>()
        .max(1);
    // Ollama's OpenAI layer reads `max_tokens` only.
    let max_tokens = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .map(|n| n.min(100_000) as u32);
    Ok(Request {
        model: model.to_owned(),
        stream: body.get("stream").and_then(Value::as_bool) == Some(true),
        include_usage: body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true),
        max_tokens,
        prompt_tokens,
    })
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub async fn completions(State(h): State<Handle>, headers: HeaderMap, body: Bytes) -> Response {
    h.counters.chat.fetch_add(1, Ordering::Relaxed);
    let in_flight = h.enter();
    let Ok(body) = crate::go_json::decode_chat(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid JSON",
        );
    };
    let req = match parse(&body) {
        Ok(r) => r,
        Err(msg) => return error(StatusCode::BAD_REQUEST, "invalid_request_error", msg),
    };
    h.record(&req.model, authorization(&headers), Some(body));
    let cfg = h.config();
    if cfg.busy {
        return busy();
    }
    if cfg.strict_models && !cfg.models.contains(&req.model) {
        return not_found(&req.model);
    }
    let id = format!("chatcmpl-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    if req.stream != cfg.wrong_mode {
        stream(req, cfg, id, in_flight)
    } else {
        complete(req, cfg, id).await
    }
}

fn tokens_to_generate(req: &Request, cfg: &Config) -> u32 {
    req.max_tokens
        .map_or(cfg.default_tokens, |m| m.min(cfg.default_tokens))
}

fn finish_reason(req: &Request, cfg: &Config) -> &'static str {
    if req.max_tokens.is_some_and(|m| m < cfg.default_tokens) {
        "length"
    } else {
        "stop"
    }
}

fn usage(req: &Request, completion: u32) -> Value {
    json!({"prompt_tokens": req.prompt_tokens, "completion_tokens": completion,
           "total_tokens": req.prompt_tokens + u64::from(completion)})
}

async fn complete(req: Request, cfg: Config, id: String) -> Response {
    let n = tokens_to_generate(&req, &cfg);
    if cfg.break_after > 0 && cfg.break_after < n {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "model runner has unexpectedly stopped",
        );
    }
    if cfg.token_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(cfg.token_delay_ms * u64::from(n))).await;
    }
    let content: String = (0..n).map(token).collect();
    Json(json!({
        "id": id, "object": "chat.completion", "created": now(), "model": req.model,
        "system_fingerprint": "fp_ollama",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": finish_reason(&req, &cfg)}],
        "usage": usage(&req, n),
    }))
    .into_response()
}

fn event(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

fn stream(req: Request, cfg: Config, id: String, in_flight: crate::InFlight) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(32);
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let created = now();
        let chunk = |delta: Value, finish: Value| {
            event(
                &json!({"id": id, "object": "chat.completion.chunk", "created": created,
                "model": req.model, "system_fingerprint": "fp_ollama",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
            )
        };
        let n = tokens_to_generate(&req, &cfg);
        for i in 0..n {
            if (cfg.break_at_start && i == 0) || (cfg.break_after > 0 && i == cfg.break_after) {
                if cfg.break_with_error {
                    let line = json!({"error": "model runner has unexpectedly stopped"});
                    let _ = tx.send(event(&line)).await;
                }
                return;
            }
            if cfg.token_delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(cfg.token_delay_ms)).await;
            }
            let delta = if i == 0 {
                json!({"role": "assistant", "content": token(i)})
            } else {
                json!({"content": token(i)})
            };
            if tx.send(chunk(delta, Value::Null)).await.is_err() {
                return; // the client went away
            }
        }
        let _ = tx
            .send(chunk(json!({}), json!(finish_reason(&req, &cfg))))
            .await;
        if req.include_usage {
            let last = json!({"id": id, "object": "chat.completion.chunk", "created": created,
                "model": req.model, "system_fingerprint": "fp_ollama", "choices": [],
                "usage": usage(&req, n)});
            let _ = tx.send(event(&last)).await;
        }
        let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(body),
    )
        .into_response()
}
