//! The Ollama servers behind the gateway and the choice between them for one request.
//!
//! Local models go to `OLLAMA_URL` while it has places ([`LocalCapacity`]); when its queue
//! is deeper than the catalog's `queue_failover_depth`, to the model's cloud fallback while
//! the day's cloud budget lasts; otherwise they wait in the priority queue. Cloud models
//! (`…:cloud`, `…-cloud`) go to `OLLAMA_CLOUD_URL` (Ollama's cloud API, which names them
//! without the suffix) within the same budget.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use bytes::Bytes;
use domain::catalog::{Model, ModelKind};
use secrecy::{ExposeSecret, SecretString};

use crate::capacity::{Slot, WaitError};
use crate::direct::{DirectClient, DirectResponse, Timeouts};
use crate::error::ApiError;
use crate::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Local,
    Cloud,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Cloud => "cloud",
        }
    }
}

/// An upstream's answer, whichever client fetched it.
pub enum Answer {
    Pooled(reqwest::Response),
    Direct(DirectResponse),
}

impl Answer {
    pub fn status(&self) -> StatusCode {
        match self {
            Answer::Pooled(r) => r.status(),
            Answer::Direct(r) => r.status(),
        }
    }

    pub async fn bytes(self) -> Result<Bytes, String> {
        match self {
            Answer::Pooled(r) => r.bytes().await.map_err(|e| e.to_string()),
            Answer::Direct(r) => r.bytes().await,
        }
    }

    pub fn into_stream(self) -> futures::stream::BoxStream<'static, Result<Bytes, String>> {
        use futures::StreamExt;
        match self {
            Answer::Pooled(r) => r
                .bytes_stream()
                .map(|c| c.map_err(|e| e.to_string()))
                .boxed(),
            Answer::Direct(r) => r.into_stream().boxed(),
        }
    }
}

pub struct Upstream {
    base: String,
    /// Plain-http upstreams without a key (the local Ollama): see [`crate::direct`].
    direct: Option<DirectClient>,
    /// The endpoints' URLs, parsed once (parsing one per request showed in the profile).
    urls: Mutex<HashMap<&'static str, reqwest::Url>>,
    client: reqwest::Client,
    auth: Option<HeaderValue>,
    /// How long the answer's head may take (the direct client keeps its own copy).
    head_timeout: Duration,
}

/// The upstream timeouts of the settings.
pub fn timeouts(settings: &domain::Settings) -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(settings.ollama_connect_timeout_secs),
        head: Duration::from_secs(settings.ollama_head_timeout_secs),
        idle: Duration::from_secs(settings.ollama_idle_timeout_secs),
    }
}

impl Upstream {
    pub fn new(
        base: &str,
        api_key: Option<&SecretString>,
        timeouts: Timeouts,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // Without it every stream's last event waits ~40 ms for the delayed ACK.
            .tcp_nodelay(true)
            .connect_timeout(timeouts.connect)
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(timeouts.idle)
            .build()?;
        let auth = api_key
            .and_then(|k| HeaderValue::from_str(&format!("Bearer {}", k.expose_secret())).ok())
            .map(|mut v| {
                v.set_sensitive(true);
                v
            });
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            direct: if auth.is_none() {
                DirectClient::new(base, timeouts)
            } else {
                None
            },
            urls: Mutex::default(),
            client,
            auth,
            head_timeout: timeouts.head,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &'static str) -> Option<reqwest::Url> {
        let mut urls = self.urls.lock().ok()?;
        if let Some(u) = urls.get(path) {
            return Some(u.clone());
        }
        let u = reqwest::Url::parse(&format!("{}{path}", self.base)).ok()?;
        urls.insert(path, u.clone());
        Some(u)
    }

    /// POSTs a JSON body. Connection failures and no answer's head in time are
    /// [`Sent::Down`], 429/503 answers [`Sent::Busy`] (both fail over); other failures are
    /// mapped to an OpenAI-shaped error.
    pub async fn send(&self, path: &'static str, body: Bytes) -> Sent {
        let res = match &self.direct {
            Some(direct) => match direct.post(path, body).await {
                Ok(res) => Answer::Direct(res),
                Err(e) => {
                    tracing::warn!(upstream = %self.base, "upstream unreachable: {e}");
                    return Sent::Down;
                }
            },
            None => match self.send_pooled(path, body).await {
                Some(res) => Answer::Pooled(res),
                None => return Sent::Down,
            },
        };
        let status = res.status();
        if status.is_success() {
            return Sent::Ok(res);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            tracing::info!(upstream = %self.base, %status, "upstream busy");
            return Sent::Busy;
        }
        let body = res.bytes().await.unwrap_or_default();
        if status.is_client_error() {
            return Sent::Failed(ApiError::from_upstream(status, error_message(&body)));
        }
        tracing::warn!(upstream = %self.base, %status, body = %String::from_utf8_lossy(&body), "upstream error");
        Sent::Failed(ApiError::upstream_failed())
    }

