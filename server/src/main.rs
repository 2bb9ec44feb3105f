//! `resayil`: the portal server and its operator commands.
use clap::Parser;

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
