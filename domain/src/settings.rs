//! Settings of the whole process: defaults, then a TOML file, then environment variables
//! (with the `config` crate; see [`Settings::load`]).
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// The reverse proxies whose `X-Forwarded-For` entries are believed: IPs and CIDR
    /// ranges, comma-separated (`domain::proxies`). `trust_forwarded_for` adds loopback.
    pub trusted_proxies: String,
    /// Opens the local test gateway (a page where the customer marks their own order paid)
    /// when MyFatoorah is not configured. For demos and tests only; never in production.
    pub payments_test_mode: bool,
    /// Country calling codes whose phone numbers may register, comma-separated (`965,966`
    /// or `+965,+966`). Default: the Gulf.
    pub allowed_phone_countries: String,
    /// The welcome grant of a new account; when unset, the catalog's `welcome_credits`.
    /// (It moves to after phone verification when that flow exists.)
    pub welcome_credits: Option<i64>,
    /// Registrations allowed per client IP per hour (per instance).
    pub registrations_per_ip_per_hour: u32,
    /// Registrations allowed per phone-number prefix (all but the last four digits) per
    /// hour (per instance): stops walking through a block of numbers.
    pub registrations_per_phone_prefix_per_hour: u32,
    /// Checkouts (pending orders) one account may start per hour (per instance).
    pub checkouts_per_account_per_hour: u32,
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
    /// One-time codes (password reset, phone verification) sent per account — or per
    /// e-mail or phone typed on `/forgot`, known or not — per hour (per instance).
    pub codes_per_account_per_hour: u32,
    /// One-time codes requested per client IP per hour (per instance).
    pub codes_per_ip_per_hour: u32,
    /// Event kinds whose message to a customer carries both languages in one message (the
    /// account's language first), comma-separated; `none` (no such kind) = every message in
    /// the account's language only. Default: the welcome (NOTIF-01) and credits-exhausted (NOTIF-04)
    /// messages, which the customer's requirements want in Arabic and English.
    pub notify_bilingual_kinds: String,
    /// The bearer token that opens `/metrics` to other than loopback peers; unset, only
    /// a direct connection from this machine may read it.
    pub metrics_token: Option<SecretString>,
    /// `text` (default) or `json`: one JSON object per log line, and one line per API
    /// request (request id, account, key prefix, model, status, latency, credits).
    pub log_format: String,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) lets open requests and streams finish; then
    /// streams end with the error event, charged only what was generated.
    pub shutdown_drain_secs: u64,
    /// Days raw usage rows (`api_usage`) are kept; 0 keeps them for ever. Hourly rollups
    /// and the ledger are never pruned.
    pub usage_retention_days: u32,
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
            trusted_proxies: String::new(),
            payments_test_mode: false,
            allowed_phone_countries: "965,966,971,974,973,968".into(),
            welcome_credits: None,
            registrations_per_ip_per_hour: 5,
            registrations_per_phone_prefix_per_hour: 10,
            checkouts_per_account_per_hour: 20,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            max_connections: 10_000,
            ollama_connect_timeout_secs: 5,
            ollama_head_timeout_secs: 300,
            ollama_idle_timeout_secs: 60,
            keepalive_idle_secs: 75,
            codes_per_account_per_hour: 5,
            codes_per_ip_per_hour: 20,
            notify_bilingual_kinds: "welcome,credits_exhausted".into(),
            metrics_token: None,
            log_format: "text".into(),
            shutdown_drain_secs: 30,
            usage_retention_days: 0,
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
    "TRUSTED_PROXIES",
    "PAYMENTS_TEST_MODE",
    "ALLOWED_PHONE_COUNTRIES",
    "WELCOME_CREDITS",
    "REGISTRATIONS_PER_IP_PER_HOUR",
    "REGISTRATIONS_PER_PHONE_PREFIX_PER_HOUR",
    "CHECKOUTS_PER_ACCOUNT_PER_HOUR",
    "HEADER_READ_TIMEOUT_SECS",
    "BODY_READ_TIMEOUT_SECS",
    "MAX_CONNECTIONS",
    "OLLAMA_CONNECT_TIMEOUT_SECS",
    "OLLAMA_HEAD_TIMEOUT_SECS",
    "OLLAMA_IDLE_TIMEOUT_SECS",
    "KEEPALIVE_IDLE_SECS",
    "CODES_PER_ACCOUNT_PER_HOUR",
    "CODES_PER_IP_PER_HOUR",
    "NOTIFY_BILINGUAL_KINDS",
    "METRICS_TOKEN",
    "LOG_FORMAT",
    "SHUTDOWN_DRAIN_SECS",
    "USAGE_RETENTION_DAYS",
];

