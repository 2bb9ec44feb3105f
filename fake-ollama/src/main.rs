//! `fake-ollama --port 11434 [--token-delay-ms 10] [--busy] [--break-after 5]`: a fake
//! Ollama for development and demos. Behaviour can be changed while it runs with
//! `POST /__control` (see the library docs).
use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser)]
#[command(about = "A fake Ollama server (OpenAI-compatible /v1 routes) for tests and demos")]
struct Args {
    #[arg(long, env = "FAKE_OLLAMA_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[arg(long, env = "FAKE_OLLAMA_PORT", default_value_t = 11434)]
    port: u16,
    /// Pause before each generated token.
    #[arg(long, env = "FAKE_OLLAMA_TOKEN_DELAY_MS", default_value_t = 0)]
    token_delay_ms: u64,
    /// Tokens generated when a request sets no max_tokens.
    #[arg(long, env = "FAKE_OLLAMA_DEFAULT_TOKENS", default_value_t = 20)]
    default_tokens: u32,
    /// Answer inference requests with 503 "server busy".
    #[arg(long, env = "FAKE_OLLAMA_BUSY")]
    busy: bool,
    /// Break streams after this many chunks (0 = never).
    #[arg(long, env = "FAKE_OLLAMA_BREAK_AFTER", default_value_t = 0)]
    break_after: u32,
    /// Comma-separated model list (default: the portal's local models plus restricted ones).
    #[arg(long, env = "FAKE_OLLAMA_MODELS", value_delimiter = ',')]
    models: Vec<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = fake_ollama::Config {
        token_delay_ms: args.token_delay_ms,
        default_tokens: args.default_tokens,
        busy: args.busy,
        break_after: args.break_after,
        ..Default::default()
    };
    if !args.models.is_empty() {
        config.models = args.models;
    }
    let (addr, _handle) = fake_ollama::spawn(config, SocketAddr::new(args.host, args.port)).await?;
    tracing::info!("fake Ollama listening on http://{addr}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
