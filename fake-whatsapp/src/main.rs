//! `fake-whatsapp --port 8090 [--meta-token T] [--phone-number-id ID] [--http-token T]`:
//! a fake WhatsApp sender for development and demos. Point the portal at it with
//! `WHATSAPP_PROVIDER=meta WHATSAPP_META_BASE_URL=http://127.0.0.1:8090
//! WHATSAPP_META_PHONE_NUMBER_ID=ID WHATSAPP_META_TOKEN=T`, or with
//! `WHATSAPP_PROVIDER=http WHATSAPP_HTTP_URL=http://127.0.0.1:8090/send
//! WHATSAPP_HTTP_TOKEN=T`; `GET /messages` lists what it accepted.
use clap::Parser;

#[derive(Parser)]
#[command(
    about = "A fake WhatsApp sender (Meta Cloud API and a generic gateway) for tests and demos"
)]
struct Args {
    #[arg(long, env = "FAKE_WHATSAPP_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[arg(long, env = "FAKE_WHATSAPP_PORT", default_value_t = 8090)]
    port: u16,
    /// The Bearer token the Meta endpoint accepts.
    #[arg(
        long,
        env = "FAKE_WHATSAPP_META_TOKEN",
        default_value = "fake-meta-token"
    )]
    meta_token: String,
    /// The phone number id in the Meta path.
    #[arg(
        long,
        env = "FAKE_WHATSAPP_PHONE_NUMBER_ID",
        default_value = "1234567890"
    )]
    phone_number_id: String,
    /// The `Token` header the generic endpoint accepts.
    #[arg(
        long,
        env = "FAKE_WHATSAPP_HTTP_TOKEN",
        default_value = "fake-http-token"
    )]
    http_token: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = fake_whatsapp::Config {
        meta_token: args.meta_token,
        phone_number_id: args.phone_number_id,
        http_token: args.http_token,
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind((args.host, args.port)).await?;
    let (base, _handle) = fake_whatsapp::spawn_on(listener, config).await?;
    tracing::info!("fake WhatsApp listening on {base}");
    tokio::signal::ctrl_c().await
}