impl Settings {
    /// Defaults, overlaid by the TOML file at `path` (which must exist when given), overlaid
    /// by the environment variables of [`ENV_VARS`] (an empty one counts as unset), read with
    /// the `config` crate. Values are typed by the fields: `TRUE`, `yes`, `on` and `1` are
    /// true; a value that does not fit its field, or an unknown key in the file, is an error
    /// naming it.
    pub fn load(path: Option<&str>) -> Result<Self, String> {
        let env = ENV_VARS
            .iter()
            .filter_map(|name| {
                let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
                Some((name.to_string(), value))
            })
            .collect();
        Self::from_sources(path, env)
    }

    /// [`Settings::load`] with the environment given (tests).
    pub fn from_sources(
        path: Option<&str>,
        env: std::collections::HashMap<String, String>,
    ) -> Result<Self, String> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder = Config::builder();
        if let Some(path) = path {
            if !std::path::Path::new(path).is_file() {
                return Err(format!("settings file {path}: not found"));
            }
            builder = builder.add_source(File::new(path, FileFormat::Toml));
        }
        builder
            .add_source(Environment::default().source(Some(env)))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| format!("settings: {e}"))
    }

    /// Whether a message of event `kind` carries both languages ([`Self::notify_bilingual_kinds`]).
    pub fn bilingual(&self, kind: &str) -> bool {
        self.notify_bilingual_kinds
            .split(',')
            .any(|k| k.trim() == kind)
    }

    /// Whether `presented` is the `METRICS_TOKEN` (never when it is unset or empty).
    pub fn metrics_token_matches(&self, presented: Option<&str>) -> bool {
        secret_matches(self.metrics_token.as_ref(), presented)
    }

    /// Cookies get `Secure` when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }
}

/// A shared secret compared in constant time (equal-length digests, no early exit); an
/// unset or empty secret matches nothing.
pub fn secret_matches(expected: Option<&SecretString>, presented: Option<&str>) -> bool {
    use secrecy::ExposeSecret;
    use sha2::{Digest, Sha256};
    let (Some(expected), Some(presented)) = (expected, presented) else {
        return false;
    };
    let expected = expected.expose_secret();
    if expected.is_empty() {
        return false;
    }
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_values_are_typed_by_their_fields_in_any_case() {
        let s = Settings::from_sources(
            None,
            env(&[
                ("PAYMENTS_TEST_MODE", "TRUE"),
                ("NOTIFY_BOTH_LANGUAGES", "yes"),
                ("SESSION_DAYS", "7"),
                ("ADMIN_PHONES", "+96550000001"),
                ("REDIS_PREFIX", "123"),
                ("WELCOME_CREDITS", "50"),
            ]),
        )
        .unwrap();
        assert!(s.payments_test_mode && s.notify_both_languages);
        assert_eq!(s.session_days, 7);
        assert_eq!(s.admin_phones, "+96550000001");
        assert_eq!(s.redis_prefix, "123");
        assert_eq!(s.welcome_credits, Some(50));
        assert_eq!(s.ollama_url, Settings::default().ollama_url);
    }

    #[test]
    fn the_metrics_token_opens_nothing_when_unset() {
        let unset = Settings::default();
        assert!(!unset.metrics_token_matches(Some("")));
        assert!(!unset.metrics_token_matches(None));
        let set = Settings::from_sources(None, env(&[("METRICS_TOKEN", "s3cret")])).unwrap();
        assert!(set.metrics_token_matches(Some("s3cret")));
        assert!(!set.metrics_token_matches(Some("s3cre")));
        assert!(!set.metrics_token_matches(None));
    }

    #[test]
    fn a_value_that_does_not_fit_is_an_error_naming_it() {
        let e = Settings::from_sources(None, env(&[("SESSION_DAYS", "a week")])).unwrap_err();
        assert!(e.contains("session_days"), "{e}");
        let e = Settings::from_sources(None, env(&[("PAYMENTS_TEST_MODE", "maybe")])).unwrap_err();
        assert!(e.contains("payments_test_mode"), "{e}");
    }

    #[test]
    fn every_environment_variable_is_documented_in_env_example() {
        let example = include_str!("../../.env.example");
        for name in ENV_VARS {
            let line = format!("{name}=");
            assert!(
                example.lines().any(|l| l.starts_with(&line)),
                "{name} is not in .env.example"
            );
        }
    }

    #[test]
    fn a_missing_settings_file_or_an_unknown_key_in_it_is_an_error() {
        let e = Settings::from_sources(Some("/nonexistent/resayil.toml"), env(&[])).unwrap_err();
        assert!(e.contains("not found"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "databse_url = \"sqlite://x\"\n").unwrap();
        let e = Settings::from_sources(path.to_str(), env(&[])).unwrap_err();
        assert!(e.contains("databse_url"), "{e}");
        std::fs::write(&path, "session_days = 3\npayments_test_mode = true\n").unwrap();
        let s = Settings::from_sources(path.to_str(), env(&[("SESSION_DAYS", "9")])).unwrap();
        assert_eq!(s.session_days, 9, "the environment wins over the file");
        assert!(s.payments_test_mode);
    }
}
