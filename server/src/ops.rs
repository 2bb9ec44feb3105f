//! What an operator's tools poll: `/healthz`, `/readyz` and `/metrics`, outside the
//! browser-facing middleware.
//!
//! - `GET /healthz`: the process is up and serving (no I/O). Also answered on the
//!   connections of the reserve beyond `MAX_CONNECTIONS` (`serve`).
//! - `GET /readyz`: 200 when the database answers, Redis answers (when configured) and
//!   the schema has every migration this binary knows; 503 naming the failing part
//!   otherwise, and while the server drains at shutdown (a load balancer stops sending).
//!   Each check is bounded by [`CHECK_TIMEOUT`]; the migration check runs until it first
//!   succeeds (migrations only ever get added), so a poll every second costs one
//!   `SELECT 1` and one `PING`.
//! - `GET /metrics`: Prometheus text (`metrics-exporter-prometheus`). Open to a direct
//!   loopback connection — one that carries no forwarding header, so a request relayed
//!   by a proxy on this machine is not "local" — and otherwise only with
//!   `Authorization: Bearer $METRICS_TOKEN` (unset: refused). What is exported is listed
//!   in `deploy/README.md`.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::Services;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// How long one readiness check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Database-derived gauges (outbox, payments) are read at most this often.
const DB_GAUGES_EVERY: Duration = Duration::from_secs(10);

/// What the operator endpoints share.
#[derive(Clone)]
pub struct Ops {
    svc: Services,
    gateway: gateway::Gateway,
    migrations_current: Arc<AtomicBool>,
    /// Set when a shutdown starts: `/readyz` answers 503 from then on.
    pub draining: Arc<AtomicBool>,
    db_gauges_read: Arc<Mutex<Option<Instant>>>,
}

impl Ops {
    pub fn new(svc: Services, gateway: gateway::Gateway) -> Self {
        Self {
            svc,
            gateway,
            migrations_current: Arc::default(),
            draining: Arc::default(),
            db_gauges_read: Arc::default(),
        }
    }
}

pub fn routes(ops: Ops) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// The process's Prometheus recorder, installed once (several applications in one test
/// process share it). Histograms get buckets (not summaries); an upkeep thread drains
/// their samples every 5 s whether or not anyone scrapes, so memory stays flat.
pub fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0, 30.0, 60.0, 120.0, 300.0,
                    ],
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            if let Err(e) = metrics::set_global_recorder(recorder) {
                tracing::warn!("metrics recorder not installed: {e}");
                return None;
            }
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                })
                .ok()?;
            Some(handle)
        })
        .clone()
}

#[derive(serde::Serialize)]
struct Readiness {
    ready: bool,
    database: &'static str,
    redis: &'static str,
    migrations: &'static str,
    draining: bool,
}

async fn ready(State(ops): State<Ops>) -> Response {
    let draining = ops.draining.load(Ordering::Relaxed);
    let database = match tokio::time::timeout(CHECK_TIMEOUT, ops.svc.db.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::error!(error = %e, "readiness: database unreachable");
            "failing"
        }
        Err(_) => {
            tracing::error!("readiness: database did not answer in time");
            "failing"
        }
    };
    let redis = match tokio::time::timeout(CHECK_TIMEOUT, ops.gateway.redis_ping()).await {
        Ok(None) => "not configured",
        Ok(Some(Ok(()))) => "ok",
        Ok(Some(Err(e))) => {
            tracing::error!(error = %e, "readiness: redis unreachable");
            "failing"
        }
        Err(_) => {
            tracing::error!("readiness: redis did not answer in time");
            "failing"
        }
    };
    let migrations = if ops.migrations_current.load(Ordering::Relaxed) {
        "current"
    } else {
        match tokio::time::timeout(CHECK_TIMEOUT, domain::db::pending_migrations(&ops.svc.db)).await
        {
            Ok(Ok(0)) => {
                ops.migrations_current.store(true, Ordering::Relaxed);
                "current"
            }
            Ok(Ok(n)) => {
                tracing::warn!(pending = n, "readiness: migrations pending");
                "pending"
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "readiness: migrations not readable");
                "failing"
            }
            Err(_) => "failing",
        }
    };
    let ok = !draining && database == "ok" && redis != "failing" && migrations == "current";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        ready: ok,
        database,
        redis,
        migrations,
        draining,
    };
    (status, axum::Json(body)).into_response()
}

/// Loopback without a forwarding header: a direct connection from this machine.
fn is_local(peer: SocketAddr, headers: &HeaderMap) -> bool {
    let ip = match peer.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        ip => ip,
    };
    ip.is_loopback()
        && !["x-forwarded-for", "forwarded", "x-real-ip"]
            .iter()
            .any(|h| headers.contains_key(*h))
}

async fn metrics(
    State(ops): State<Ops>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !is_local(peer, &headers) {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !ops.svc.settings.metrics_token_matches(presented) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics: loopback only, or Authorization: Bearer $METRICS_TOKEN\n",
            )
                .into_response();
        }
    }
    let Some(handle) = recorder() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    ops.gateway.observe().await;
    observe_database(&ops).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Outbox and payments by state, at most every [`DB_GAUGES_EVERY`].
async fn observe_database(ops: &Ops) {
    {
        let Ok(mut read) = ops.db_gauges_read.lock() else {
            return;
        };
        if read.is_some_and(|at| at.elapsed() < DB_GAUGES_EVERY) {
            return;
        }
        *read = Some(Instant::now());
    }
    match domain::ops::outbox_by_status(&ops.svc.db).await {
        Ok(counts) => {
            for (status, n) in counts {
                metrics::gauge!("resayil_outbox_messages", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: outbox not counted"),
    }
    match domain::ops::orders_by_status(&ops.svc.db).await {
        Ok(counts) => {
            for (status, n) in counts {
                metrics::gauge!("resayil_orders", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: orders not counted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_direct_loopback_connection_is_local() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        let v6: SocketAddr = "[::1]:5000".parse().unwrap();
        let remote: SocketAddr = "203.0.113.7:5000".parse().unwrap();
        let none = HeaderMap::new();
        assert!(is_local(local, &none));
        assert!(is_local(mapped, &none));
        assert!(is_local(v6, &none));
        assert!(!is_local(remote, &none));
        for h in ["x-forwarded-for", "forwarded", "x-real-ip"] {
            let mut relayed = HeaderMap::new();
            relayed.insert(h, "127.0.0.1".parse().unwrap());
            assert!(!is_local(local, &relayed), "{h}");
        }
    }
}
