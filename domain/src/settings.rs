//! Settings of the whole process: defaults, then a TOML file, then environment variables.
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://…` (default, embedded) or `postgres://…`.
    pub database_url: String,
    /// Optional: shared counters for several instances.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or test runs) can share one Redis.
    /// Instances that share limits and counters must use the same prefix.
    pub redis_prefix: String,
    /// The site's address as users see it, used in links and to decide on `Secure` cookies.
    pub public_base_url: String,
    /// How long a login lasts (remember me), in days.
    pub session_days: i64,
    /// Trust `X-Forwarded-For` for the client IP (only behind a proxy you control).
    pub trust_forwarded_for: bool,
    pub ollama_url: String,
    pub ollama_cloud_url: Option<String>,
    pub ollama_cloud_api_key: Option<SecretString>,
    pub myfatoorah_base_url: Option<String>,
    pub myfatoorah_api_token: Option<SecretString>,
    pub myfatoorah_webhook_secret: Option<SecretString>,
    /// How long one MyFatoorah call may take (their guidance: at least 30 s); tests
    /// shorten it. From the settings file only.
    pub myfatoorah_timeout_ms: u64,
    pub whatsapp_provider: String,
    pub whatsapp_http_url: Option<String>,
    pub whatsapp_http_token: Option<SecretString>,
    pub whatsapp_meta_phone_number_id: Option<String>,
    pub whatsapp_meta_token: Option<SecretString>,
    /// The Graph API address; tests point it at a fake.
    pub whatsapp_meta_base_url: String,
    /// The Graph API version (each lives about two years).
    pub whatsapp_meta_api_version: String,
    /// Comma-separated E.164 numbers that receive admin alerts.
    pub admin_phones: String,
    /// The language of admin alerts: `ar` (default) or `en`.
    pub admin_lang: String,
    /// Send every message in both Arabic and English, not only the recipient's language.
    pub notify_both_languages: bool,
    /// The shared token fail2ban's action sends to `POST /internal/fail2ban`; without it
    /// the endpoint refuses everything.
    pub fail2ban_token: Option<SecretString>,
    /// Seconds a client has to send a request's head, from its first byte (on a new
    /// connection, from the opening).
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's body; a slower one gets 408. Answers,
    /// streams included, are not timed.
    pub body_read_timeout_secs: u64,
    /// Open client connections served at most; above it a new connection is refused
    /// (see `server::startup`'s accept loop).
    pub max_connections: usize,
    /// Seconds to connect to the local (and the cloud) Ollama.
    pub ollama_connect_timeout_secs: u64,
    /// Seconds the local and cloud Ollama have to send an answer's head after the request
    /// went out; later, the request fails over as if the upstream were down. Ollama sends
    /// a non-streamed answer's head only once the answer is complete, so this must cover
    /// the longest one.
    pub ollama_head_timeout_secs: u64,
    /// Seconds an idle kept-alive connection to an upstream may be reused.
    pub ollama_idle_timeout_secs: u64,
    /// Seconds a kept-alive client connection may idle between an answer and the next
    /// request; longer than clients' usual reuse, so none sends on a closing connection.
    pub keepalive_idle_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://./data/resayil.db?mode=rwc".into(),
            redis_url: None,
            redis_prefix: "resayil".into(),
            public_base_url: "http://127.0.0.1:3000".into(),
            session_days: 30,
            trust_forwarded_for: false,
            ollama_url: "http://127.0.0.1:11434".into(),
            ollama_cloud_url: None,
            ollama_cloud_api_key: None,
            myfatoorah_base_url: None,
            myfatoorah_api_token: None,
            myfatoorah_webhook_secret: None,
            myfatoorah_timeout_ms: 30_000,
            whatsapp_provider: "log".into(),
            whatsapp_http_url: None,
            whatsapp_http_token: None,
            whatsapp_meta_phone_number_id: None,
            whatsapp_meta_token: None,
            whatsapp_meta_base_url: "https://graph.facebook.com".into(),
            whatsapp_meta_api_version: "v22.0".into(),
            admin_phones: String::new(),
            admin_lang: "ar".into(),
            notify_both_languages: false,
            fail2ban_token: None,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            max_connections: 10_000,
            ollama_connect_timeout_secs: 5,
            ollama_head_timeout_secs: 300,
            ollama_idle_timeout_secs: 60,
            keepalive_idle_secs: 75,
        }
    }
}

/// The environment variables read, in the order of the fields above.
pub const ENV_VARS: &[&str] = &[
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PREFIX",
    "PUBLIC_BASE_URL",
    "SESSION_DAYS",
    "TRUST_FORWARDED_FOR",
    "OLLAMA_URL",
    "OLLAMA_CLOUD_URL",
    "OLLAMA_CLOUD_API_KEY",
    "MYFATOORAH_BASE_URL",
    "MYFATOORAH_API_TOKEN",
    "MYFATOORAH_WEBHOOK_SECRET",
    "WHATSAPP_PROVIDER",
    "WHATSAPP_HTTP_URL",
    "WHATSAPP_HTTP_TOKEN",
    "WHATSAPP_META_PHONE_NUMBER_ID",
    "WHATSAPP_META_TOKEN",
    "WHATSAPP_META_BASE_URL",
    "WHATSAPP_META_API_VERSION",
    "ADMIN_PHONES",
    "ADMIN_LANG",
    "NOTIFY_BOTH_LANGUAGES",
    "FAIL2BAN_TOKEN",
    "HEADER_READ_TIMEOUT_SECS",
    "BODY_READ_TIMEOUT_SECS",
    "MAX_CONNECTIONS",
    "OLLAMA_CONNECT_TIMEOUT_SECS",
    "OLLAMA_HEAD_TIMEOUT_SECS",
    "OLLAMA_IDLE_TIMEOUT_SECS",
    "KEEPALIVE_IDLE_SECS",
];

/// The variables of [`ENV_VARS`] that are whole numbers.
const NUMBERS: &[&str] = &[
    "session_days",
    "header_read_timeout_secs",
    "body_read_timeout_secs",
    "max_connections",
    "ollama_connect_timeout_secs",
    "ollama_head_timeout_secs",
    "ollama_idle_timeout_secs",
    "keepalive_idle_secs",
];

impl Settings {
    /// Defaults, overlaid by the TOML file at `path` (if given and present), overlaid by
    /// the environment variables of [`ENV_VARS`].
    pub fn load(path: Option<&str>) -> Result<Self, String> {
        let mut table = toml::Table::new();
        if let Some(path) = path {
            if let Ok(text) = std::fs::read_to_string(path) {
                table = text
                    .parse::<toml::Table>()
                    .map_err(|e| format!("{path}: {e}"))?;
            }
        }
        for name in ENV_VARS {
            if let Ok(value) = std::env::var(name) {
                if value.is_empty() {
                    continue;
                }
                let key = name.to_ascii_lowercase();
                let v = match key.as_str() {
                    k if NUMBERS.contains(&k) => toml::Value::Integer(
                        value
                            .parse()
                            .map_err(|_| format!("{name} must be a number"))?,
                    ),
                    "trust_forwarded_for" | "notify_both_languages" => {
                        toml::Value::Boolean(matches!(value.as_str(), "1" | "true" | "yes"))
                    }
                    _ => toml::Value::String(value),
                };
                table.insert(key, v);
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| format!("settings: {e}"))
    }

    /// Cookies get `Secure` when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }
}
