//! `fake-myfatoorah --port 8089 [--token T] [--webhook-url URL] [--webhook-secret S]`:
//! a fake MyFatoorah v2 API for development and demos. Point the portal at it with
//! `MYFATOORAH_BASE_URL=http://127.0.0.1:8089 MYFATOORAH_API_TOKEN=T
//! MYFATOORAH_WEBHOOK_SECRET=S`; its payment page (`/pay/{invoice}`) has Pay / Fail buttons.
use clap::Parser;

#[derive(Parser)]
#[command(
    about = "A fake MyFatoorah v2 API (payments, status, signed webhooks) for tests and demos"
)]
struct Args {
    #[arg(long, env = "FAKE_MYFATOORAH_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[arg(long, env = "FAKE_MYFATOORAH_PORT", default_value_t = 8089)]
    port: u16,
    /// The bearer token the fake accepts.
    #[arg(
        long,
        env = "FAKE_MYFATOORAH_TOKEN",
        default_value = "fake-myfatoorah-token"
    )]
    token: String,
    /// The secret webhooks are signed with.
    #[arg(
        long,
        env = "FAKE_MYFATOORAH_WEBHOOK_SECRET",
        default_value = "fake-myfatoorah-webhook-secret"
    )]
    webhook_secret: String,
    /// Where to post the signed webhook after a payment on the fake's page.
    #[arg(long, env = "FAKE_MYFATOORAH_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// The address browsers reach the fake at, if not the one it listens on.
    #[arg(long, env = "FAKE_MYFATOORAH_PUBLIC_URL")]
    public_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = fake_myfatoorah::Config {
        token: args.token,
        webhook_secret: args.webhook_secret,
        webhook_url: args.webhook_url,
        public_url: args.public_url,
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind((args.host, args.port)).await?;
    let (base, _handle) = fake_myfatoorah::spawn_on(listener, config).await?;
    tracing::info!("fake MyFatoorah listening on {base}");
    tokio::signal::ctrl_c().await
}
