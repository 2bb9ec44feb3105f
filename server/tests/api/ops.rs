//! What an operator's tools see: `/healthz`, `/readyz`, `/metrics` (who may read it), and
//! the real `resayil` binary's JSON request log and graceful drain on SIGTERM.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{each_app, each_app_with, TestApp};

#[tokio::test]
async fn healthz_is_cheap_and_readyz_checks_database_redis_and_migrations() {
    each_app(|app| async move {
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "ok");
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        assert_eq!(
            v,
            json!({"ready": true, "database": "ok", "redis": "not configured",
                   "migrations": "current", "draining": false})
        );
        // Polled every second: each answer is quick.
        let started = Instant::now();
        for _ in 0..20 {
            assert_eq!(app.get("/readyz").await.status(), 200);
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        return;
    };
    each_app_with(
        |mut s| {
            s.redis_url = Some(redis.clone());
            s.redis_prefix = format!("ops-ready-{}", std::process::id());
            s
        },
        |app| async move {
            let v: Value = app.get("/readyz").await.json().await.unwrap();
            assert_eq!(v["redis"], "ok", "{v}");
            assert_eq!(v["ready"], true, "{v}");
        },
    )
    .await;
}

async fn metrics_with(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.url("/metrics"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn metrics_are_open_to_loopback_only_unless_a_token_is_set() {
    each_app(|app| async move {
        // A refused API request is counted.
        let res = app
            .client
            .get(app.url("/v1/models"))
            .bearer_auth("rsl_not-a-key")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = metrics_with(&app, &[]).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = res.text().await.unwrap();
        for needle in [
            "resayil_requests_total{endpoint=\"models\",model=\"\",status=\"401\",provider=\"\"}",
            "resayil_request_duration_seconds_bucket{endpoint=\"models\",le=\"0.005\"}",
            "resayil_upstream_queue_depth",
            "resayil_upstream_in_flight{provider=\"local\"}",
            "resayil_credit_holds",
            "resayil_usage_writer_backlog",
            "resayil_cloud_budget_used",
            "resayil_outbox_messages{status=\"failed\"}",
            "resayil_orders{status=\"pending\"}",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        // Relayed by a proxy on this machine: not loopback, and no token is set.
        for h in ["x-forwarded-for", "x-real-ip", "forwarded"] {
            let res = metrics_with(&app, &[(h, "127.0.0.1")]).await;
            assert_eq!(res.status(), 401, "{h}");
        }
        let res = metrics_with(
            &app,
            &[
                ("x-forwarded-for", "127.0.0.1"),
                ("authorization", "Bearer "),
            ],
        )
        .await;
        assert_eq!(res.status(), 401);
    })
    .await;
    each_app_with(
        |mut s| {
            s.metrics_token = Some("scrape-secret".to_owned().into());
            s
        },
        |app| async move {
            let relayed = ("x-forwarded-for", "203.0.113.9");
            let res =
                metrics_with(&app, &[relayed, ("authorization", "Bearer scrape-secret")]).await;
            assert_eq!(res.status(), 200);
            let res =
                metrics_with(&app, &[relayed, ("authorization", "Bearer scrape-secre")]).await;
            assert_eq!(res.status(), 401);
            let res = metrics_with(&app, &[relayed, ("authorization", "scrape-secret")]).await;
            assert_eq!(res.status(), 401);
        },
    )
    .await;
}

/// The real binary on a free port, with its standard error read line by line.
struct Portal {
    child: Child,
    base: String,
    lines: std::sync::mpsc::Receiver<String>,
    log: Vec<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cli(db: &str, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_resayil"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Portal {
    fn start(db: &str, ollama: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let site = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_resayil"));
        cmd.env("DATABASE_URL", db)
            .env("OLLAMA_URL", ollama)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "resayil")
            .env("LEPTOS_SITE_ROOT", site.path())
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::mem::forget(site);
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            lines,
            log: Vec::new(),
        }
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(res) = client.get(format!("{}/readyz", self.base)).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.drain_log();
        panic!("the portal did not become ready:\n{}", self.log.join("\n"));
    }

    fn drain_log(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits for the process to exit (at most `within`); its exit status.
    fn exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader thread ends with the pipe.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
                    self.log.push(line);
                }
                return status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                self.drain_log();
                panic!("the portal did not exit:\n{}", self.log.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stream_body(max_tokens: u32, prompt: &str) -> Value {
    json!({"model": "llama3.2:3b", "stream": true, "max_tokens": max_tokens,
           "messages": [{"role": "user", "content": prompt}]})
}

/// Migrates `db` and creates an Enterprise account with 100,000 credits; its API key.
fn enterprise_key(db: &str, email: &str, phone: &str) -> String {
    cli(db, &["migrate"], "");
    cli(
        db,
        &[
            "user",
            "create",
            "--email",
            email,
            "--phone",
            phone,
            "--plan",
            "enterprise",
            "--credits",
            "100000",
        ],
        "password123\n",
    );
    cli(db, &["key", "create", "--email", email, "--label", "k"], "")
}

/// The per-request series of a served model, end to end through the real binary: a
/// stream and a plain answer are counted under the model, endpoint, status and provider,
/// and the stream's time to first token is sampled (the handles are registered once and
/// kept: a second request of the same set counts on the same series).
#[tokio::test]
async fn metrics_count_served_requests_by_model_and_sample_time_to_first_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/metrics.db?mode=rwc", dir.path().display());
    let (ollama, _fake) = fake_ollama::spawn_local(fake_ollama::Config::default())
        .await
        .unwrap();
    let key = enterprise_key(&db, "metrics@example.com", "+96550011133");
    let mut portal = Portal::start(&db, &format!("http://{ollama}"), &[]);
    portal.wait_ready().await;
    let client = reqwest::Client::new();
    for stream in [true, false, false] {
        let res = client
            .post(format!("{}/v1/chat/completions", portal.base))
            .bearer_auth(&key)
            .json(
                &json!({"model": "llama3.2:3b", "stream": stream, "max_tokens": 5,
                "messages": [{"role": "user", "content": "hi"}]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap(); // to its end: counted when done
    }
    let text = client
        .get(format!("{}/metrics", portal.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(
        has(
            r#"resayil_requests_total{endpoint="chat.completions",model="llama3.2:3b",status="200",provider="local"} 3"#
        ),
        "{text}"
    );
    assert!(
        has(r#"resayil_time_to_first_token_seconds_count{model="llama3.2:3b"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"resayil_request_duration_seconds_count{endpoint="chat.completions"} 3"#),
        "{text}"
    );
}

/// SIGTERM with two streams open: the one that finishes within `SHUTDOWN_DRAIN_SECS`
/// ends with `[DONE]`, the other is ended at the deadline with the error event and
/// charged only what it generated; the writer is flushed, the holds given back, the exit
/// status 0 — and every request left one JSON log line without the key or the prompt.
#[tokio::test]
async fn sigterm_drains_streams_writes_usage_gives_holds_back_and_exits_0() {
    // The test's own HTTP client needs the TLS provider the gateway installs elsewhere.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/drain.db?mode=rwc", dir.path().display());
    let (ollama, fake) = fake_ollama::spawn_local(fake_ollama::Config {
        token_delay_ms: 25,
        default_tokens: 2000,
        ..Default::default()
    })
    .await
    .unwrap();
    let email = "drain@example.com";
    let key = enterprise_key(&db, email, "+96550011122");
    let mut portal = Portal::start(
        &db,
        &format!("http://{ollama}"),
        &[("LOG_FORMAT", "json"), ("SHUTDOWN_DRAIN_SECS", "2")],
    );
    portal.wait_ready().await;
    let client = reqwest::Client::new();
    let secret_prompt = "the-prompt-must-never-be-logged";
    let send = |max_tokens| {
        client
            .post(format!("{}/v1/chat/completions", portal.base))
            .bearer_auth(&key)
            .json(&stream_body(max_tokens, secret_prompt))
            .send()
    };
    // Short: ~0.5 s. Long: 2000 tokens at 25 ms, far beyond the 2 s drain.
    let mut short = send(20).await.unwrap();
    let mut long = send(2000).await.unwrap();
    assert_eq!(short.status(), 200);
    assert_eq!(long.status(), 200);
    let ids = [
        short.headers()["x-request-id"].to_str().unwrap().to_owned(),
        long.headers()["x-request-id"].to_str().unwrap().to_owned(),
    ];
    // A non-stream answer that would take 50 s: its head never comes before the drain
    // deadline.
    let slow = tokio::spawn(
        client
            .post(format!("{}/v1/chat/completions", portal.base))
            .bearer_auth(&key)
            .json(&json!({"model": "llama3.2:3b", "max_tokens": 2000,
                "messages": [{"role": "user", "content": secret_prompt}]}))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Both have started streaming; then the signal.
    let first = short.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    let _ = long.chunk().await.unwrap().unwrap();
    let signalled = Instant::now();
    portal.signal("-TERM");
    // Draining: no new connections are accepted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        reqwest::Client::new()
            .get(format!("{}/healthz", portal.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_err(),
        "a new connection was served while draining"
    );
    let mut short_text = String::from_utf8_lossy(&first).into_owned();
    while let Some(c) = short.chunk().await.unwrap() {
        short_text.push_str(&String::from_utf8_lossy(&c));
    }
    assert!(short_text.ends_with("data: [DONE]\n\n"), "{short_text}");
    let mut long_text = String::new();
    while let Ok(Some(c)) = long.chunk().await {
        long_text.push_str(&String::from_utf8_lossy(&c));
    }
    let ended_after = signalled.elapsed();
    assert!(
        ended_after >= Duration::from_millis(1900) && ended_after < Duration::from_secs(6),
        "{ended_after:?}"
    );
    assert!(
        long_text.contains("\"code\":\"upstream_stream_broken\""),
        "{long_text}"
    );
    assert!(!long_text.contains("[DONE]"));
    let relayed = long_text.matches("\"content\":\"").count();
    let slow = slow.await.unwrap().unwrap();
    assert_eq!(slow.status(), 503);
    let slow_id = slow.headers()["x-request-id"].to_str().unwrap().to_owned();
    let e: Value = slow.json().await.unwrap();
    assert_eq!(e["error"]["code"], "server_shutting_down", "{e}");
    let status = portal.exit(Duration::from_secs(15));
    assert!(
        status.success(),
        "exit {status:?}:\n{}",
        portal.log.join("\n")
    );
    drop(fake);

    // The books: every charge written, holds given back, ledger = balance.
    let conn = domain::db::connect(&db).await.unwrap();
    let account = domain::accounts::find_by_email(&conn, email).await.unwrap();
    let row = {
        use sea_orm::EntityTrait;
        domain::entities::account::Entity::find_by_id(account.id)
            .one(&conn)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(row.held, 0, "credit holds given back");
    assert_eq!(
        domain::ledger::sum(&conn, account.id).await.unwrap(),
        account.credits
    );
    let rows = domain::usage::for_account(&conn, account.id).await.unwrap();
    let row = |id: &str| rows.iter().find(|r| r.request_id == id).unwrap().clone();
    let (s, l) = (row(&ids[0]), row(&ids[1]));
    assert_eq!((s.status, s.error.as_deref()), (200, None));
    assert_eq!(
        (l.status, l.error.as_deref()),
        (502, Some("upstream_stream_broken"))
    );
    // Only what was generated: far below the 2000 tokens asked for.
    assert!(
        l.completion_tokens > 0 && l.completion_tokens < 400,
        "{l:?}"
    );
    assert!(
        (l.completion_tokens - relayed as i64).abs() <= 2,
        "{l:?} relayed {relayed}"
    );
    let n = row(&slow_id);
    assert_eq!((n.status, n.credits), (503, 0), "nothing charged: {n:?}");
    assert_eq!(
        100_000 - account.credits,
        s.credits + l.credits,
        "charged exactly the two streams"
    );

    // JSON logs: every line an object; one per request; no key, no prompt.
    let mut requests = 0;
    for line in &portal.log {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(!line.contains(&key), "the key was logged: {line}");
        assert!(
            !line.contains(secret_prompt),
            "the prompt was logged: {line}"
        );
        if v["target"] == "request" {
            requests += 1;
            let id = v["request_id"].as_str().unwrap();
            assert!(ids.contains(&id.to_owned()) || id == slow_id, "{line}");
            assert_eq!(v["key_prefix"], key[..12], "{line}");
            assert_eq!(v["account"], account.id, "{line}");
            assert_eq!(v["model"], "llama3.2:3b", "{line}");
            assert!(v["latency_ms"].is_u64() && v["credits"].is_i64(), "{line}");
        }
    }
    assert_eq!(requests, 3, "{}", portal.log.join("\n"));
}

/// `resayil backup` while the API charges accounts: the copy restores (SQLite: the file
/// put in place; PostgreSQL: `pg_restore` into a fresh database), has every migration,
/// and in it every account's ledger sums to its balance.
#[tokio::test]
async fn a_backup_taken_while_charging_restores_with_ledgers_equal_to_balances() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (ollama, _fake) = fake_ollama::spawn_local(fake_ollama::Config::default())
        .await
        .unwrap();
    let url = format!("http://{ollama}");
    each_app_with(
        |mut s| {
            s.ollama_url = url.clone();
            s
        },
        |app| async move {
            // A hold (large balance) and the direct path (small ones).
            let mut accounts = Vec::new();
            for credits in ["100000", "300", "60"] {
                let email = crate::helpers::unique_email();
                let phone = crate::helpers::unique_phone();
                crate::helpers::resayil_with_input(
                    &app,
                    &[
                        "user",
                        "create",
                        "--email",
                        &email,
                        "--phone",
                        &phone,
                        "--plan",
                        "enterprise",
                        "--credits",
                        credits,
                    ],
                    "password123\n",
                )
                .await;
                let key = crate::helpers::resayil(
                    &app,
                    &["key", "create", "--email", &email, "--label", "b"],
                )
                .await;
                accounts.push((email, key));
            }
            let stop = Arc::new(AtomicBool::new(false));
            let mut writers = Vec::new();
            for (_, key) in &accounts {
                let (stop, key, base) = (stop.clone(), key.clone(), app.addr.clone());
                writers.push(tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let _ = client
                            .post(format!("{base}/v1/chat/completions"))
                            .bearer_auth(&key)
                            .json(&json!({"model": "llama3.2:3b", "max_tokens": 5,
                                "messages": [{"role": "user", "content": "hi"}]}))
                            .send()
                            .await;
                        n += 1;
                    }
                    n
                }));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let dir = tempfile::tempdir().unwrap();
            let to = dir.path().join("backup").display().to_string();
            let out = tokio::task::spawn_blocking({
                let (db, to) = (app.database_url.clone(), to.clone());
                move || {
                    Command::new(env!("CARGO_BIN_EXE_resayil"))
                        .args(["backup", "--to", &to])
                        .env("DATABASE_URL", db)
                        .output()
                        .unwrap()
                }
            })
            .await
            .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("backup written"));
            tokio::time::sleep(Duration::from_millis(300)).await;
            stop.store(true, Ordering::Relaxed);
            let mut requests = 0;
            for w in writers {
                requests += w.await.unwrap();
            }
            assert!(requests > 3, "the backup ran while requests were charged");
            // A second backup to the same file is refused.
            let again = tokio::process::Command::new(env!("CARGO_BIN_EXE_resayil"))
                .args(["backup", "--to", &to])
                .env("DATABASE_URL", &app.database_url)
                .output()
                .await
                .unwrap();
            assert!(!again.status.success());

            // Restore.
            let (restored, pg_db) = if app.database_url.starts_with("postgres") {
                let name = format!("resayil_restore_{}", std::process::id());
                // The test's schema (helpers::database_url) comes with the dump.
                let (url, schema) = app
                    .database_url
                    .split_once('?')
                    .unwrap_or((&app.database_url, ""));
                let admin = url.rsplit_once('/').unwrap().0.to_owned();
                let psql = |sql: &str| {
                    Command::new("psql")
                        .args([&format!("{admin}/postgres"), "-qc", sql])
                        .status()
                        .unwrap()
                };
                psql(&format!("DROP DATABASE IF EXISTS {name}"));
                assert!(psql(&format!("CREATE DATABASE {name}")).success());
                let target = format!("{admin}/{name}");
                let ok = Command::new("pg_restore")
                    .args(["--no-owner", "-d", &target, &to])
                    .status()
                    .unwrap();
                assert!(ok.success());
                (format!("{target}?{schema}"), Some((admin, name)))
            } else {
                let file = dir.path().join("restored.db");
                std::fs::copy(&to, &file).unwrap();
                (format!("sqlite://{}", file.display()), None)
            };
            let db = domain::db::connect_only(&restored).await.unwrap();
            assert_eq!(domain::db::pending_migrations(&db).await.unwrap(), 0);
            for (email, _) in &accounts {
                let a = domain::accounts::find_by_email(&db, email).await.unwrap();
                assert_eq!(
                    domain::ledger::sum(&db, a.id).await.unwrap(),
                    a.credits,
                    "{email}"
                );
            }
            drop(db);
            if let Some((admin, name)) = pg_db {
                let _ = Command::new("psql")
                    .args([
                        &format!("{admin}/postgres"),
                        "-qc",
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ])
                    .status();
            }
        },
    )
    .await;
}

#[tokio::test]
async fn usage_prune_needs_a_retention_and_reports_what_it_deleted() {
    each_app(|app| async move {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_resayil"))
            .args(["usage", "prune"])
            .env("DATABASE_URL", &app.database_url)
            .env_remove("USAGE_RETENTION_DAYS")
            .output()
            .await
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--days"));
        // A request's row is today's: kept. (The cut is a century ago: the PostgreSQL
        // database is shared with the other tests, whose rows must stay.)
        let _ = app.get("/v1/models").await;
        let said = crate::helpers::resayil(&app, &["usage", "prune", "--days", "36500"]).await;
        assert!(said.starts_with("deleted 0 usage row(s)"), "{said}");
    })
    .await;
}
