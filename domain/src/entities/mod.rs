//! sea-orm models of the tables created by the `migrations` crate.
//!
//! The convention: every table's entity lives here, in `entities/<table>.rs` named for the
//! table in the singular (`accounts` → [`account`], `credit_holds` → [`credit_hold`]); the
//! catalog's tables share [`catalog`]. Entities are the persistence seam — the modules of the
//! crate keep the rules and use these models; a column that holds one of a fixed set of
//! values is typed by a sea-orm active enum, so a value the code does not know is an error
//! when read, never a silent default.
pub mod account;
pub mod api_key;
pub mod api_usage;
pub mod catalog;
pub mod credit_hold;
pub mod event;
pub mod ip_ban;
pub mod ledger;
pub mod notification;
pub mod order;
pub mod outbox;
pub mod session;
pub mod usage_hourly;

#[cfg(test)]
mod tests;
