//! Logging. One line per event, UTC timestamps, level, message — no module target, so the
//! failed-login line reads `… WARN login failed user=<email> ip=<ip>` for fail2ban. Logs go
//! to standard error: standard output is the operator commands' (`--json` prints exactly
//! one JSON document there).
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}
