//! The gateway over real HTTP, in-process, against fake Ollama servers (local and cloud).
//! Redis tests use the Redis at 127.0.0.1:6379 with a unique key prefix per test.
mod admin;
mod admission;
mod billing;
mod completions;
mod fuzz;
mod helpers;
mod security;
mod shared;
mod teams;
mod upstreams;
