use std::net::SocketAddr;

use domain::{Clock, Services, Settings};
use leptos::prelude::LeptosOptions;
use reqwest::{redirect::Policy, Client, Response};
use server::Application;

pub struct TestApp {
    pub addr: String,
    pub client: Client,
    /// The app's database, for the operator CLI (`resayil …`) in tests.
    pub database_url: String,
    /// The clock the app's rate limits and throttles read: it stands still unless the
    /// test moves it.
    pub clock: Clock,
    /// Keeps the SQLite file alive for the test's duration.
    _dir: tempfile::TempDir,
}

/// How many databases every API test runs against: SQLite, and PostgreSQL when
/// `TEST_DATABASE_URL` is set.
pub fn database_count() -> usize {
    1 + usize::from(postgres_url().is_some())
}

fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The `n`th database of [`database_count`], empty: a SQLite file in `dir`, or a schema
/// of its own in the PostgreSQL database (the URL sets its `search_path`). Tests run in
/// parallel, and each portal runs a notification worker: sharing one schema, a test's
/// worker could claim a message another test waits for.
pub async fn database_url(n: usize, dir: &tempfile::TempDir) -> String {
    if n == 0 {
        return format!("sqlite://{}/api.db?mode=rwc", dir.path().display());
    }
    let pg = postgres_url().expect("TEST_DATABASE_URL");
    use sea_orm::ConnectionTrait;
    let schema = format!("api_{}", rand_digits(12));
    let db = sea_orm::Database::connect(&pg)
        .await
        .expect("connect to TEST_DATABASE_URL");
    db.execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create the test's schema");
    db.close().await.ok();
    let sep = if pg.contains('?') { '&' } else { '?' };
    // libpq's own parameter (sqlx reads it too), so `pg_dump` takes the same URL.
    format!("{pg}{sep}options=-c%20search_path%3D{schema}")
}

/// Runs `test` once per database.
pub async fn each_app<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    each_app_with(|s| s, test).await
}

/// Like [`each_app`], with settings adjusted by `configure` (fake upstreams and so on).
pub async fn each_app_with<C, F, Fut>(configure: C, test: F)
where
    C: Fn(Settings) -> Settings,
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for n in 0..database_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = database_url(n, &dir).await;
        let settings = configure(Settings {
            database_url,
            ..test_settings()
        });
        test(spawn_app(settings, dir).await).await;
    }
}

/// [`each_app_with`] with a fake Ollama: started once, and every app's `ollama_url` pointed
/// at it before `configure` sets the rest.
pub async fn each_app_with_ollama<C, F, Fut>(configure: C, test: F)
where
    C: Fn(Settings) -> Settings,
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (ollama, _handle) = fake_ollama::spawn_local(fake_ollama::Config::default())
        .await
        .expect("fake ollama");
    let ollama_url = format!("http://{ollama}");
    each_app_with(
        |mut s| {
            s.ollama_url = ollama_url.clone();
            configure(s)
        },
        test,
    )
    .await;
}

/// The settings every API test starts from: the defaults, with the local test gateway
/// open (as `make run` and the browser tests have it) and the hourly allowances opened
/// wide, since every test registers and checks out from 127.0.0.1. Tests of those limits
/// set their own.
pub fn test_settings() -> Settings {
    Settings {
        payments_test_mode: true,
        registrations_per_ip_per_hour: 10_000,
        registrations_per_phone_prefix_per_hour: 10_000,
        checkouts_per_account_per_hour: 10_000,
        ..Settings::default()
    }
}

async fn spawn_app(settings: Settings, dir: tempfile::TempDir) -> TestApp {
    // Several tests may migrate one PostgreSQL database at once; one at a time.
    static START: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let guard = START.lock().await;
    let database_url = settings.database_url.clone();
    let leptos = LeptosOptions::builder()
        .output_name("resayil")
        .site_addr("127.0.0.1:0".parse::<SocketAddr>().expect("addr"))
        .build();
    let mut services = Services::build(settings).await.expect("services");
    let clock = Clock::manual();
    services.clock = clock.clone();
    let app = Application::build_with(services, leptos)
        .await
        .expect("build app");
    drop(guard);
    let addr = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    // A response that never ends fails its test instead of holding up the whole run.
    let client = Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(90))
        .build()
        .expect("client");
    TestApp {
        addr,
        client,
        database_url,
        clock,
        _dir: dir,
    }
}

pub fn unique_email() -> String {
    format!("api{}@example.com", rand_digits(10))
}

pub fn unique_phone() -> String {
    format!("+9656{}", rand_digits(7))
}

