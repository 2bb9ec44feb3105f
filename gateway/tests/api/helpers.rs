//! `spawn_app`: the gateway router served on 127.0.0.1:0 with a fresh SQLite database (or
//! `TEST_DATABASE_URL`), a fake local Ollama and a fake cloud Ollama, both in-process.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::accounts::{self, Account, NewAccount, OperatorChoices};
use domain::catalog::Catalog;
use domain::{Clock, Services, Settings};
use fake_ollama::{spawn_local, Config, ConfigPatch, Handle};
use gateway::Gateway;
use serde_json::{json, Value};

pub struct TestApp {
    /// `http://127.0.0.1:port/v1`
    pub base: String,
    pub gw: Gateway,
    pub svc: Services,
    pub local: Handle,
    pub cloud: Handle,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub struct Options {
    pub redis: bool,
    /// Share limits with another app: same Redis prefix and database.
    pub redis_prefix: Option<String>,
    pub database_url: Option<String>,
    pub cloud: bool,
    /// The local upstream is a closed port.
    pub local_down: bool,
    /// The local upstream accepts connections and never answers (a hung Ollama).
    pub local_silent: bool,
    /// Use these upstreams instead of this app's own fakes (to share them between apps).
    pub shared_upstreams: Option<(Handle, SocketAddr, Handle, SocketAddr)>,
    pub catalog: fn(&mut Catalog),
    pub settings: fn(&mut Settings),
    /// The clock the rate limits read (shared between apps that share limits); by default
    /// a manual clock of this app's own, which stands still unless the test moves it.
    pub clock: Option<Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            redis: false,
            redis_prefix: None,
            database_url: None,
            cloud: true,
            local_down: false,
            local_silent: false,
            shared_upstreams: None,
            catalog: |_| {},
            settings: |_| {},
            clock: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// A port nothing listens on.
async fn closed_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

/// A server that accepts every connection, reads what comes and never answers.
async fn silent_port() -> SocketAddr {
    use tokio::io::AsyncReadExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while s.read(&mut buf).await.is_ok_and(|n| n > 0) {}
            });
        }
    });
    addr
}

pub fn cloud_config() -> Config {
    Config {
        models: vec!["qwen3.5".into(), "deepseek-v3.2".into()],
        ..Config::default()
    }
}

/// A local and a cloud fake for several apps to share.
pub async fn shared_upstreams() -> (Handle, SocketAddr, Handle, SocketAddr) {
    let (local_addr, local) = spawn_local(Config::default()).await.unwrap();
    let (cloud_addr, cloud) = spawn_local(cloud_config()).await.unwrap();
    (local, local_addr, cloud, cloud_addr)
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    // RUST_LOG=gateway=debug shows the gateway's logs for a failing test.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let (local, local_addr, cloud, cloud_addr) = match opts.shared_upstreams {
        Some(shared) => shared,
        None => {
            let (local_addr, local) = spawn_local(Config::default()).await.unwrap();
            let (cloud_addr, cloud) = spawn_local(cloud_config()).await.unwrap();
            (local, local_addr, cloud, cloud_addr)
        }
    };
    let ollama = if opts.local_down {
        closed_port().await
    } else if opts.local_silent {
        silent_port().await
    } else {
        local_addr
    };
    let mut settings = Settings {
        database_url: opts
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}/t.db?mode=rwc", dir.path().display())),
        redis_url: opts.redis.then(|| "redis://127.0.0.1:6379".to_owned()),
        redis_prefix: opts.redis_prefix.unwrap_or_else(|| unique("test")),
        public_base_url: "http://portal.test".into(),
        ollama_url: format!("http://{ollama}"),
        ollama_cloud_url: opts.cloud.then(|| format!("http://{cloud_addr}")),
        ollama_cloud_api_key: opts.cloud.then(|| "cloud-secret".to_owned().into()),
        ..Settings::default()
    };
    (opts.settings)(&mut settings);
    let mut svc = Services::build(settings).await.unwrap();
    svc.clock = opts.clock.unwrap_or_else(Clock::manual);
    let mut catalog = svc.catalog.get().clone();
    (opts.catalog)(&mut catalog);
    svc.catalog = Arc::new(domain::catalog::Live::new(catalog));
    let gw = Gateway::new(svc.clone()).await.unwrap();
    let app = gw.router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.unwrap();
    });
    TestApp {
        base: format!("http://{addr}/v1"),
        gw,
        svc,
        local,
        cloud,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl TestApp {
    /// An account with a plan (None = no plan: Basic limits), `credits` and one key.
    pub async fn account(&self, plan: Option<&str>, credits: i64) -> (Account, String) {
        let email = format!("{}@example.com", unique("u"));
        let phone = format!("+9656{:07}", rand::random_range(0..10_000_000u32));
        let a = accounts::create(
            &self.svc,
            NewAccount {
                email: &email,
                phone: &phone,
                password: "password1",
                lang: "en",
            },
            OperatorChoices {
                plan: plan.map(str::to_owned),
                credits: Some(credits),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let (_, key) = domain::keys::create(&self.svc, &a, "test").await.unwrap();
        (a, key)
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn chat(&self, key: &str, body: Value) -> reqwest::Response {
        self.post("/chat/completions", key, body).await
    }

    /// A chat request that owns what it needs, to be spawned (concurrency tests).
    pub fn chat_later(
        &self,
        key: &str,
        body: Value,
    ) -> impl std::future::Future<Output = reqwest::Response> + Send + 'static {
        let req = self
            .client
            .post(format!("{}/chat/completions", self.base))
            .bearer_auth(key)
            .json(&body);
        async move { req.send().await.unwrap() }
    }

    /// Waits until every request settled and its usage row is written.
    pub async fn settled(&self) {
        self.gw.shutdown_within(Duration::from_secs(10)).await;
    }

    pub async fn balance(&self, account_id: i64) -> i64 {
        accounts::find(&self.svc.db, account_id)
            .await
            .unwrap()
            .credits
    }

    pub async fn ledger_sum(&self, account_id: i64) -> i64 {
        domain::ledger::sum(&self.svc.db, account_id).await.unwrap()
    }

    pub async fn usage(&self, account_id: i64) -> Vec<domain::entities::api_usage::Model> {
        domain::usage::for_account(&self.svc.db, account_id)
            .await
            .unwrap()
    }

    pub fn set_local(&self, patch: ConfigPatch) {
        self.local.update(patch);
    }
}

pub fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Say hello"}]})
}

pub fn stream(model: &str, include_usage: bool) -> Value {
    json!({"model": model, "stream": true,
           "stream_options": {"include_usage": include_usage},
           "messages": [{"role": "user", "content": "Say hello"}]})
}

/// The `data:` payloads of an SSE body.
pub fn events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

pub async fn error_of(res: reqwest::Response) -> Value {
    let v: Value = res.json().await.unwrap();
    v["error"].clone()
}
