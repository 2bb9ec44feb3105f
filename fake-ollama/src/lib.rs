//! A fake Ollama for tests, the benchmark and the demo mode, following the contract in
//! shared/reference/external-apis.md §1: the OpenAI-compatible `/v1` routes (chat
//! completions streamed as SSE or not, with usage; models; embeddings) and the native
//! `/api/tags`, `/api/ps`, `/api/version` and `GET /`.
//!
//! Layout:
//! - [`Config`]: the behaviour switches (token delay, busy, break a stream mid-way, models).
//!   Set at start (CLI flags / env vars in `main.rs`) and changed at run time with
//!   `POST /__control` (a partial [`Config`] as JSON); `GET /__control` shows the config
//!   and the [`Stats`] so tests can see what reached the upstream.
//! - `chat`: `/v1/chat/completions`, the only route with real behaviour.
//! - `other`: the remaining read-only routes and embeddings.
//! - [`go_json`]: chat bodies are decoded the way Ollama's Go server decodes them (keys
//!   matched case-insensitively, the last duplicate wins), so tests see what a real
//!   Ollama would understand.
//! - [`spawn`]: runs the server on a listener in the current tokio runtime (tests use
//!   port 0) and returns its address and a [`Handle`] to change behaviour directly.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

mod chat;
pub mod go_json;
mod other;

/// What the fake does. Every field can be changed at run time through `/__control`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// Pause before each generated token, to look like a model that takes time.
    pub token_delay_ms: u64,
    /// The length of every answer in tokens: what is generated unless `max_tokens` is
    /// smaller (then `finish_reason` is `length`).
    pub default_tokens: u32,
    /// Answer every inference request with Ollama's 503 "server busy".
    pub busy: bool,
    /// Streams stop after this many content chunks, without a finish chunk or `[DONE]`
    /// (0 = never). Non-stream requests then fail with a 500.
    pub break_after: u32,
    /// When breaking, first send an `{"error":…}` line (Ollama's native mid-stream error).
    pub break_with_error: bool,
    /// Streams fail before their first chunk (an error line or nothing, then the end).
    pub break_at_start: bool,
    /// What `/v1/models` and `/api/tags` list.
    pub models: Vec<String>,
    /// When true, unknown models answer 404 like Ollama; otherwise every name is served.
    pub strict_models: bool,
    /// Length of the vectors `/v1/embeddings` returns.
    pub embedding_dims: usize,
    /// Misbehave: answer in the other mode than asked (SSE to a non-stream request, one
    /// JSON answer to a stream request).
    pub wrong_mode: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            token_delay_ms: 0,
            default_tokens: 20,
            busy: false,
            break_after: 0,
            break_with_error: false,
            break_at_start: false,
            models: [
                "llama3.2:3b",
                "smollm2:135m",
                "qwen2.5-coder:14b",
                "mistral-small3.2:24b",
                "qwen3-30b-40k",
                "Qwen3-VL-32B",
                "gpt-oss:20b",
                "all-minilm",
                // Models an admin or the upstream may offer but the portal never serves.
                "glm-4.7-flash",
                "bge-m3",
                "nomic-embed-text",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            strict_models: false,
            embedding_dims: 8,
            wrong_mode: false,
        }
    }
}

/// A change to the [`Config`]: only the fields present are changed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ConfigPatch {
    pub token_delay_ms: Option<u64>,
    pub default_tokens: Option<u32>,
    pub busy: Option<bool>,
    pub break_after: Option<u32>,
    pub break_with_error: Option<bool>,
    pub break_at_start: Option<bool>,
    pub models: Option<Vec<String>>,
    pub strict_models: Option<bool>,
    pub embedding_dims: Option<usize>,
    pub wrong_mode: Option<bool>,
}

impl Config {
    pub fn apply(&mut self, p: ConfigPatch) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = p.$f { self.$f = v; } )* };
        }
        set!(
            token_delay_ms,
            default_tokens,
            busy,
            break_after,
            break_with_error,
            break_at_start,
            models,
            strict_models,
            embedding_dims,
            wrong_mode
        );
    }
}

