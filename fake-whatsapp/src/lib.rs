//! A fake WhatsApp sender for tests and demos, following shared/reference/external-apis.md
//! §4:
//! - the Meta Cloud API: `POST /{version}/{phone_number_id}/messages` with
//!   `Authorization: Bearer <token>`, a `template` (name, language code, body parameters)
//!   or `text` message; 200 `{"messaging_product","contacts":[{input,wa_id}],
//!   "messages":[{"id":"wamid…"}]}`, errors as `{"error":{message,type,code,fbtrace_id}}`;
//! - the generic gateway: `POST /send` with `{"phone","message"}` and the header
//!   `Token: <token>`; 200 `{"id","status":"sent"}`.
//!
//! Layout:
//! - [`Config`]: tokens, the phone number id, how long a hang lasts.
//! - [`Handle`]: what a test holds — the messages accepted so far ([`Handle::received`]),
//!   failure switches ([`Handle::fail`], [`Handle::fail_times`], [`Handle::recover`]) and
//!   the requests in flight (to catch a sender mid-request).
//! - [`spawn`] / [`spawn_on`]: serve on a listener in the current runtime.
//!
//! A message counts as received only when the fake answers 200: a failed or hung request
//! leaves no trace, as at a real provider that did not accept it.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What the fake accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The only Bearer token the Meta endpoint accepts (else 401, error 190).
    pub meta_token: String,
    /// The only phone number id in the Meta path (else 400, error 100).
    pub phone_number_id: String,
    /// The only `Token` header the generic endpoint accepts (else 401).
    pub http_token: String,
    /// How long [`Failure::Hang`] holds a request before answering 504.
    pub hang_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            meta_token: "fake-meta-token".into(),
            phone_number_id: "1234567890".into(),
            http_token: "fake-http-token".into(),
            hang_ms: 60_000,
        }
    }
}

/// How the fake refuses requests while a failure is switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// A Graph API error with this `error.code` and HTTP status (e.g. 131030 / 400,
    /// 130429 / 429, 131000 / 500). The generic endpoint answers the status.
    MetaError { code: i64, status: u16 },
    /// HTTP 503 with an HTML body, like an outage in front of the API.
    ServerError,
    /// Holds the request for [`Config::hang_ms`], then 504.
    Hang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Meta,
    Http,
}

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub channel: Channel,
    /// E.164 with the leading `+`.
    pub to: String,
    /// Meta: the template name and language code.
    pub template: Option<String>,
    pub lang: Option<String>,
    /// Meta: the body parameters as `(parameter_name, text)` (name empty if positional).
    pub params: Vec<(String, String)>,
    /// The generic gateway's `message`, or a Meta `text` message's body.
    pub text: Option<String>,
    /// The id the fake answered with.
    pub id: String,
}

struct State {
    config: Config,
    failure: Option<Failure>,
    /// How many more requests fail; `None` = until [`Handle::recover`].
    failures_left: Option<u32>,
    received: Vec<Received>,
    in_flight: u32,
    requests: u64,
    next_id: u64,
}

/// Shared by the handlers and the test that spawned the fake.
#[derive(Clone)]
pub struct Handle {
    state: Arc<Mutex<State>>,
}

impl Handle {
    fn new(config: Config) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                config,
                failure: None,
                failures_left: None,
                received: Vec::new(),
                in_flight: 0,
                requests: 0,
                next_id: 1,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn config(&self) -> Config {
        self.lock().config.clone()
    }

    /// Every accepted message, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The accepted messages to one number.
    pub fn received_by(&self, to: &str) -> Vec<Received> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.to == to)
            .cloned()
            .collect()
    }

    /// Every request from now on fails this way, until [`Handle::recover`].
    pub fn fail(&self, failure: Failure) {
        let mut s = self.lock();
        s.failure = Some(failure);
        s.failures_left = None;
    }

    /// The next `n` requests fail this way, then the fake works again.
    pub fn fail_times(&self, failure: Failure, n: u32) {
        let mut s = self.lock();
        s.failure = Some(failure);
        s.failures_left = Some(n);
    }

    /// Back to normal.
    pub fn recover(&self) {
        let mut s = self.lock();
        s.failure = None;
        s.failures_left = None;
    }

    /// Requests being answered right now (a hung request stays here until it ends).
    pub fn in_flight(&self) -> u32 {
        self.lock().in_flight
    }

    /// Requests seen so far, accepted or not.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Counts the request and returns the failure it gets, if any.
    fn begin(&self) -> (Option<Failure>, u64) {
        let mut s = self.lock();
        s.requests += 1;
        let failure = s.failure;
        if let Some(left) = s.failures_left.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                s.failure = None;
                s.failures_left = None;
            }
        }
        (failure, s.config.hang_ms)
    }

    fn accept(&self, mut r: Received) -> String {
        let mut s = self.lock();
        r.id = format!("wamid.FAKE{:012}", s.next_id);
        s.next_id += 1;
        tracing::info!(to = %r.to, template = ?r.template, text = ?r.text, "fake WhatsApp accepted a message");
        let id = r.id.clone();
        s.received.push(r);
        id
    }
}

/// Decrements the in-flight count when a request ends, however it ends.
struct InFlight(Handle);

impl InFlight {
    fn new(h: &Handle) -> Self {
        h.lock().in_flight += 1;
        Self(h.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

/// The fake's routes, for embedding in another server.
pub fn router(handle: Handle) -> Router {
    Router::new()
        .route("/{version}/{phone_number_id}/messages", post(meta))
        .route("/send", post(generic))
        .route("/messages", get(list))
        .with_state(handle)
}

/// Serves the fake on `listener` in the current runtime; returns its base URL
/// (`http://127.0.0.1:<port>`) and the [`Handle`].
pub async fn spawn_on(
    listener: tokio::net::TcpListener,
    config: Config,
) -> std::io::Result<(String, Handle)> {
    let base = format!("http://{}", listener.local_addr()?);
    let handle = Handle::new(config);
    let app = router(handle.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "fake WhatsApp stopped");
        }
    });
    Ok((base, handle))
}

