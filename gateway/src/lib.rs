//! The metered OpenAI-compatible gateway to Ollama, as a library the server mounts under
//! `/v1`: `/chat/completions` (SSE or not), `/embeddings`, `/models`, `/models/{id}`.
//!
//! Layout:
//! - [`Gateway`]: built once from `domain::Services`; [`Gateway::router`] for the server
//!   (and [`Gateway::chat_completions`]: that route without the router, which the server
//!   dispatches itself), [`Gateway::shutdown`] to let open requests finish and flush the
//!   usage rows.
//! - `context`, `admission` (below): the middleware every request passes.
//! - `auth`, `ratelimit`, `shared` (Redis): who calls and how often.
//! - `metered`, `chat`, `embeddings`, `models`, `body`: the endpoints.
//! - `upstream`, `capacity`, `budget`: where a request goes (local, cloud, wait queue).
//! - `direct`: the HTTP/1.1 client of the local Ollama (its connection driven by the
//!   request's own task); the cloud goes through reqwest.
//! - `strict`: the JSON parser that gives every body one meaning (no duplicate keys, no
//!   keys that differ only in case): what Ollama reads is what the gateway checked.
//! - `concurrency`: requests an account has open at once.
//! - `relay`, `settlement`: streaming, then reporting how the request ended to
//!   `domain::pricing` (what it costs) and the meter (charges and usage rows).
//!
//! Order of the steps of a request (each cheap; the first refusal answers):
//! 1. request id and start time — every response carries `x-request-id`;
//! 2. API key → account and plan (cached 2 s; a revocation drops it at once, on every
//!    instance — see `auth`) — 401; a suspended account's keys — 403
//!    `account_suspended`; a team key spends its team owner's account, and is refused
//!    while the owner's plan does not allow teams — 403 `team_plan_required` — or while
//!    the member who uses it is suspended — 403 `account_suspended`, dropped from every
//!    instance's cache like a revoked key;
//! 3. rate limit per account per minute (Redis if configured, else in-process) — 429, and
//!    `x-ratelimit-*` headers on every answer from here on;
//! 4. body: size (413), JSON with one meaning — a key twice, or two keys that differ only
//!    in letter case, or a case variant of a known field are refused (400 naming the
//!    key) — and the required fields (400 naming the field);
//! 5. model access: unknown or denied 404 `model_not_found`, higher plan 403;
//!    `max_tokens` above the model's limit 400; more open requests than the plan allows
//!    429 `concurrency_limit_exceeded`;
//! 6. credit reservation (`domain::pricing`), atomic, never below zero — 402 with
//!    `top_up_url`: in memory
//!    against this instance's credit hold, or a ledger debit for small balances
//!    (`domain::meter`);
//! 7. upstream choice: cloud models within the daily cloud cap; local models while the
//!    local queue is at most `queue_failover_depth` deep, else the cloud fallback, else the
//!    priority wait queue — 503 with `retry-after`;
//! 8. the answer (SSE relayed as it arrives); the upstream gets a body rebuilt from the
//!    checked object with the model, `max_tokens` and usage request the gateway decided;
//!    then — off the response path — the actual cost and the usage row go to the meter's
//!    batched writer (charge, ledger row, threshold events).
//!
//! Requests without a valid key write no usage row (a flood of them must not become a
//! flood of writes): they are counted in memory ([`Gateway::keyless_refusals`]).
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use domain::meter::Meter;
use domain::Services;

mod auth;
mod body;
mod budget;
mod capacity;
mod chat;
mod concurrency;
mod context;
mod direct;
mod embeddings;
mod error;
mod metered;
pub mod metrics;
mod models;
pub mod openapi;
mod ratelimit;
mod relay;
pub mod repoll;
mod settlement;
mod shared;
mod strict;
mod upstream;

pub use budget::{kuwait_day, seconds_to_kuwait_midnight};
pub use error::ApiError;
pub use ratelimit::FAILED_KEYS_PER_MINUTE;

use auth::KeyCache;
use budget::CloudBudget;
use capacity::LocalCapacity;
use context::{RequestIds, Tracker};
use ratelimit::Limiter;
use upstream::Upstream;

/// How long [`Gateway::shutdown`] lets open requests finish.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Domain(#[from] domain::Error),
}

