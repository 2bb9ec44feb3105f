//! What the gateway reports: to the process's metrics recorder (the `metrics` facade; the
//! server installs the Prometheus exporter and serves `/metrics` — without a recorder
//! every call here is a no-op) and, per request, one log line on the `request` target
//! (the server turns it on with `LOG_FORMAT=json`; off, the event costs one atomic load).
//!
//! Per request: one counter and one histogram sample. Labels come from fixed sets
//! (endpoint, status, provider) and from the catalog (model) — never from what a client
//! typed, so no client can grow the set of series. The gauges (in flight, queue, holds,
//! writer backlog, cloud budget) are read when `/metrics` is scraped
//! ([`crate::Gateway::observe`]), not on the request path.
//!
//! The log line carries the request id, account, key prefix, model, status, latency and
//! credits: never a key, a prompt or an answer.
use std::time::Duration;

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

/// Counts the request, samples its latency and writes its log line.
pub fn request(d: &Done<'_>) {
    metrics::counter!(
        REQUESTS,
        "endpoint" => d.endpoint,
        "model" => d.model.to_owned(),
        "status" => status_label(d.status),
        "provider" => d.provider,
    )
    .increment(1);
    metrics::histogram!(DURATION, "endpoint" => d.endpoint).record(d.latency.as_secs_f64());
    if d.credits > 0 {
        metrics::counter!(CREDITS_SETTLED).increment(d.credits.unsigned_abs());
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
    metrics::histogram!(TTFT, "model" => model.to_owned()).record(after.as_secs_f64());
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
    use super::status_label;

    #[test]
    fn statuses_map_to_a_fixed_set_of_labels() {
        assert_eq!(status_label(200), "200");
        assert_eq!(status_label(429), "429");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
        assert_eq!(status_label(204), "2xx");
    }
}
