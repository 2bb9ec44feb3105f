//! Server functions, one file per area: small adapters that authorise the caller, call
//! `domain` and map the result to a DTO. Every one is a public endpoint, so every one
//! checks the session. Their ssr-only helpers are in `crate::server`.
pub mod admin;
pub mod auth;
pub mod billing;
pub mod credits;
pub mod dashboard;
pub mod keys;
pub mod playground;
pub mod usage;