/// Everything the handlers share.
pub(crate) struct State {
    svc: Services,
    keys: Arc<KeyCache>,
    limiter: Limiter,
    local: Upstream,
    /// None when `OLLAMA_CLOUD_URL` is not set: cloud models answer 503, no failover.
    cloud: Option<Upstream>,
    capacity: Arc<LocalCapacity>,
    budget: CloudBudget,
    /// Credit holds, charges and usage rows.
    meter: Meter,
    tracker: Arc<Tracker>,
    /// Requests open per account.
    open: Arc<concurrency::OpenRequests>,
    /// Requests refused before a key was known (no usage row is written for them).
    keyless_refusals: std::sync::atomic::AtomicU64,
    ids: Arc<RequestIds>,
    /// Where a 402 sends the customer.
    top_up_url: String,
    /// The shared Redis, for the readiness check.
    redis: Option<shared::Redis>,
    /// True once open streams must end (the drain deadline of a shutdown passed).
    drain: tokio::sync::watch::Sender<bool>,
}

/// The gateway: cheap to clone, one per process.
#[derive(Clone)]
pub struct Gateway {
    st: Arc<State>,
}

impl Gateway {
    /// Connects to Redis (when `REDIS_URL` is set), builds the upstream clients and starts
    /// the background tasks (usage writer, revocation watcher) on the current runtime.
    pub async fn new(svc: Services) -> Result<Self, StartError> {
        // The cloud upstream speaks https; sqlx already builds rustls with ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = svc.settings.clone();
        let limits = svc.catalog.gateway.clone();
        let redis = match &settings.redis_url {
            Some(url) => Some(shared::Redis::connect(url, &settings.redis_prefix).await?),
            None => None,
        };
        let timeouts = upstream::timeouts(&settings);
        let local = Upstream::new(&settings.ollama_url, None, timeouts)?;
        let cloud = match &settings.ollama_cloud_url {
            Some(url) => Some(Upstream::new(
                url,
                settings.ollama_cloud_api_key.as_ref(),
                timeouts,
            )?),
            None => None,
        };
        let capacity = LocalCapacity::new(
            redis.clone(),
            local.base(),
            limits.local_parallel + limits.queue_failover_depth,
            limits.wait_queue_max,
            Duration::from_millis(limits.wait_timeout_ms),
        );
        let budget = CloudBudget::new(redis.clone(), svc.db.clone(), svc.catalog.clone()).await?;
        let st = State {
            keys: KeyCache::start(svc.db.clone(), redis.clone()),
            limiter: Limiter::new(redis.clone(), svc.clock.clone()),
            redis,
            drain: tokio::sync::watch::channel(false).0,
            local,
            cloud,
            capacity,
            budget,
            meter: Meter::start(svc.db.clone(), limits.credit_warning_percent),
            tracker: Arc::default(),
            open: Arc::default(),
            keyless_refusals: Default::default(),
            ids: Arc::new(RequestIds::new()),
            top_up_url: format!("{}/billing", settings.public_base_url.trim_end_matches('/')),
            svc,
        };
        Ok(Self { st: Arc::new(st) })
    }

    /// The routes under `/v1` (merged, not nested: a nested router rewrites every
    /// request's URI), with their state and middleware. Any other path under `/v1` is an
    /// OpenAI-style 404 after the same admission.
    pub fn router(&self) -> Router {
        let st = self.st.clone();
        let not_found = || async { ApiError::not_found() };
        Router::new()
            .route("/v1/chat/completions", post(chat::completions))
            .route("/v1/embeddings", post(embeddings::create))
            .route("/v1/models", get(models::list))
            .route("/v1/models/{*id}", get(models::get))
            .route("/v1", any(not_found))
            .route("/v1/", any(not_found))
            .route("/v1/{*rest}", any(not_found))
            .layer(from_fn_with_state(st.clone(), admission))
            .with_state(st)
    }

    /// `POST /v1/chat/completions` without the router: the same admission ([`admission`])
    /// and handler as that route of [`Gateway::router`], for a server that dispatches the
    /// API's busiest request itself. The router's layers (a boxed service and future per
    /// layer, the route lookup, the extractors) cost such a request 6–9% of its
    /// instructions (BENCHMARKS.md, session 18).
    pub async fn chat_completions(&self, req: Request) -> Response {
        let st = &self.st;
        // The handler's future boxed, as the router would: inline, its several kilobytes
        // would be copied into each enclosing future in turn (admission's three steps).
        enter(st, req, |req| {
            Box::pin(chat::without_router(st.clone(), req))
        })
        .await
    }

    /// The portal's playground: `POST /playground/chat`, a chat completion exactly as
    /// `/v1/chat/completions` answers it (same admission from step 3 on, limits,
    /// reservation, settlement, ledger and usage rows — the rows marked `playground`), for
    /// an account the portal already authenticated by its signed-in session. The server
    /// mounts it behind its same-origin check and a layer that puts the session's
    /// [`SessionAccount`] into the request's extensions; without one the answer is 401.
    pub fn playground_router(&self) -> Router {
        let st = self.st.clone();
        Router::new()
            .route("/playground/chat", post(chat::completions))
            .layer(from_fn_with_state(st.clone(), session_admission))
            .with_state(st)
    }

