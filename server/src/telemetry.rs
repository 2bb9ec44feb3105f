//! Logging. One line per event, UTC timestamps, level, message — no module target, so the
//! failed-login line reads `… WARN login failed user=<email> ip=<ip>` for fail2ban. Logs go
//! to standard error: standard output is the operator commands' (`--json` prints exactly
//! one JSON document there).
//!
//! `LOG_FORMAT=json`: one JSON object per line instead (fields flattened, with the
//! target), and one line per API request on the `request` target (`gateway::metrics`:
//! request id, account, key prefix, model, status, latency, credits — never a key, a
//! prompt or an answer). In text format the per-request lines are off unless `RUST_LOG`
//! asks for them (`RUST_LOG=info,request=info`).
use tracing_subscriber::EnvFilter;

/// `format`: the `log_format` setting (`text` or `json`).
pub fn init(format: &str) {
    let json = format.eq_ignore_ascii_case("json");
    let default = if json { "info" } else { "info,request=off" };
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.with_target(false).try_init()
    };
}
