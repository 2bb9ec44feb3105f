//! `gateway-bench`: requests/s and latency through the gateway and directly to the fake
//! Ollama, non-stream and stream (20 tokens), at several concurrencies, plus the gateway
//! process's CPU time per request (from /proc). Results in BENCHMARKS.md.
//!
//! Three processes: the fake Ollama (the `fake-ollama` binary next to this one), the
//! gateway (this binary with `serve`, on a fresh SQLite file unless `--database-url`),
//! and the load generator (this process). Everything on one machine, loopback only, every
//! loop bounded in time.
//!
//! Build and run: `cargo build --release -p fake-ollama -p gateway --bin gateway-bench`
//! then `target/release/gateway-bench`.
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use domain::accounts::{self, NewAccount, OperatorChoices};
use domain::{Services, Settings};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Seconds of measurement per scenario (after a short warm-up).
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
    /// Concurrency levels.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Database of the gateway (default: a fresh SQLite file).
    #[arg(long)]
    database_url: Option<String>,
    /// Redis for the gateway's shared counters (default: in-process counters).
    #[arg(long)]
    redis_url: Option<String>,
    /// Worker threads of the gateway's runtime (`TOKIO_WORKER_THREADS`, which the
    /// `resayil` server honours too; default: one per core).
    #[arg(long)]
    gateway_workers: Option<usize>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs the gateway alone and prints `READY <addr> <key>` (used by the benchmark).
    Serve {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        ollama_url: String,
        #[arg(long)]
        redis_url: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // reqwest is built with rustls and no default crypto provider in this workspace.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    match args.cmd {
        Some(Cmd::Serve {
            database_url,
            ollama_url,
            redis_url,
        }) => serve(database_url, ollama_url, redis_url).await,
        None => {
            run(
                args.seconds,
                &args.concurrency,
                args.database_url,
                args.redis_url,
                args.gateway_workers,
            )
            .await
        }
    }
}

/// The gateway process: full bookkeeping (auth, rate limit, reservation, settlement,
/// usage rows), with limits raised so the benchmark measures the path, not the refusals.
async fn serve(
    database_url: String,
    ollama_url: String,
    redis_url: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings {
        database_url,
        ollama_url,
        redis_url,
        redis_prefix: format!("bench-{:x}", rand::random::<u32>()),
        ..Settings::default()
    };
    let mut svc = Services::build(settings).await?;
    let mut catalog = svc.catalog.get().clone();
    // One account sends everything: neither its rate nor its open requests may refuse any.
    for p in &mut catalog.plans {
        p.requests_per_minute = u32::MAX;
        p.concurrent_requests = Some(u32::MAX);
    }
    // An Ollama that runs this many at once (the fake has no limit), so requests go local.
    catalog.gateway.local_parallel = 4096;
    svc.catalog = Arc::new(domain::catalog::Live::new(catalog));
    let account = accounts::create(
        &svc,
        NewAccount {
            email: &format!("bench-{:x}@example.com", rand::random::<u32>()),
            phone: &format!("+9655{:07}", rand::random_range(0..10_000_000u32)),
            password: "benchmark",
            lang: "en",
        },
        OperatorChoices {
            plan: Some("enterprise".into()),
            credits: Some(1_000_000_000_000),
            ..Default::default()
        },
    )
    .await?;
    let (_, key) = domain::keys::create(&svc, &account, "bench").await?;
    let gw = gateway::Gateway::new(svc).await?;
    let app = axum::Router::new().nest("/v1", gw.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("READY {addr} {key}");
    std::io::stdout().flush()?;
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // The benchmark closes our stdin when it is done.
            let _ = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            })
            .await;
        })
        .await?;
    gw.shutdown().await;
    Ok(())
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User + system CPU seconds of a process, from /proc/<pid>/stat (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the stat line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn sibling(name: &str) -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name(name)
}

async fn wait_ready(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if client.get(url).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{url} did not come up").into())
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    NonStream,
    Stream,
}

