//! sea-orm models of the tables created by the `migrations` crate.
pub mod account;
pub mod api_key;
pub mod ledger;
pub mod session;