/// Serves the fake on a random local port.
pub async fn spawn(config: Config) -> std::io::Result<(String, Handle)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    spawn_on(listener, config).await
}

fn graph_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"error": {
        "message": format!("(#{code}) {message}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "AFakeTraceId",
    }});
    (status, Json(body)).into_response()
}

/// Applies a switched-on failure; `None` lets the request through.
async fn failure_response(failure: Option<Failure>, hang_ms: u64, meta: bool) -> Option<Response> {
    match failure? {
        Failure::MetaError { code, status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            Some(if meta {
                graph_error(status, code, "failure switched on in the fake")
            } else {
                (status, Json(json!({"error": format!("code {code}")}))).into_response()
            })
        }
        Failure::ServerError => Some(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("content-type", "text/html")],
                "<html><body>503 Service Unavailable</body></html>",
            )
                .into_response(),
        ),
        Failure::Hang => {
            tokio::time::sleep(Duration::from_millis(hang_ms)).await;
            Some((StatusCode::GATEWAY_TIMEOUT, "upstream timed out").into_response())
        }
    }
}

async fn meta(
    AxState(h): AxState<Handle>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let _in_flight = InFlight::new(&h);
    let config = h.config();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(config.meta_token.as_str()) {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            190,
            "Error validating access token",
        );
    }
    let (failure, hang_ms) = h.begin();
    if let Some(res) = failure_response(failure, hang_ms, true).await {
        return res;
    }
    if phone_number_id != config.phone_number_id {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "Unsupported post request. Object does not exist",
        );
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, "Invalid JSON");
    };
    match meta_message(&req) {
        Ok(r) => {
            let input = req["to"].as_str().unwrap_or_default().to_owned();
            let wa_id = r.to.trim_start_matches('+').to_owned();
            let id = h.accept(r);
            Json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": input, "wa_id": wa_id}],
                "messages": [{"id": id, "message_status": "accepted"}],
            }))
            .into_response()
        }
        Err(why) => graph_error(StatusCode::BAD_REQUEST, 100, why),
    }
}

/// Checks a Cloud API message body and reads what it says.
fn meta_message(req: &Value) -> Result<Received, &'static str> {
    if req["messaging_product"] != "whatsapp" {
        return Err("messaging_product must be whatsapp");
    }
    let to = req["to"].as_str().ok_or("to is required")?;
    let digits = to.trim_start_matches('+');
    if digits.len() < 8 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("to must be a phone number in international format");
    }
    let mut r = Received {
        channel: Channel::Meta,
        to: format!("+{digits}"),
        template: None,
        lang: None,
        params: Vec::new(),
        text: None,
        id: String::new(),
    };
    match req["type"].as_str() {
        Some("template") => {
            let t = &req["template"];
            let name = t["name"].as_str().filter(|n| !n.is_empty());
            r.template = Some(name.ok_or("template.name is required")?.to_owned());
            let code = t["language"]["code"].as_str().filter(|c| !c.is_empty());
            r.lang = Some(code.ok_or("template.language.code is required")?.to_owned());
            for component in t["components"].as_array().into_iter().flatten() {
                if component["type"] != "body" {
                    continue;
                }
                for p in component["parameters"].as_array().into_iter().flatten() {
                    let text = p["text"].as_str().ok_or("parameter text is required")?;
                    let name = p["parameter_name"].as_str().unwrap_or_default();
                    r.params.push((name.to_owned(), text.to_owned()));
                }
            }
        }
        Some("text") => {
            let body = req["text"]["body"].as_str().filter(|b| !b.is_empty());
            let body = body.ok_or("text.body is required")?;
            if body.chars().count() > 4096 {
                return Err("text.body is longer than 4096 characters");
            }
            r.text = Some(body.to_owned());
        }
        _ => return Err("type must be template or text"),
    }
    Ok(r)
}

#[derive(Deserialize)]
struct GenericBody {
    phone: String,
    message: String,
}

async fn generic(
    AxState(h): AxState<Handle>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let _in_flight = InFlight::new(&h);
    let config = h.config();
    let token = headers.get("token").and_then(|v| v.to_str().ok());
    if token != Some(config.http_token.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "bad token"})),
        )
            .into_response();
    }
    let (failure, hang_ms) = h.begin();
    if let Some(res) = failure_response(failure, hang_ms, false).await {
        return res;
    }
    let Ok(req) = serde_json::from_slice::<GenericBody>(&body) else {
        let why = json!({"error": "expected {\"phone\", \"message\"}"});
        return (StatusCode::BAD_REQUEST, Json(why)).into_response();
    };
    let digits = req.phone.strip_prefix('+').unwrap_or_default();
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) || req.message.is_empty() {
        let why = json!({"error": "phone must be E.164 with +, message non-empty"});
        return (StatusCode::BAD_REQUEST, Json(why)).into_response();
    }
    let id = h.accept(Received {
        channel: Channel::Http,
        to: req.phone,
        template: None,
        lang: None,
        params: Vec::new(),
        text: Some(req.message),
        id: String::new(),
    });
    Json(json!({"id": id, "status": "sent"})).into_response()
}

async fn list(AxState(h): AxState<Handle>) -> Json<Vec<Received>> {
    Json(h.received())
}