    /// Through reqwest's pool (https, or with a key); None when unreachable or silent.
    async fn send_pooled(&self, path: &'static str, body: Bytes) -> Option<reqwest::Response> {
        let Some(url) = self.url(path) else {
            tracing::error!(upstream = %self.base, path, "not a valid upstream URL");
            return None;
        };
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(auth) = &self.auth {
            req = req.header("authorization", auth.clone());
        }
        // `send` resolves with the head; the body (a stream, maybe minutes) is not timed.
        match tokio::time::timeout(self.head_timeout, req.send()).await {
            Ok(Ok(res)) => Some(res),
            Ok(Err(e)) => {
                tracing::warn!(upstream = %self.base, "upstream unreachable: {e}");
                None
            }
            Err(_) => {
                tracing::warn!(upstream = %self.base, "upstream sent no answer within {} s", self.head_timeout.as_secs_f32());
                None
            }
        }
    }
}

/// The message of an Ollama error body (`{"error":"…"}` or `{"error":{"message":"…"}}`).
fn error_message(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v.pointer("/error/message")
        .or_else(|| v.get("error"))
        .and_then(|m| m.as_str())
        .unwrap_or("The model server refused the request.")
        .to_owned()
}

pub enum Sent {
    Ok(Answer),
    /// Could not connect: counts as busy (failover), reported as unreachable.
    Down,
    /// 503 / 429 from the upstream.
    Busy,
    Failed(ApiError),
}

/// Where one request goes.
pub struct Route {
    pub provider: Provider,
    /// The catalog id of the model that serves the request (the fallback after failover).
    pub served: String,
    /// The name the upstream knows the model by.
    pub upstream_model: String,
    /// The local place held while the request runs.
    pub slot: Option<Slot>,
}

/// `qwen3.5:cloud` → `qwen3.5`, `gpt-oss:120b-cloud` → `gpt-oss:120b`.
pub fn cloud_name(id: &str) -> &str {
    id.strip_suffix(":cloud")
        .or_else(|| id.strip_suffix("-cloud"))
        .unwrap_or(id)
}

fn cloud_route(model_id: &str) -> Route {
    Route {
        provider: Provider::Cloud,
        served: model_id.to_owned(),
        upstream_model: cloud_name(model_id).to_owned(),
        slot: None,
    }
}

/// Chooses the upstream for a request to `model` from `account`, on a plan of `priority`.
/// `place`: the local place already asked for with the rate-limit window (Redis) — taken
/// (`Some(Some)`), or none free then (`Some(None)`: not asked again before the failover).
pub async fn choose(
    st: &State,
    model: &Model,
    priority: u8,
    account: i64,
    place: Option<Option<Slot>>,
) -> Result<Route, ApiError> {
    if model.kind == ModelKind::Cloud {
        if st.cloud.is_none() {
            return Err(ApiError::cloud_unavailable());
        }
        if !st.budget.try_take().await {
            return Err(cloud_exhausted());
        }
        return Ok(cloud_route(&model.id));
    }
    let slot = match place {
        Some(taken) => taken,
        None => st.capacity.acquire_now().await,
    };
    if let Some(slot) = slot {
        return Ok(Route {
            provider: Provider::Local,
            served: model.id.clone(),
            upstream_model: model.id.clone(),
            slot: Some(slot),
        });
    }
    if let Some(route) = failover(st, model).await {
        return Ok(route);
    }
    match st.capacity.wait(priority, account).await {
        Ok(slot) => Ok(Route {
            provider: Provider::Local,
            served: model.id.clone(),
            upstream_model: model.id.clone(),
            slot: Some(slot),
        }),
        Err(WaitError::Full) => Err(ApiError::busy(2)),
        Err(WaitError::Timeout) => Err(ApiError::busy(5)),
    }
}

/// The model's cloud fallback, if it has one, cloud is configured and today's budget
/// allows one more request.
pub async fn failover(st: &State, model: &Model) -> Option<Route> {
    let fallback = model.cloud_fallback.as_deref()?;
    st.cloud.as_ref()?;
    if !st.budget.try_take().await {
        return None;
    }
    tracing::info!(model = %model.id, fallback, "local queue full: failing over to cloud");
    crate::metrics::failover();
    Some(cloud_route(fallback))
}

fn cloud_exhausted() -> ApiError {
    ApiError::cloud_exhausted(crate::budget::seconds_to_kuwait_midnight(
        domain::time::now(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_names_lose_their_suffix_for_the_cloud_api() {
        assert_eq!(cloud_name("qwen3.5:cloud"), "qwen3.5");
        assert_eq!(cloud_name("gpt-oss:120b-cloud"), "gpt-oss:120b");
        assert_eq!(cloud_name("llama3.2:3b"), "llama3.2:3b");
    }

    #[test]
    fn ollama_error_bodies_of_both_shapes_give_their_message() {
        assert_eq!(
            error_message(br#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(error_message(br#"{"error":{"message":"bad"}}"#), "bad");
        assert_eq!(
            error_message(b"oops"),
            "The model server refused the request."
        );
    }
}
