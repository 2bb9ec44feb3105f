//! The binary's library: configuration, start-up, the router (Leptos pages and server
//! functions, the `/v1` gateway, health), the middleware around it and the operator CLI.
//!
//! Connections come through `serve` (the accept loop: header and body timeouts, the
//! connection cap — see its doc comment), then the router.
//!
//! Middleware, outermost first: security headers → language choice → cross-site request
//! check (unsafe methods) → login wall for private pages → the routes.
// The islands of the dashboard (credits, usage chart, keys) make deep view types.
#![recursion_limit = "256"]
mod body_deadline;
pub mod cli;
mod fd_limit;
mod head_timer;
mod internal;
mod jobs;
mod lang;
mod security;
mod serve;
pub mod startup;
pub mod telemetry;
mod usage_csv;
mod webhooks;

pub use startup::Application;
