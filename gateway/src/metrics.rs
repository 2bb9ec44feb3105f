//! What the gateway reports: to the process's metrics recorder (the `metrics` facade; the
//! server installs the Prometheus exporter and serves `/metrics` — without a recorder
//! every call here is a no-op) and, per request, one log line on the `request` target
//! (the server turns it on with `LOG_FORMAT=json`; off, the event costs one atomic load).
//!
//! Per request: one counter and one histogram sample. Labels come from fixed sets
//! (endpoint, status, provider) and from the catalog (model) — never from what a client
//! typed, so no client can grow the set of series. Each series' handle is looked up in the
//! recorder once and kept ([`Handles`]): the recorder's own lookup builds and hashes a
//! label set (and allocates the model's) on every call. The gauges (in flight, queue, holds,
//! writer backlog, cloud budget) are read when `/metrics` is scraped
//! ([`crate::Gateway::observe`]), not on the request path.
//!
//! The log line carries the request id, account, key prefix, model, status, latency and
//! credits: never a key, a prompt or an answer.
use foldhash::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use metrics::{Counter, Histogram};

pub const REQUESTS: &str = "resayil_requests_total";
pub const DURATION: &str = "resayil_request_duration_seconds";
pub const TTFT: &str = "resayil_time_to_first_token_seconds";
pub const FAILOVERS: &str = "resayil_failovers_total";
pub const CREDITS_SETTLED: &str = "resayil_credits_settled_total";
pub const UPSTREAM_IN_FLIGHT: &str = "resayil_upstream_in_flight";
pub const QUEUE_DEPTH: &str = "resayil_upstream_queue_depth";
pub const HOLDS: &str = "resayil_credit_holds";
pub const HELD_CREDITS: &str = "resayil_credit_holds_free_credits";
pub const WRITER_BACKLOG: &str = "resayil_usage_writer_backlog";
pub const CLOUD_USED: &str = "resayil_cloud_budget_used";
pub const CLOUD_CAP: &str = "resayil_cloud_budget_cap";
pub const OPEN_REQUESTS: &str = "resayil_open_requests";

/// What one finished request reports.
pub struct Done<'a> {
    pub request_id: &'a str,
    pub endpoint: &'static str,
    /// A catalog model id, or "" when the request named none (or none the catalog has).
    pub model: &'a str,
    pub status: u16,
    /// "local", "cloud", or "" when no upstream was called.
    pub provider: &'static str,
    pub latency: Duration,
    pub account: Option<i64>,
    pub key_prefix: &'a str,
    pub credits: i64,
    pub error: Option<&'a str>,
}

/// The handles of the per-request series, registered with the process's recorder on first
/// use. Taken only once a request is done, so after the server installed its recorder
/// (before it serves); without one, every handle is a no-op, as the macros' would be.
#[derive(Default)]
struct Handles {
    /// Per model: (endpoint, status, provider) and the requests counter of that set. Few
    /// entries per model, so a scan.
    requests: RwLock<HashMap<Box<str>, Vec<RequestSeries>>>,
    durations: RwLock<Vec<(&'static str, Histogram)>>,
    first_token: RwLock<HashMap<Box<str>, Histogram>>,
    credits: OnceLock<Counter>,
}

type RequestSeries = (&'static str, &'static str, &'static str, Counter);

fn handles() -> &'static Handles {
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    HANDLES.get_or_init(Handles::default)
}

impl Handles {
    fn requests(
        &self,
        endpoint: &'static str,
        model: &str,
        status: &'static str,
        provider: &'static str,
    ) -> Counter {
        let same = |s: &&RequestSeries| s.0 == endpoint && s.1 == status && s.2 == provider;
        if let Ok(map) = self.requests.read() {
            if let Some(s) = map.get(model).and_then(|v| v.iter().find(same)) {
                return s.3.clone();
            }
        }
        let counter = metrics::counter!(
            REQUESTS,
            "endpoint" => endpoint,
            "model" => model.to_owned(),
            "status" => status,
            "provider" => provider,
        );
        if let Ok(mut map) = self.requests.write() {
            let series = map.entry(model.into()).or_default();
            if !series.iter().any(|s| same(&s)) {
                series.push((endpoint, status, provider, counter.clone()));
            }
        }
        counter
    }