fn rand_digits(n: usize) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0) as u64
        ^ (u64::from(std::process::id()) << 20)
        ^ COUNTER
            .fetch_add(7919, std::sync::atomic::Ordering::Relaxed)
            .wrapping_mul(2_654_435_761);
    let s = format!("{:020}", seed.wrapping_mul(6_364_136_223_846_793_005));
    s[s.len() - n..].to_owned()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    /// Calls a server function the way the page's JavaScript does (same-origin fetch).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("origin", &self.addr)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Starts a checkout of `item` (a pack or a plan): the payment page's URL, whose last
    /// segment is the order id for the local test gateway.
    pub async fn checkout(&self, item: &str) -> (String, String) {
        let url: String = self
            .call("billing/checkout", &[("item", item)])
            .await
            .json()
            .await
            .expect("a payment URL");
        let order = url.rsplit('/').next().unwrap_or_default().to_owned();
        (url, order)
    }

    pub async fn register(&self, email: &str, phone: &str, password: &str) -> Response {
        self.call(
            "register",
            &[("email", email), ("phone", phone), ("password", password)],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.call("login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// An admin made with the operator CLI and signed in through the real login endpoint;
    /// returns the e-mail.
    pub async fn signed_in_admin(&self) -> String {
        let email = unique_email();
        let phone = unique_phone();
        resayil_with_input(
            self,
            &[
                "user", "create", "--email", &email, "--phone", &phone, "--role", "admin",
            ],
            "password123\n",
        )
        .await;
        let res = self.login(&email, "password123").await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        email
    }

    /// Registers a fresh user (and is logged in as them).
    pub async fn signed_in_user(&self) -> String {
        let email = unique_email();
        let res = self.register(&email, &unique_phone(), "password123").await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        email
    }
}

/// The admin console's pages (besides one user's, `/admin/users/{id}`).
pub const ADMIN_PAGES: [&str; 6] = [
    "/admin",
    "/admin/users",
    "/admin/models",
    "/admin/audit",
    "/admin/orders",
    "/admin/notifications",
];

/// The id of the account with `email`, found through the admin console's search (the
/// caller is signed in as an admin).
pub async fn user_id(app: &TestApp, email: &str) -> String {
    let res = app
        .call("admin/users", &[("q", email), ("sort", ""), ("page", "0")])
        .await;
    assert_eq!(res.status(), 200, "admin/users");
    let page: serde_json::Value = res.json().await.unwrap();
    page["users"][0]["id"].as_i64().unwrap().to_string()
}

/// Runs the real `resayil` binary (operator commands) against the test app's database.
pub async fn resayil(app: &TestApp, args: &[&str]) -> String {
    resayil_with_input(app, args, "").await
}

/// [`resayil`] with `input` on its standard input (`user create` reads the password there).
///
/// Waits without blocking the test's runtime: the app runs on that same single thread, and
/// a job of the app caught between two statements of a transaction would keep SQLite's
/// write lock until the command gave up on it ("database is locked").
pub async fn resayil_with_input(app: &TestApp, args: &[&str], input: &str) -> String {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_resayil"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run resayil");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
    }
    let out = child.wait_with_output().await.expect("run resayil");
    assert!(
        out.status.success(),
        "resayil {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new account made with the operator CLI (`extra`: `--plan`, `--credits`…) and the
/// API key created for it.
pub async fn api_key(app: &TestApp, extra: &[&str]) -> String {
    let email = unique_email();
    let phone = unique_phone();
    let mut args = vec!["user", "create", "--email", &email, "--phone", &phone];
    args.extend_from_slice(extra);
    resayil_with_input(app, &args, "password123\n").await;
    resayil(app, &["key", "create", "--email", &email, "--label", "sdk"]).await
}

/// Runs `test` once per database with the app configured for a fresh fake MyFatoorah
/// (token and webhook secret shared with the fake).
pub async fn each_app_with_myfatoorah<F, Fut>(test: F)
where
    F: Fn(TestApp, fake_myfatoorah::Handle) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (mf_url, mf) = fake_myfatoorah::spawn(fake_myfatoorah::Config::default())
        .await
        .expect("fake MyFatoorah");
    let config = mf.config();
    each_app_with(
        |mut s| {
            s.myfatoorah_base_url = Some(mf_url.clone());
            s.myfatoorah_api_token = Some(secrecy::SecretString::from(config.token.clone()));
            s.myfatoorah_webhook_secret =
                Some(secrecy::SecretString::from(config.webhook_secret.clone()));
            s
        },
        |app| test(app, mf.clone()),
    )
    .await
}

/// The ERROR events logged on this thread while it lives. A test's runtime is
/// single-threaded and the app it spawns runs there too, so what the app logs while it
/// serves the test's requests (server-side rendering included) is caught here.
pub struct ErrorLog {
    events: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl ErrorLog {
    pub fn capture() -> Self {
        use tracing_subscriber::layer::SubscriberExt;
        let events = std::sync::Arc::default();
        let subscriber = tracing_subscriber::registry().with(ErrorCollector {
            events: std::sync::Arc::clone(&events),
        });
        Self {
            events,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// The errors logged so far, each as its fields (`message` first).
    pub fn errors(&self) -> Vec<String> {
        self.events.lock().expect("error log").clone()
    }
}

struct ErrorCollector {
    events: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ErrorCollector {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() != tracing::Level::ERROR {
            return;
        }
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                use std::fmt::Write;
                let _ = write!(self.0, "{}={value:?} ", field.name());
            }
        }
        let mut fields = Fields(format!("{}: ", event.metadata().target()));
        event.record(&mut fields);
        self.events.lock().expect("error log").push(fields.0);
    }
}