struct Sample {
    ok: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn load(url: &str, key: &str, kind: Kind, concurrency: usize, seconds: f64) -> Sample {
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency * 2)
        .build()
        .unwrap_or_default();
    let body = serde_json::json!({
        "model": "llama3.2:3b",
        "max_tokens": 20,
        "stream": kind == Kind::Stream,
        "messages": [{"role": "user", "content": "Benchmark: say twenty words."}],
    })
    .to_string();
    // Warm-up: open the connections.
    let warm = Instant::now() + Duration::from_millis(500);
    let measure_from = warm;
    let until = warm + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, key, body) =
            (client.clone(), url.to_owned(), key.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            loop {
                let start = Instant::now();
                if start >= until {
                    break;
                }
                let res = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => kind == Kind::NonStream || b.ends_with(b"data: [DONE]\n\n"),
                        Err(_) => false,
                    },
                    _ => false,
                };
                if start >= measure_from {
                    if ok {
                        lat.push(start.elapsed());
                    } else {
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    all.sort();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    Sample {
        ok: all.len(),
        errors,
        rps: all.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

async fn run(
    seconds: f64,
    levels: &[usize],
    database_url: Option<String>,
    redis_url: Option<String>,
    gateway_workers: Option<usize>,
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let fake = Proc(
        Command::new(sibling("fake-ollama"))
            .args(["--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("fake-ollama next to this binary: {e}"))?,
    );
    let direct_base = format!("http://127.0.0.1:{port}");
    wait_ready(&direct_base).await?;
    let db = database_url
        .unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    let mut serve = Command::new(std::env::current_exe()?);
    serve
        .args(["serve", "--database-url", &db, "--ollama-url", &direct_base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if let Some(r) = &redis_url {
        serve.args(["--redis-url", r]);
    }
    if let Some(n) = gateway_workers {
        serve.env("TOKIO_WORKER_THREADS", n.to_string());
    }
    let mut gw = Proc(serve.spawn()?);
    let stdout = gw.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some("READY"), Some(addr), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("gateway did not start: {line}").into());
    };
    let gw_url = format!("http://{addr}/v1/chat/completions");
    let direct_url = format!("{direct_base}/v1/chat/completions");
    let (gw_pid, fake_pid) = (gw.0.id(), fake.0.id());

    println!("| kind | conc | direct req/s | direct p50 / p99 ms | gateway req/s | gateway p50 / p99 ms | added p50 ms | throughput ratio | gateway CPU ms/req | errors (direct/gw) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for kind in [Kind::NonStream, Kind::Stream] {
        for &c in levels {
            let direct = load(&direct_url, "unused", kind, c, seconds).await;
            let cpu0 = cpu_seconds(gw_pid);
            let fcpu0 = cpu_seconds(fake_pid);
            let through = load(&gw_url, key, kind, c, seconds).await;
            let cpu = cpu_seconds(gw_pid) - cpu0;
            let fcpu = cpu_seconds(fake_pid) - fcpu0;
            // Includes the 0.5 s warm-up requests: count them by the rate.
            let total_reqs = through.rps * (seconds + 0.5);
            let cpu_per_req_ms = cpu / total_reqs.max(1.0) * 1000.0;
            tracing::info!(kind = ?(kind == Kind::Stream), c, fake_cpu_ms_per_req = fcpu / total_reqs.max(1.0) * 1000.0);
            println!(
                "| {} | {c} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {:.2} | {:.2} | {:.3} | {}/{} |",
                if kind == Kind::Stream { "stream 20 tok" } else { "non-stream" },
                direct.rps,
                direct.p50_ms,
                direct.p99_ms,
                through.rps,
                through.p50_ms,
                through.p99_ms,
                through.p50_ms - direct.p50_ms,
                through.rps / direct.rps.max(1e-9),
                cpu_per_req_ms,
                direct.errors,
                through.errors,
            );
            let _ = (direct.ok, through.ok);
        }
    }
    // Let the gateway flush its usage rows and exit.
    drop(gw.0.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = gw.0.try_wait() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
