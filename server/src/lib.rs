//! The binary's library: configuration, start-up, the router (Leptos pages and server
//! functions, the `/v1` gateway, health), the middleware around it and the operator CLI.
//!
//! Middleware, outermost first: security headers → language choice → cross-site request
//! check (unsafe methods) → login wall for private pages → the routes.
pub mod cli;
mod internal;
mod jobs;
mod lang;
mod security;
pub mod startup;
pub mod telemetry;
mod webhooks;

pub use startup::Application;