    fn duration(&self, endpoint: &'static str) -> Histogram {
        if let Ok(v) = self.durations.read() {
            if let Some((_, h)) = v.iter().find(|(e, _)| *e == endpoint) {
                return h.clone();
            }
        }
        let h = metrics::histogram!(DURATION, "endpoint" => endpoint);
        if let Ok(mut v) = self.durations.write() {
            if !v.iter().any(|(e, _)| *e == endpoint) {
                v.push((endpoint, h.clone()));
            }
        }
        h
    }

    fn first_token(&self, model: &str) -> Histogram {
        if let Ok(map) = self.first_token.read() {
            if let Some(h) = map.get(model) {
                return h.clone();
            }
        }
        let h = metrics::histogram!(TTFT, "model" => model.to_owned());
        if let Ok(mut map) = self.first_token.write() {
            map.entry(model.into()).or_insert_with(|| h.clone());
        }
        h
    }
}

/// Counts the request, samples its latency and writes its log line.
pub fn request(d: &Done<'_>) {
    let h = handles();
    h.requests(d.endpoint, d.model, status_label(d.status), d.provider)
        .increment(1);
    h.duration(d.endpoint).record(d.latency.as_secs_f64());
    if d.credits > 0 {
        h.credits
            .get_or_init(|| metrics::counter!(CREDITS_SETTLED))
            .increment(d.credits.unsigned_abs());
    }
    tracing::info!(
        target: "request",
        request_id = d.request_id,
        account = d.account,
        key_prefix = d.key_prefix,
        endpoint = d.endpoint,
        model = d.model,
        provider = d.provider,
        status = d.status,
        latency_ms = d.latency.as_millis() as u64,
        credits = d.credits,
        error = d.error,
        "request"
    );
}

/// The time from a stream's arrival to its first event.
pub fn first_token(model: &str, after: Duration) {
    handles().first_token(model).record(after.as_secs_f64());
}

pub fn failover() {
    metrics::counter!(FAILOVERS).increment(1);
}

/// Statuses as label values, without formatting one per request.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        400 => "400",
        401 => "401",
        402 => "402",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        499 => "499",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// The catalog id of `requested` if the catalog has that model, else "": refusals name
/// whatever the client sent, which must not become a label.
pub fn known_model<'a>(catalog: &'a domain::catalog::Catalog, requested: &str) -> &'a str {
    catalog.model(requested).map_or("", |m| m.id.as_str())
}

#[cfg(test)]
mod tests {
    use super::{status_label, Handles};

    #[test]
    fn each_series_is_registered_once_and_counts_every_request() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let prometheus = recorder.handle();
        let h = Handles::default();
        metrics::with_local_recorder(&recorder, || {
            for _ in 0..3 {
                h.requests("chat.completions", "m1", "200", "local")
                    .increment(1);
            }
            h.requests("chat.completions", "m1", "429", "").increment(1);
            h.requests("embeddings", "m2", "200", "local").increment(2);
            h.duration("embeddings").record(0.5);
            h.duration("embeddings").record(0.25);
            h.first_token("m1").record(0.1);
            h.first_token("m1").record(0.2);
        });
        let text = prometheus.render();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has(
                r#"resayil_requests_total{endpoint="chat.completions",model="m1",status="200",provider="local"} 3"#
            ),
            "{text}"
        );
        assert!(has(
            r#"resayil_requests_total{endpoint="chat.completions",model="m1",status="429",provider=""} 1"#
        ));
        assert!(has(
            r#"resayil_requests_total{endpoint="embeddings",model="m2",status="200",provider="local"} 2"#
        ));
        assert!(has(
            r#"resayil_request_duration_seconds_count{endpoint="embeddings"} 2"#
        ));
        assert!(has(
            r#"resayil_time_to_first_token_seconds_count{model="m1"} 2"#
        ));
        // One handle per label set, kept.
        let requests = h.requests.read().unwrap();
        assert_eq!(requests["m1"].len(), 2);
        assert_eq!(requests["m2"].len(), 1);
        assert_eq!(h.durations.read().unwrap().len(), 1);
        assert_eq!(h.first_token.read().unwrap().len(), 1);
    }

    #[test]
    fn statuses_map_to_a_fixed_set_of_labels() {
        assert_eq!(status_label(200), "200");
        assert_eq!(status_label(429), "429");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
        assert_eq!(status_label(204), "2xx");
    }
}