    /// Requests refused before a key was known, since start (they write no usage row).
    pub fn keyless_refusals(&self) -> u64 {
        self.st
            .keyless_refusals
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Lets open requests (streams included) finish and settle, up to
    /// [`SHUTDOWN_DEADLINE`], then writes every queued usage row. Call it after the HTTP
    /// server stopped accepting connections.
    pub async fn shutdown(&self) {
        self.shutdown_within(SHUTDOWN_DEADLINE).await;
    }

    pub async fn shutdown_within(&self, deadline: Duration) {
        if !self.st.tracker.wait_idle(deadline).await {
            tracing::warn!(
                open = self.st.tracker.open(),
                "shutdown deadline passed with requests still open"
            );
        }
        self.st.meter.shutdown().await;
        self.st.capacity.flush().await;
    }

    /// Ends every open stream now: each gets the `upstream_stream_broken` error event and
    /// is charged only what was generated (`relay`). For a shutdown whose drain deadline
    /// passed; streams started afterwards end at once too.
    pub fn end_streams(&self) {
        self.st.drain.send_replace(true);
    }

    /// Requests (and settlements) still open.
    pub fn open_requests(&self) -> usize {
        self.st.tracker.open()
    }

    /// `None` without Redis; else whether it answers PING (the readiness check).
    pub async fn redis_ping(&self) -> Option<Result<(), String>> {
        let redis = self.st.redis.as_ref()?;
        Some(redis.ping().await.map_err(|e| e.to_string()))
    }

    /// Sets the gauges that are read rather than counted (scrape time, not request
    /// time): upstream in flight and queue, credit holds, the writer's backlog, the
    /// day's cloud budget.
    pub async fn observe(&self) {
        use ::metrics::gauge;
        let st = &self.st;
        gauge!(metrics::UPSTREAM_IN_FLIGHT, "provider" => "local")
            .set(st.capacity.in_flight().await as f64);
        gauge!(metrics::QUEUE_DEPTH).set(st.capacity.waiting() as f64);
        let (holds, free) = st.meter.holds();
        gauge!(metrics::HOLDS).set(holds as f64);
        gauge!(metrics::HELD_CREDITS).set(free as f64);
        gauge!(metrics::WRITER_BACKLOG).set(st.meter.backlog() as f64);
        gauge!(metrics::OPEN_REQUESTS).set(st.tracker.open() as f64);
        gauge!(metrics::CLOUD_USED).set(st.budget.used_today().await as f64);
        gauge!(metrics::CLOUD_CAP).set(st.svc.catalog.gateway.cloud_daily_cap as f64);
    }

    /// Cloud requests counted today (Asia/Kuwait day), for the admin dashboard.
    pub async fn cloud_used_today(&self) -> u64 {
        self.st.budget.used_today().await
    }

    /// Requests in flight to the local Ollama (across instances with Redis).
    pub async fn local_in_flight(&self) -> u64 {
        self.st.capacity.in_flight().await
    }
}

/// The signed-in account of a playground request, as the portal's session found it.
#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub account_id: i64,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
}

/// Step 2 of the playground: the session's account instead of a key (401 without one),
/// then the same steps as an API request.
async fn session_admission(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    mut req: Request,
    next: Next,
) -> Response {
    let ctx = context::begin(&st.ids, &mut req);
    let res = session_steps(&st, &ctx, req, next).await;
    context::with_id(&ctx, res)
}

async fn session_steps(st: &Arc<State>, ctx: &context::Ctx, req: Request, next: Next) -> Response {
    let Some(account) = req.extensions().get::<SessionAccount>().cloned() else {
        st.keyless_refusals
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return ApiError::not_signed_in().into_response();
    };
    let caller = Arc::new(auth::Caller::session(
        &st.svc,
        account.account_id,
        account.plan.as_deref(),
        account.plan_expires_at,
    ));
    admitted(st, caller, ctx, metered::CHAT, req, |req| next.run(req)).await
}

/// The endpoint a path is, as usage rows name it.
fn endpoint_of(path: &str) -> &'static str {
    if path.ends_with("/chat/completions") {
        metered::CHAT
    } else if path.ends_with("/embeddings") {
        metered::EMBEDDINGS
    } else if path.ends_with("/models") || path.contains("/models/") {
        models::MODELS
    } else {
        "other"
    }
}

