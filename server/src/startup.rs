//! Building and running the application: one `Services`, one router, one listener.
use std::future::Future;

use anyhow::Context;
use app::{shell, App};
use axum::{middleware, routing::get, Router};
use domain::{Services, Settings};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;

use crate::{lang, security, serve};

pub struct Application {
    listener: TcpListener,
    router: Router,
    services: Services,
    /// The `/v1` gateway, kept to drain its streams and usage rows at shutdown.
    gateway: gateway::Gateway,
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
        let gateway = gateway::Gateway::new(services.clone())
            .await
            .context("starting the gateway")?;
        let router = router(services.clone(), leptos, &gateway);
        Ok(Self {
            listener,
            router,
            services,
            gateway,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves (and runs the background jobs) until `shutdown` resolves, then lets open
    /// requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "serving");
        let limits = serve::Limits::from_settings(&self.services.settings);
        crate::fd_limit::raise(limits.max_connections);
        let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
        crate::jobs::spawn(self.services.clone(), jobs_stopped.clone());
        let serve = serve::serve(self.listener, self.router, limits, async move {
            shutdown.await;
            let _ = stop_jobs.send(true);
        });
        // Open requests (streams included) may finish, up to the gateway's deadline.
        let mut stopped = jobs_stopped;
        let deadline = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(gateway::SHUTDOWN_DEADLINE).await;
        };
        tokio::select! {
            () = serve => {}
            _ = deadline => tracing::warn!("shutdown deadline passed; closing open connections"),
        }
        self.gateway
            .shutdown_within(std::time::Duration::from_secs(1))
            .await;
        Ok(())
    }
}

fn router(services: Services, leptos: LeptosOptions, gateway: &gateway::Gateway) -> Router {
    let routes = generate_route_list(App);
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
        .route("/healthz", get(health))
        .with_state(services.clone())
        .merge(crate::webhooks::routes(services.clone()))
        .merge(crate::internal::routes(services.clone()))
        .merge(
            gateway
                .playground_router()
                .layer(middleware::from_fn_with_state(
                    services.clone(),
                    security::playground_session,
                )),
        )
        .merge(crate::usage_csv::routes(services.clone()))
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
    Router::new().nest("/v1", gateway.router()).merge(site)
}

async fn health(
    axum::extract::State(svc): axum::extract::State<Services>,
) -> (http::StatusCode, &'static str) {
    match svc.db.ping().await {
        Ok(()) => (http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable",
            )
        }
    }
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
