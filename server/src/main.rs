//! `resayil`: the portal server and its operator commands.
use clap::Parser;

/// mimalloc instead of glibc's malloc: the gateway allocates small, short-lived buffers on
/// every request from two or more threads (BENCHMARKS.md, "The real server against a bare
/// proxy").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = server::cli::Cli::parse();
    // The settings are read again (and any error reported) by the command itself.
    let format = domain::Settings::load(cli.config.as_deref())
        .map(|s| s.log_format)
        .unwrap_or_default();
    server::telemetry::init(&format);
    match server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