/// The client's IP: the socket peer, or behind trusted proxies the address they saw
/// (`domain::throttle::forwarded_for`, `TRUSTED_PROXIES`).
fn client_ip(st: &State, req: &Request) -> std::net::IpAddr {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |ci| ci.0.ip());
    let forwarded = req.headers().get_all("x-forwarded-for");
    domain::throttle::forwarded_for(
        peer,
        forwarded.iter().map(http::HeaderValue::as_bytes),
        &st.svc.proxies,
    )
}

/// Steps 2 and 3: key, then rate limit; the caller goes into the request's extensions and
/// the rate-limit headers onto the response. Every answer gets a usage row: the metered
/// endpoints write their own once admitted, this writes the rest.
async fn admission(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    req: Request,
    next: Next,
) -> Response {
    enter(&st, req, |req| next.run(req)).await
}

/// Steps 1 to 3 ([`admission`]), then `inner` (the route's handler) for an admitted
/// request.
async fn enter<F, Fut>(st: &Arc<State>, mut req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let ctx = context::begin(&st.ids, &mut req);
    let res = key_steps(st, &ctx, req, inner).await;
    context::with_id(&ctx, res)
}

async fn key_steps<F, Fut>(st: &Arc<State>, ctx: &context::Ctx, req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let endpoint = endpoint_of(req.uri().path());
    let caller = match st.keys.authenticate(&st.svc, req.headers()).await {
        Ok(c) => c,
        Err(e) => {
            // Counted per client IP: the limit of requests without a valid key.
            let subject = ratelimit::Subject::Ip(client_ip(st, &req));
            let decision = st
                .limiter
                .check(subject, ratelimit::FAILED_KEYS_PER_MINUTE)
                .await;
            let e = if decision.allowed {
                e
            } else {
                ApiError::rate_limited(decision.limit, decision.reset_secs)
            };
            st.keyless_refusals
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            metrics::request(&metrics::Done {
                request_id: &ctx.request_id,
                endpoint,
                model: "",
                status: e.status.as_u16(),
                provider: "",
                latency: ctx.started.elapsed(),
                account: None,
                key_prefix: "",
                credits: 0,
                error: Some(e.code()),
            });
            let mut res = e.into_response();
            decision.write_headers(res.headers_mut());
            return res;
        }
    };
    if caller.team_lapsed {
        let plan = domain::models::plan_name(domain::teams::team_plan(&st.svc.catalog));
        let e = ApiError::team_plan_lapsed(&plan, &st.top_up_url);
        settlement::record_refusal(st, ctx, endpoint, Some(&caller), "", &e);
        return e.into_response();
    }
    admitted(st, caller, ctx, endpoint, req, inner).await
}

/// Step 3 onwards, for a caller already known (by key, or by the portal's session); then
/// `inner`, the route's handler.
async fn admitted<F, Fut>(
    st: &Arc<State>,
    caller: Arc<auth::Caller>,
    ctx: &context::Ctx,
    endpoint: &'static str,
    mut req: Request,
    inner: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let metered = endpoint == metered::CHAT || endpoint == metered::EMBEDDINGS;
    let plan = &st.svc.catalog.plans[caller.plan];
    let subject = ratelimit::Subject::Account(caller.account_id);
    let limit = plan.requests_per_minute;
    // With Redis, a metered request counts in its window in the script that takes its
    // place in flight (`ratelimit::Gate`): one round trip for both. A subject already
    // over its limit in this window is refused here, before its body is read.
    if metered && st.limiter.shared() && st.limiter.known_over(subject, limit).is_none() {
        let gate = Arc::new(ratelimit::Gate::new(subject, limit));
        if let Some(ctx) = req.extensions_mut().get_mut::<context::Ctx>() {
            ctx.gate = Some(gate.clone());
        }
        req.extensions_mut().insert(caller.clone());
        let mut res = inner(req).await;
        // Every answer of the metered handlers decides first; this counts a request
        // that somehow did not (it was served, so it counts).
        let decision = gate.decide(&st.limiter).await;
        decision.write_headers(res.headers_mut());
        return res;
    }
    let decision = st.limiter.check(subject, limit).await;
    let mut res = if decision.allowed {
        req.extensions_mut().insert(caller.clone());
        let res = inner(req).await;
        if !metered {
            settlement::record_answer(st, ctx, endpoint, &caller, res.status().as_u16());
        }
        res
    } else {
        let e = ApiError::rate_limited(decision.limit, decision.reset_secs);
        settlement::record_refusal(st, ctx, endpoint, Some(&caller), "", &e);
        e.into_response()
    };
    decision.write_headers(res.headers_mut());
    res
}
