//! API tests: the real application on a free port with a fresh database — SQLite always,
//! PostgreSQL too when `TEST_DATABASE_URL` is set — driven over HTTP.
mod accounts;
mod admin;
mod billing;
mod cli;
mod connections;
mod fail2ban;
mod helpers;
mod keys;
mod pages;
mod playground;
mod sdk;
mod security;
mod usage;
