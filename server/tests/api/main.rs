//! API tests: the real application on a free port with a fresh database — SQLite always,
//! PostgreSQL too when `TEST_DATABASE_URL` is set — driven over HTTP.
mod accounts;
mod admin;
mod admin_console;
mod billing;
mod cli;
mod connections;
mod fail2ban;
mod helpers;
mod keys;
mod ops;
mod pages;
mod playground;
mod public;
mod recovery;
mod sdk;
mod security;
mod teams;
mod usage;
