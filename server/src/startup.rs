//! Building and running the application: one `Services`, one router, one listener.
use std::future::Future;

use anyhow::Context;
use app::{shell, App};
use axum::{middleware, Router};
use domain::{Services, Settings};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;

use crate::{lang, security, serve};

pub struct Application {
    listener: TcpListener,
    router: Router,
    services: Services,
    /// The `/v1` gateway, kept to drain its streams and usage rows at shutdown.
    gateway: gateway::Gateway,
    /// Health, readiness and metrics (readiness turns 503 when the drain starts).
    ops: crate::ops::Ops,
}

impl Application {
    /// Connects to the database (migrating it), builds the router and binds the address
    /// of `leptos.site_addr` (port 0 picks a free port, for tests).
    pub async fn build(settings: Settings, leptos: LeptosOptions) -> anyhow::Result<Self> {
        let services = Services::build(settings)
            .await
            .context("opening the database")?;
        Self::build_with(services, leptos).await
    }

    /// As [`Application::build`], with services already built (tests give them a manual
    /// clock).
    pub async fn build_with(services: Services, leptos: LeptosOptions) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(leptos.site_addr)
            .await
            .with_context(|| format!("binding {}", leptos.site_addr))?;
        // Admin edits of the catalog reach this instance without a restart.
        domain::catalog::watch(services.db.clone(), &services.catalog);
        let gateway = gateway::Gateway::new(services.clone())
            .await
            .context("starting the gateway")?;
        crate::ops::recorder();
        let ops = crate::ops::Ops::new(services.clone(), gateway.clone());
        let router = router(services.clone(), leptos, &gateway, ops.clone());
        Ok(Self {
            listener,
            router,
            services,
            gateway,
            ops,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves (and runs the background jobs) until `shutdown` resolves, then drains:
    /// stops accepting (and `/readyz` answers 503), stops the background jobs, lets open
    /// requests and streams finish for up to `SHUTDOWN_DRAIN_SECS`, then ends the streams
    /// still open with the SSE error event (charged only what was generated), writes
    /// every queued charge and usage row and gives the credit holds back.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "serving");
        let limits = serve::Limits::from_settings(&self.services.settings);
        crate::fd_limit::raise(limits.max_connections);
        let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
        crate::jobs::spawn(self.services.clone(), jobs_stopped.clone());
        let draining = self.ops.draining.clone();
        let gateway = Some(self.gateway.clone());
        let serve = serve::serve(self.listener, self.router, gateway, limits, async move {
            shutdown.await;
            draining.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = stop_jobs.send(true);
        });
        let mut serve = std::pin::pin!(serve);
        let drain = std::time::Duration::from_secs(self.services.settings.shutdown_drain_secs);
        let mut stopped = jobs_stopped;
        let gw = self.gateway.clone();
        let deadline = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tracing::info!(
                open = gw.open_requests(),
                deadline_secs = drain.as_secs(),
                "draining: no new connections; open requests may finish"
            );
            tokio::time::sleep(drain).await;
        };
        tokio::select! {
            () = serve.as_mut() => {}
            () = deadline => {
                tracing::warn!(
                    open = self.gateway.open_requests(),
                    "drain deadline passed: ending open streams"
                );
                self.gateway.end_streams();
                if tokio::time::timeout(END_GRACE, serve.as_mut()).await.is_err() {
                    tracing::warn!("closing connections still open");
                }
            }
        }
        self.gateway.shutdown_within(END_GRACE).await;
        tracing::info!("stopped: usage written, credit holds given back");
        Ok(())
    }
}

/// After the drain deadline: how long ended streams have to write their last event, and
/// settlements to reach the writer.
const END_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The page routes, generated once per process. Generating them runs the app once with
/// resource loading suppressed by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a page that another router of the same process renders
/// meanwhile waits forever on its resources (leptos-rs/leptos#4773). The API tests build
/// dozens of routers in one process while others serve pages; a second generation would
/// hang a response now and then.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn router(
    services: Services,
    leptos: LeptosOptions,
    gateway: &gateway::Gateway,
    ops: crate::ops::Ops,
) -> Router {
    let routes = page_routes();
    let ctx = services.clone();
    let pages = Router::new()
        .leptos_routes_with_context(&leptos, routes, move || provide_context(ctx.clone()), {
            let leptos = leptos.clone();
            move || shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            {
                let svc = services.clone();
                move || provide_context(svc.clone())
            },
            shell,
        ))
        .with_state(leptos);

    let site = Router::new()
        .merge(crate::webhooks::routes(services.clone()))
        .merge(crate::internal::routes(services.clone()))
        .merge(crate::usage_csv::routes(services.clone()))
        .merge(
            gateway
                .playground_router()
                .layer(middleware::from_fn_with_state(
                    services.clone(),
                    security::playground_session,
                )),
        )
        .merge(crate::seo::routes(services.clone()))
        .merge(pages)
        .layer(middleware::from_fn_with_state(
            services.clone(),
            security::login_wall,
        ))
        .layer(middleware::from_fn(security::same_origin))
        .layer(middleware::from_fn(lang::choose))
        .layer(middleware::from_fn_with_state(
            services.clone(),
            security::headers,
        ));
    // The API keeps its own middleware (request id, key, rate limit…): none of the
    // browser-facing layers above run on its hot path.
    // Health, readiness and metrics: no page middleware either.
    Router::new()
        .merge(gateway.router())
        .merge(crate::ops::routes(ops))
        .merge(site)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