/// What reached the fake, for tests to assert on.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Stats {
    /// Chat completion requests received (busy answers included).
    pub chat_requests: u64,
    pub embedding_requests: u64,
    /// Requests being answered right now.
    pub in_flight: u64,
    /// The most that were ever in flight at once.
    pub max_in_flight: u64,
    /// The `model` of the last inference request, as received.
    pub last_model: Option<String>,
    /// The `Authorization` header of the last inference request.
    pub last_authorization: Option<String>,
    /// The last chat request body, as received (to check what the gateway passes on).
    pub last_body: Option<serde_json::Value>,
}

#[derive(Default)]
struct Counters {
    chat: AtomicU64,
    embed: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct Handle {
    config: Arc<RwLock<Config>>,
    counters: Arc<Counters>,
    last: Arc<RwLock<LastRequest>>,
}

#[derive(Default)]
struct LastRequest {
    model: Option<String>,
    authorization: Option<String>,
    body: Option<serde_json::Value>,
}

impl Handle {
    pub fn new(config: Config) -> Self {
        Self {
            config: Arc::new(RwLock::new(config)),
            counters: Arc::default(),
            last: Arc::default(),
        }
    }

    /// A copy of the current behaviour.
    pub fn config(&self) -> Config {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Changes the behaviour for every request from now on.
    pub fn update(&self, patch: ConfigPatch) {
        match self.config.write() {
            Ok(mut c) => c.apply(patch),
            Err(poisoned) => poisoned.into_inner().apply(patch),
        }
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let last = match self.last.read() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        Stats {
            chat_requests: c.chat.load(Ordering::Relaxed),
            embedding_requests: c.embed.load(Ordering::Relaxed),
            in_flight: c.in_flight.load(Ordering::Relaxed),
            max_in_flight: c.max_in_flight.load(Ordering::Relaxed),
            last_model: last.model.clone(),
            last_authorization: last.authorization.clone(),
            last_body: last.body.clone(),
        }
    }

    fn record(&self, model: &str, auth: Option<&str>, body: Option<serde_json::Value>) {
        let mut last = match self.last.write() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        last.model = Some(model.to_owned());
        last.authorization = auth.map(str::to_owned);
        if body.is_some() {
            last.body = body;
        }
    }

    /// Counts a request in flight until the returned guard is dropped.
    fn enter(&self) -> InFlight {
        let c = &self.counters;
        let now = c.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        c.max_in_flight.fetch_max(now, Ordering::Relaxed);
        InFlight(self.counters.clone())
    }
}

struct InFlight(Arc<Counters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The routes of the fake, with their state.
pub fn router(handle: Handle) -> Router {
    Router::new()
        .route("/", get(other::root).head(other::root))
        .route("/api/version", get(other::version))
        .route("/api/tags", get(other::tags).head(other::tags))
        .route("/api/ps", get(other::ps))
        .route("/v1/models", get(other::models))
        .route("/v1/models/{*id}", get(other::model))
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/embeddings", post(other::embeddings))
        .route("/__control", get(other::show_control).post(other::control))
        .with_state(handle)
}

/// Serves the fake on `addr` (port 0 picks a free one) in the current runtime.
/// Returns the bound address and the handle to steer it; the server runs until the
/// runtime ends.
pub async fn spawn(config: Config, addr: SocketAddr) -> std::io::Result<(SocketAddr, Handle)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let handle = Handle::new(config);
    let app = router(handle.clone());
    tokio::spawn(async move {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            // Without it every stream's last event waits for the delayed-ACK timer.
            let _ = tcp.set_nodelay(true);
        });
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("fake-ollama stopped: {e}");
        }
    });
    Ok((bound, handle))
}

/// Convenience for tests: a fake on 127.0.0.1 with a random port.
pub async fn spawn_local(config: Config) -> std::io::Result<(SocketAddr, Handle)> {
    spawn(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
