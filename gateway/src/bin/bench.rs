//! `gateway-bench`: requests/s and latency of `POST /v1/chat/completions` directly to the
//! fake Ollama and through proxies in front of it, non-stream and stream (20 tokens), at
//! several concurrencies, plus each proxy process's CPU time per request (from /proc).
//! Results and rerun instructions in BENCHMARKS.md.
//!
//! Targets, each a process of its own in front of the same fake Ollama, measured in the
//! same rounds (each round: direct, then every target, for one kind and concurrency):
//! - `gateway`: the gateway library alone (this binary with `serve`), full bookkeeping;
//! - `server`: the real `resayil serve` binary (next to this one, or `--server-bin`),
//!   everything the product runs: accept loop, timeouts, metrics, jobs;
//! - `nginx`: Debian's nginx in front of two `resayil serve` instances on one PostgreSQL
//!   (`--database-url`) and one Redis (`--redis-url`), the multi-instance set-up of
//!   `deploy/`; its CPU is the three processes' together;
//! - `floor`: a bare hyper pass-through proxy (this binary with `floor`): one upstream
//!   connection per client connection, bytes relayed as they come, nothing else — the
//!   least any HTTP proxy in Rust costs here, the floor the others are compared to.
//!
//! Everything on one machine, loopback only, every loop bounded in time.
//!
//! Build and run: `cargo build --release -p fake-ollama --bin fake-ollama -p gateway --bin
//! gateway-bench -p server --bin resayil` then `target/release/gateway-bench [--targets
//! floor,server]`.
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
    /// Which requests: `non-stream`, `stream` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "non-stream,stream")]
    kinds: Vec<Kind>,
    /// What to measure beside the fake itself: gateway, server, nginx, floor
    /// (comma-separated).
    /// `gateway` alone prints the table of the gateway library (BENCHMARKS.md's first
    /// tables); any other choice prints one row per target.
    #[arg(long, value_delimiter = ',', default_value = "gateway")]
    targets: Vec<String>,
    /// The `resayil` binary for the `server` target (default: next to this one). Given
    /// several times (or comma-separated), each is a target of its own in the same rounds,
    /// named by its file name (A/B comparisons of two builds).
    #[arg(long, value_delimiter = ',')]
    server_bin: Vec<PathBuf>,
    /// Rounds of every scenario; with more than one, a table of the medians follows.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Database of the gateway or server (default: a fresh SQLite file). Use an empty
    /// database: the benchmark's plans and limits are written into its catalog.
    #[arg(long)]
    database_url: Option<String>,
    /// Redis for the shared counters (default: in-process counters).
    #[arg(long)]
    redis_url: Option<String>,
    /// Worker threads of the proxies' runtimes (`TOKIO_WORKER_THREADS`, which the
    /// `resayil` server honours too; default: one per core).
    #[arg(long)]
    gateway_workers: Option<usize>,
    /// Keep the catalog's local queue (`local_parallel`, `queue_failover_depth`, the wait
    /// queue) instead of raising `local_parallel` so that the queue is never the limit.
    #[arg(long)]
    real_queue: bool,
    /// The gateway target records metrics into a Prometheus recorder set up as the
    /// server's (without: the `metrics` calls are no-ops).
    #[arg(long)]
    metrics: bool,
    /// Gives the measured proxies cores of their own: the load (this process and the fake
    /// upstream) runs on the first half of the cores this process may use, the floor,
    /// gateway, servers and nginx on the other half — as in production, where the clients
    /// and the upstream are other machines. Without it all share every core, and at high
    /// concurrency the added latency is mostly the proxy's CPU taken from the load.
    #[arg(long)]
    pin: bool,
    /// Sends at this total rate (requests per second, spread evenly over the connections)
    /// instead of each connection sending as soon as its previous answer came: latency at
    /// a load below saturation, as real clients, who do not wait for each other, make it.
    /// The turns come from a pacing thread, each at its time (not on tokio's whole
    /// milliseconds, which let several connections go at once). A connection whose
    /// previous answer is late sends at once; latency is from the send.
    #[arg(long, value_parser = positive_rate)]
    rate: Option<f64>,
    /// Writes every measured request's send time and latency (microseconds from the
    /// measurement's start; `sent_us,latency_us`) to
    /// `DIR/<round>-<kind>-<conc>-<target>.csv`: where in time the slow ones fall.
    #[arg(long)]
    latencies: Option<PathBuf>,
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
        #[arg(long)]
        real_queue: bool,
        #[arg(long)]
        metrics: bool,
    },
    /// Runs the bare pass-through proxy to `upstream` (host:port) and prints `READY <addr>`.
    Floor {
        #[arg(long)]
        upstream: String,
        /// Where to listen (default: a free port of 127.0.0.1).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // reqwest is built with rustls and no default crypto provider in this workspace.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    if args.pin && args.cmd.is_none() {
        // Before the runtime: its threads and the processes started here inherit it.
        pin::load()?;
    }
    // The same runtime as the `resayil` server: multi-threaded, TOKIO_WORKER_THREADS.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.cmd {
            Some(Cmd::Serve {
                database_url,
                ollama_url,
                redis_url,
                real_queue,
                metrics,
            }) => serve(database_url, ollama_url, redis_url, real_queue, metrics).await,
            Some(Cmd::Floor { upstream, listen }) => floor::run(upstream, listen).await,
            None => run(args).await,
        }
    })
}

/// Raises the catalog's limits so the benchmark measures the path, not the refusals:
/// neither the single account's rate nor its open requests may refuse any; unless
/// `real_queue`, an Ollama that runs 4096 at once (the fake has no limit), so every
/// request goes straight to it.
fn bench_catalog(
    mut catalog: domain::catalog::Catalog,
    real_queue: bool,
) -> domain::catalog::Catalog {
    for p in &mut catalog.plans {
        p.requests_per_minute = u32::MAX;
        p.concurrent_requests = Some(u32::MAX);
    }
    if !real_queue {
        catalog.gateway.local_parallel = 4096;
    }
    catalog
}

/// An Enterprise account with a large balance and one key; the key.
async fn bench_account(svc: &Services) -> Result<String, Box<dyn std::error::Error>> {
    let account = accounts::create(
        svc,
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
    let (_, key) = domain::keys::create(svc, &account, "bench").await?;
    Ok(key)
}

/// The Prometheus recorder as `server::ops::recorder` sets it up (buckets, upkeep).
fn install_recorder() {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let Ok(builder) = PrometheusBuilder::new().set_buckets_for_metric(
        Matcher::Suffix("_seconds".into()),
        &[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            60.0, 120.0, 300.0,
        ],
    ) else {
        return;
    };
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_ok() {
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            handle.run_upkeep();
        });
    }
}

/// The gateway process: full bookkeeping (auth, rate limit, reservation, settlement,
/// usage rows), with limits raised so the benchmark measures the path, not the refusals.
async fn serve(
    database_url: String,
    ollama_url: String,
    redis_url: Option<String>,
    real_queue: bool,
    with_metrics: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    if with_metrics {
        install_recorder();
    }
    let settings = Settings {
        database_url,
        ollama_url,
        redis_url,
        redis_prefix: format!("bench-{:x}", rand::random::<u32>()),
        ..Settings::default()
    };
    let mut svc = Services::build(settings).await?;
    let catalog = bench_catalog(svc.catalog.get().clone(), real_queue);
    svc.catalog = Arc::new(domain::catalog::Live::new(catalog));
    let key = bench_account(&svc).await?;
    let gw = gateway::Gateway::new(svc).await?;
    let app = gw.router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("READY {addr} {key}");
    std::io::stdout().flush()?;
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(stdin_closed())
        .await?;
    gw.shutdown().await;
    Ok(())
}

/// Resolves when the benchmark closes our stdin (it is done).
async fn stdin_closed() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await;
}

/// The floor: a bare HTTP/1.1 pass-through proxy on hyper.
mod floor {
    use std::io::Write;
    use std::sync::Arc;

    use http::Request;
    use hyper::body::Incoming;
    use hyper::client::conn::http1::SendRequest;
    use hyper_util::rt::TokioIo;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::Mutex;

    pub async fn run(upstream: String, listen: String) -> Result<(), Box<dyn std::error::Error>> {
        let listener = TcpListener::bind(listen).await?;
        println!("READY {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let accept = async {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = connection(tcp, &upstream).await;
                });
            }
        };
        tokio::select! {
            () = accept => {}
            () = super::stdin_closed() => {}
        }
        Ok(())
    }

    /// One client connection, relayed over one upstream connection of its own.
    async fn connection(tcp: TcpStream, upstream: &str) -> Result<(), Box<dyn std::error::Error>> {
        tcp.set_nodelay(true)?;
        let up = TcpStream::connect(upstream).await?;
        up.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(up)).await?;
        tokio::spawn(conn);
        let sender: Arc<Mutex<SendRequest<Incoming>>> = Arc::new(Mutex::new(sender));
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let sender = sender.clone();
            async move {
                let mut sender = sender.lock().await;
                sender.ready().await?;
                // Requests come one at a time on an HTTP/1.1 connection: the upstream
                // answers this one before the next is read.
                let res = sender.send_request(req).await?;
                Ok::<_, hyper::Error>(res)
            }
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service)
            .await?;
        Ok(())
    }
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

/// `--pin`: the load on the first half of the allowed cores, the proxies on the rest.
mod pin {
    use std::ffi::OsStr;
    use std::process::Command;

    use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

    /// The cores this process may use, split in two halves (the load's, the proxies').
    fn halves() -> Result<(Vec<usize>, Vec<usize>), String> {
        let allowed = sched_getaffinity(None).map_err(|e| format!("sched_getaffinity: {e}"))?;
        split(
            (0..CpuSet::MAX_CPU)
                .filter(|&c| allowed.is_set(c))
                .collect(),
        )
    }

    /// The first half of the cores for the load, the rest (the larger half) for the
    /// proxies.
    pub(super) fn split(mut cores: Vec<usize>) -> Result<(Vec<usize>, Vec<usize>), String> {
        if cores.len() < 2 {
            return Err("--pin needs at least two cores".into());
        }
        let proxies = cores.split_off(cores.len() / 2);
        Ok((cores, proxies))
    }

    /// Moves this thread (and so every thread and process started from it after) to the
    /// load's cores.
    pub fn load() -> Result<(), Box<dyn std::error::Error>> {
        let (load, proxies) = halves()?;
        let mut set = CpuSet::new();
        for c in &load {
            set.set(*c);
        }
        sched_setaffinity(None, &set)?;
        let _ = PROXY_CORES.set(proxies.clone());
        eprintln!("pinned: load (bench, fake upstream) on cores {load:?}, proxies on {proxies:?}");
        Ok(())
    }

    /// A command for a measured proxy: under `taskset` on the proxies' cores with `--pin`
    /// (set before it starts, so all its threads have them).
    pub fn proxy(args: &super::Args, program: impl AsRef<OsStr>) -> Command {
        if !args.pin {
            return Command::new(program);
        }
        // Set by `load`, which runs first with `--pin`.
        let cores = PROXY_CORES.get().map(Vec::as_slice).unwrap_or_default();
        let list: Vec<String> = cores.iter().map(usize::to_string).collect();
        let mut cmd = Command::new("taskset");
        cmd.arg("-c").arg(list.join(",")).arg(program);
        cmd
    }

    /// The proxies' half, decided before this process left it.
    static PROXY_CORES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
}

fn sibling(name: &str) -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name(name)
}

async fn wait_ready(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if client.get(url).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{url} did not come up").into())
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Kind {
    NonStream,
    Stream,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::NonStream => "non-stream",
            Kind::Stream => "stream 20 tok",
        }
    }
}

/// `--rate`: a finite number of requests a second above zero.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a rate: requests a second, above zero"
        )),
    }
}

/// When a connection sends its requests at a fixed total rate: the connections take
/// turns, each every `concurrency / rate` seconds, the `i`-th starting `i / rate` after
/// the first.
#[derive(Clone, Copy)]
struct Schedule {
    first: tokio::time::Instant,
    every: Duration,
}

impl Schedule {
    fn new(begin: tokio::time::Instant, rate: f64, concurrency: usize, i: usize) -> Self {
        Self {
            first: begin + Duration::from_secs_f64(i as f64 / rate),
            every: Duration::from_secs_f64(concurrency as f64 / rate),
        }
    }

    /// When the `k`-th request of this connection is due.
    fn due(&self, k: u32) -> tokio::time::Instant {
        self.first + self.every * k
    }

    /// Whether the `k`-th request is late: its connection was still waiting for the
    /// previous answer (which came at `previous_answered`) when its turn came, so it went
    /// out after its turn — the rate was not kept, and the latency a client sending on
    /// time would have seen is missing from the figures.
    fn late(&self, k: u32, previous_answered: tokio::time::Instant) -> bool {
        previous_answered > self.due(k)
    }
}

/// Gives each connection its turns on time, from a thread of its own: the requests of all
/// connections in the order they are due, each at its time (`std::thread::sleep`, which
/// wakes within tens of microseconds), until `until`. tokio's timer, which these turns
/// used to come from, fires on whole milliseconds: at 10,000 requests a second about ten
/// connections were let go at once each millisecond, a burst the proxies queued for and
/// that many connections counted as a late send. A connection still waiting for its
/// previous answer finds its turn queued and sends as soon as it can.
fn pace(schedules: &[Schedule], until: Instant, turns: &[tokio::sync::mpsc::UnboundedSender<()>]) {
    let c = schedules.len() as u32;
    if c == 0 {
        return; // `--concurrency 0`: no connection to give turns to.
    }
    for j in 0u32.. {
        let (i, k) = ((j % c) as usize, j / c);
        let due = schedules[i].due(k).into_std();
        if due >= until {
            return;
        }
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let _ = turns[i].send(());
    }
}

#[derive(Clone, Copy, Default)]
struct Sample {
    errors: usize,
    /// At a fixed rate: measured requests sent more than [`LATE`] after their turn.
    late: usize,
    /// Requests answered or failed, warm-up included (for CPU per request).
    total: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn load(
    url: &str,
    key: &str,
    kind: Kind,
    concurrency: usize,
    seconds: f64,
    rate: Option<f64>,
) -> (Sample, Vec<(Duration, Duration)>) {
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
    let begin = tokio::time::Instant::now();
    let schedules: Option<Vec<Schedule>> = rate.map(|r| {
        (0..concurrency)
            .map(|i| Schedule::new(begin, r, concurrency, i))
            .collect()
    });
    let mut senders = Vec::new();
    for i in 0..concurrency {
        let (client, url, key, body) =
            (client.clone(), url.to_owned(), key.to_owned(), body.clone());
        let schedule = schedules.as_ref().map(|s| s[i]);
        let mut turns = schedule.as_ref().map(|_| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<()>();
            senders.push(tx);
            rx
        });
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut late = 0usize;
            let mut total = 0usize;
            let mut answered: Option<tokio::time::Instant> = None;
            for k in 0.. {
                let behind = schedule
                    .as_ref()
                    .zip(answered)
                    .is_some_and(|(s, at)| s.late(k, at));
                if let Some(turns) = turns.as_mut() {
                    if turns.recv().await.is_none() {
                        break;
                    }
                }
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
                answered = Some(tokio::time::Instant::now());
                total += 1;
                if start >= measure_from {
                    late += usize::from(behind);
                    if ok {
                        lat.push((start - measure_from, start.elapsed()));
                    } else {
                        errors += 1;
                    }
                }
            }
            (lat, errors, late, total)
        }));
    }
    let pacer = schedules.map(|schedules| {
        std::thread::spawn(move || {
            pace(&schedules, until, &senders);
            // The senders go with the thread: each connection then ends its loop.
        })
    });
    let mut all = Vec::new();
    let mut errors = 0;
    let mut late = 0;
    let mut total = 0;
    for t in tasks {
        if let Ok((lat, e, l, n)) = t.await {
            all.extend(lat);
            errors += e;
            late += l;
            total += n;
        }
    }
    if let Some(pacer) = pacer {
        let _ = pacer.join();
    }
    let mut sorted: Vec<Duration> = all.iter().map(|(_, l)| *l).collect();
    sorted.sort();
    let pct = |p: f64| -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1000.0
    };
    let sample = Sample {
        errors,
        late,
        total,
        rps: sorted.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    };
    all.sort();
    (sample, all)
}

/// Writes a run's `(sent, latency)` pairs as `sent_us,latency_us` lines (`--latencies`).
fn write_latencies(
    dir: &std::path::Path,
    name: &str,
    all: &[(Duration, Duration)],
) -> std::io::Result<()> {
    use std::fmt::Write as _;
    std::fs::create_dir_all(dir)?;
    let mut text = String::from("sent_us,latency_us\n");
    for (sent, latency) in all {
        let _ = writeln!(text, "{},{}", sent.as_micros(), latency.as_micros());
    }
    std::fs::write(dir.join(format!("{name}.csv")), text)
}

/// A proxy under test: its process, the URL of chat completions through it, the key.
struct Target {
    name: &'static str,
    proc: Proc,
    /// More processes of the same target (the second instance and nginx of `nginx`):
    /// their CPU counts with `proc`'s; they are killed when the target is dropped.
    others: Vec<Proc>,
    url: String,
    key: String,
    /// Stopped by closing its stdin (the bench's own processes) or by SIGTERM (the server).
    sigterm: bool,
}

impl Target {
    /// CPU seconds of every process of the target.
    fn cpu_seconds(&self) -> f64 {
        std::iter::once(&self.proc)
            .chain(&self.others)
            .map(|p| cpu_seconds(p.0.id()))
            .sum()
    }

    async fn stop(mut self) {
        if self.sigterm {
            for p in std::iter::once(&self.proc).chain(&self.others) {
                let _ = Command::new("kill")
                    .args(["-TERM", &p.0.id().to_string()])
                    .status();
            }
        } else {
            drop(self.proc.0.stdin.take());
        }
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.proc.0.try_wait() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts one of this binary's subcommands and reads its `READY addr [key]` line.
fn start_child(mut cmd: Command) -> Result<(Proc, String, String), Box<dyn std::error::Error>> {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = Proc(cmd.spawn()?);
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some("READY"), Some(addr)) = (parts.next(), parts.next()) else {
        return Err(format!("did not start: {line}").into());
    };
    let key = parts.next().unwrap_or("unused").to_owned();
    Ok((child, addr.to_owned(), key))
}

fn free_port() -> Result<u16, std::io::Error> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Prepares a server's database: migrations, the benchmark's catalog, an account and a
/// key (the key).
async fn prepare_server_db(
    args: &Args,
    db: &str,
    ollama: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let settings = Settings {
        database_url: db.to_owned(),
        ollama_url: ollama.to_owned(),
        ..Settings::default()
    };
    let mut svc = Services::build(settings).await?;
    let catalog = bench_catalog(svc.catalog.get().clone(), args.real_queue);
    domain::catalog::sync(&svc.db, &catalog).await?;
    svc.catalog = Arc::new(domain::catalog::Live::new(catalog));
    let key = bench_account(&svc).await?;
    svc.db.clone().close().await?;
    Ok(key)
}

/// Starts `resayil serve` on a prepared database; the process and its port, once
/// `/healthz` answers. Instances started with the same `redis_prefix` share their counters.
async fn spawn_server(
    args: &Args,
    bin: &std::path::Path,
    db: &str,
    ollama: &str,
    site: &std::path::Path,
    redis_prefix: &str,
) -> Result<(Proc, u16), Box<dyn std::error::Error>> {
    let port = free_port()?;
    let mut cmd = pin::proxy(args, bin);
    cmd.arg("serve")
        .env("DATABASE_URL", db)
        .env("OLLAMA_URL", ollama)
        .env("REDIS_PREFIX", redis_prefix)
        .env("LEPTOS_OUTPUT_NAME", "resayil")
        .env("LEPTOS_SITE_ROOT", site)
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_ENV", "PROD")
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .env_remove("LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    match &args.redis_url {
        Some(r) => cmd.env("REDIS_URL", r),
        None => cmd.env_remove("REDIS_URL"),
    };
    if let Some(n) = args.gateway_workers {
        cmd.env("TOKIO_WORKER_THREADS", n.to_string());
    }
    let proc = Proc(
        cmd.spawn()
            .map_err(|e| format!("{} (build it: -p server --bin resayil): {e}", bin.display()))?,
    );
    wait_ready(&format!("http://127.0.0.1:{port}/healthz")).await?;
    Ok((proc, port))
}

/// Prepares the server's database, then starts `resayil serve` on it.
async fn start_server(
    args: &Args,
    bin: &std::path::Path,
    name: &'static str,
    db: &str,
    ollama: &str,
    site: &std::path::Path,
) -> Result<Target, Box<dyn std::error::Error>> {
    let key = prepare_server_db(args, db, ollama).await?;
    let prefix = format!("bench-{:x}", rand::random::<u32>());
    let (proc, port) = spawn_server(args, bin, db, ollama, site, &prefix).await?;
    Ok(Target {
        name,
        proc,
        others: Vec::new(),
        url: format!("http://127.0.0.1:{port}/v1/chat/completions"),
        key,
        sigterm: true,
    })
}

/// Debian's nginx in front of two `resayil serve` instances on one database (PostgreSQL)
/// and one Redis, configured as `deploy/nginx/resayil.conf` proxies `/v1` (HTTP/1.1 kept
/// alive to the instances, no buffering). nginx runs as one process
/// (`master_process off`) so that its CPU is one process's; the target's CPU is the two
/// instances' and nginx's together.
async fn start_nginx_pair(
    args: &Args,
    bin: &std::path::Path,
    ollama: &str,
    site: &std::path::Path,
    work: &std::path::Path,
) -> Result<Target, Box<dyn std::error::Error>> {
    let (Some(db), Some(_)) = (&args.database_url, &args.redis_url) else {
        return Err("the nginx target needs --database-url (PostgreSQL) and --redis-url".into());
    };
    let key = prepare_server_db(args, db, ollama).await?;
    let prefix = format!("bench-{:x}", rand::random::<u32>());
    let (a, port_a) = spawn_server(args, bin, db, ollama, site, &prefix).await?;
    let (b, port_b) = spawn_server(args, bin, db, ollama, site, &prefix).await?;
    let port = free_port()?;
    let dir = work.join("nginx");
    std::fs::create_dir_all(&dir)?;
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 4096; }}\nhttp {{\n\
         access_log off;\nclient_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
         upstream resayil {{ server 127.0.0.1:{port_a}; server 127.0.0.1:{port_b}; keepalive 128; }}\n\
         server {{\nlisten 127.0.0.1:{port};\nkeepalive_requests 1000000;\n\
         location /v1/ {{\nproxy_pass http://resayil;\nproxy_http_version 1.1;\n\
         proxy_set_header Connection \"\";\nproxy_set_header Host $host;\n\
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
         proxy_buffering off;\nproxy_request_buffering off;\nproxy_read_timeout 600s;\n}}\n\
         location / {{ proxy_pass http://resayil; }}\n}}\n}}\n"
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let nginx = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|n| Command::new(n).arg("-v").output().is_ok())
        .ok_or("nginx not found (apt-get install nginx)")?;
    let proxy = Proc(
        pin::proxy(args, nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?,
    );
    wait_ready(&format!("http://127.0.0.1:{port}/healthz")).await?;
    Ok(Target {
        name: "nginx + 2 servers",
        proc: a,
        others: vec![b, proxy],
        url: format!("http://127.0.0.1:{port}/v1/chat/completions"),
        key,
        sigterm: true,
    })
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
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
    let direct_url = format!("{direct_base}/v1/chat/completions");
    let sqlite = |name: &str| format!("sqlite://{}/{name}.db?mode=rwc", dir.path().display());

    let mut targets = Vec::new();
    for name in &args.targets {
        match name.as_str() {
            "gateway" => {
                let db = args
                    .database_url
                    .clone()
                    .unwrap_or_else(|| sqlite("gateway"));
                let mut cmd = pin::proxy(&args, std::env::current_exe()?);
                cmd.args(["serve", "--database-url", &db, "--ollama-url", &direct_base]);
                if let Some(r) = &args.redis_url {
                    cmd.args(["--redis-url", r]);
                }
                if args.real_queue {
                    cmd.arg("--real-queue");
                }
                if args.metrics {
                    cmd.arg("--metrics");
                }
                if let Some(n) = args.gateway_workers {
                    cmd.env("TOKIO_WORKER_THREADS", n.to_string());
                }
                let (proc, addr, key) = start_child(cmd)?;
                targets.push(Target {
                    name: "gateway",
                    proc,
                    others: Vec::new(),
                    url: format!("http://{addr}/v1/chat/completions"),
                    key,
                    sigterm: false,
                });
            }
            "floor" => {
                let mut cmd = pin::proxy(&args, std::env::current_exe()?);
                cmd.args(["floor", "--upstream", &format!("127.0.0.1:{port}")]);
                if let Some(n) = args.gateway_workers {
                    cmd.env("TOKIO_WORKER_THREADS", n.to_string());
                }
                let (proc, addr, _) = start_child(cmd)?;
                targets.push(Target {
                    name: "floor",
                    proc,
                    others: Vec::new(),
                    url: format!("http://{addr}/v1/chat/completions"),
                    key: "unused".into(),
                    sigterm: false,
                });
            }
            "server" => {
                let bins = if args.server_bin.is_empty() {
                    vec![sibling("resayil")]
                } else {
                    args.server_bin.clone()
                };
                let site = dir.path().join("site");
                std::fs::create_dir_all(&site)?;
                for (i, bin) in bins.iter().enumerate() {
                    let name: &'static str = if bins.len() == 1 {
                        "server"
                    } else {
                        let file = bin.file_name().unwrap_or_default().to_string_lossy();
                        Box::leak(format!("server {file}").into_boxed_str())
                    };
                    // Each server its own database (an empty one when --database-url
                    // names one: a suffix per server).
                    let db = match &args.database_url {
                        Some(url) if i == 0 => url.clone(),
                        Some(_) => return Err("one --database-url serves one server".into()),
                        None => sqlite(&format!("server{i}")),
                    };
                    targets.push(start_server(&args, bin, name, &db, &direct_base, &site).await?);
                }
            }
            "nginx" => {
                let bin = args
                    .server_bin
                    .first()
                    .cloned()
                    .unwrap_or_else(|| sibling("resayil"));
                let site = dir.path().join("site");
                std::fs::create_dir_all(&site)?;
                targets.push(start_nginx_pair(&args, &bin, &direct_base, &site, dir.path()).await?);
            }
            other => return Err(format!("unknown target {other:?}").into()),
        }
    }
    let legacy = args.targets == ["gateway"];
    if let Some(r) = args.rate {
        println!("Sent at a fixed rate: {r} requests/s in all, over the connections. A send whose turn came while its connection still waited for the previous answer is counted as late: where there are many, the rate was not kept and the latency figures miss what a client sending on time would have seen.\n");
    }
    if legacy {
        println!("| kind | conc | direct req/s | direct p50 / p99 ms | gateway req/s | gateway p50 / p99 ms | added p50 ms | throughput ratio | gateway CPU ms/req | errors (direct/gw) |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
    } else {
        println!("| round | kind | conc | target | req/s | p50 / p99 ms | +p50 / +p99 ms | CPU ms/req | errors | late sends |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
    }
    // (kind, conc, target name) → one Row per round; "direct" included.
    let mut rows: Vec<(Kind, usize, &'static str, Vec<Row>)> = Vec::new();
    for round in 1..=args.rounds {
        for &kind in &args.kinds {
            for &c in &args.concurrency {
                let keep = |name: &str, all: &[(Duration, Duration)]| match &args.latencies {
                    Some(dir) => {
                        let file = format!("{round}-{}-{c}-{name}", kind.label());
                        write_latencies(dir, &file.replace(' ', "_"), all)
                    }
                    None => Ok(()),
                };
                let (direct, all) =
                    load(&direct_url, "unused", kind, c, args.seconds, args.rate).await;
                keep("direct", &all)?;
                let mut measured = vec![(
                    "direct",
                    Row {
                        s: direct,
                        cpu_ms: f64::NAN,
                    },
                )];
                for t in &targets {
                    let cpu0 = t.cpu_seconds();
                    let (s, all) = load(&t.url, &t.key, kind, c, args.seconds, args.rate).await;
                    let cpu = t.cpu_seconds() - cpu0;
                    keep(t.name, &all)?;
                    let row = Row {
                        s,
                        cpu_ms: cpu / (s.total.max(1) as f64) * 1000.0,
                    };
                    measured.push((t.name, row));
                }
                for (name, row) in measured {
                    if legacy {
                        if name == "direct" {
                            continue;
                        }
                        let through = row.s;
                        println!(
                            "| {} | {c} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {:.2} | {:.2} | {:.3} | {}/{} |",
                            kind.label(),
                            direct.rps,
                            direct.p50_ms,
                            direct.p99_ms,
                            through.rps,
                            through.p50_ms,
                            through.p99_ms,
                            through.p50_ms - direct.p50_ms,
                            through.rps / direct.rps.max(1e-9),
                            row.cpu_ms,
                            direct.errors,
                            through.errors,
                        );
                    } else {
                        print_row(&round.to_string(), kind, c, name, &row, &direct);
                    }
                    match rows
                        .iter_mut()
                        .find(|(k, cc, n, _)| *k == kind && *cc == c && *n == name)
                    {
                        Some((_, _, _, v)) => v.push(row),
                        None => rows.push((kind, c, name, vec![row])),
                    }
                }
                std::io::stdout().flush()?;
            }
        }
    }
    if args.rounds > 1 && !legacy {
        println!("\nMedians over {} rounds:\n", args.rounds);
        println!("| round | kind | conc | target | req/s | p50 / p99 ms | +p50 / +p99 ms | CPU ms/req | errors | late sends |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        let med = |rs: &[Row]| Row::median(rs);
        for (kind, c, name, rs) in &rows {
            let direct = rows
                .iter()
                .find(|(k, cc, n, _)| k == kind && cc == c && *n == "direct")
                .map(|(_, _, _, d)| med(d).s)
                .unwrap_or_default();
            print_row("median", *kind, *c, name, &med(rs), &direct);
        }
    }
    if !legacy {
        // The targets: against the floor, in the medians and round by round.
        let rounds_of = |kind: Kind, c: usize, name: &str| {
            rows.iter()
                .find(|(k, cc, n, _)| *k == kind && *cc == c && *n == name)
                .map(|(_, _, _, v)| v.as_slice())
        };
        let find = |kind: Kind, c: usize, name: &str| rounds_of(kind, c, name).map(Row::median);
        let others: Vec<&str> = targets
            .iter()
            .map(|t| t.name)
            .filter(|n| *n != "floor")
            .collect();
        if targets.iter().any(|t| t.name == "floor") && !others.is_empty() {
            println!("\nAgainst the floor: CPU and +p99 as multiples of the floor's, of the medians and (with several rounds) per round: the median of the rounds' multiples, with their range\n");
            println!("| kind | conc | target | CPU × floor | +p99 × floor | per round: CPU × floor | per round: +p99 × floor | req/s | req/s at this conc ÷ at the previous |");
            println!("|---|---|---|---|---|---|---|---|---|");
            for &kind in &args.kinds {
                for name in &others {
                    let mut prev: Option<f64> = None;
                    for &c in &args.concurrency {
                        let (Some(t), Some(f), Some(d)) = (
                            find(kind, c, name),
                            find(kind, c, "floor"),
                            find(kind, c, "direct"),
                        ) else {
                            continue;
                        };
                        let added = |r: &Row| r.s.p99_ms - d.s.p99_ms;
                        let rounds = [name, "floor", "direct"]
                            .map(|n| rounds_of(kind, c, n).unwrap_or_default());
                        let (cpu, p99) = per_round(rounds[0], rounds[1], rounds[2]);
                        println!(
                            "| {} | {c} | {name} | {:.2} | {} | {} | {} | {:.0} | {} |",
                            kind.label(),
                            t.cpu_ms / f.cpu_ms,
                            p99_multiple(added(&t), added(&f)),
                            cpu.map_or("–".into(), |s| s.to_string()),
                            p99.map_or("– (floor adds ≈ 0)".into(), |s| s.to_string()),
                            t.s.rps,
                            prev.map_or("".into(), |p| format!("{:.2}", t.s.rps / p)),
                        );
                        prev = Some(t.s.rps);
                    }
                }
            }
        }
    }
    for t in targets {
        t.stop().await;
    }
    drop(fake);
    Ok(())
}

/// A target's added p99 as a multiple of the floor's. Where the floor adds less than
/// [`MEANINGFUL_ADDED_P99_MS`] to the upstream's own p99 (or its p99 is below the
/// upstream's, as happens at 64 where the client is the bottleneck), a multiple of it
/// means nothing: the absolute figure is given instead.
fn p99_multiple(target_added_ms: f64, floor_added_ms: f64) -> String {
    if floor_added_ms < MEANINGFUL_ADDED_P99_MS {
        format!("– (floor adds ≈ 0; +{:.2} ms)", target_added_ms.max(0.0))
    } else {
        format!("{:.2}", target_added_ms.max(0.0) / floor_added_ms)
    }
}

/// The median of some figures and their range.
#[derive(Debug, PartialEq)]
struct Spread {
    median: f64,
    low: f64,
    high: f64,
}

impl Spread {
    /// None for no figures (NaN left out); the median of an even count is the mean of the
    /// middle two.
    fn of(mut v: Vec<f64>) -> Option<Spread> {
        v.retain(|x| x.is_finite());
        v.sort_by(|a, b| a.total_cmp(b));
        let mid = v.len() / 2;
        let median = if v.len().is_multiple_of(2) {
            (v.get(mid.wrapping_sub(1))? + v.get(mid)?) / 2.0
        } else {
            *v.get(mid)?
        };
        Some(Spread {
            median,
            low: *v.first()?,
            high: *v.last()?,
        })
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ({:.2}–{:.2})", self.median, self.low, self.high)
    }
}

/// A target's multiples of the floor taken round by round (each round's target against the
/// same round's floor and upstream, which met the same moment of the machine), where the
/// table of medians divides figures of different rounds: the CPU multiple, and the +p99
/// multiple over the rounds where the floor adds a measurable tail. None with fewer than
/// two rounds, or none to compare.
fn per_round(target: &[Row], floor: &[Row], direct: &[Row]) -> (Option<Spread>, Option<Spread>) {
    if target.len() < 2 {
        return (None, None);
    }
    let rounds = || target.iter().zip(floor).zip(direct);
    let cpu = rounds().map(|((t, f), _)| t.cpu_ms / f.cpu_ms).collect();
    let p99 = rounds()
        .filter_map(|((t, f), d)| {
            let floor_added = f.s.p99_ms - d.s.p99_ms;
            (floor_added >= MEANINGFUL_ADDED_P99_MS)
                .then(|| (t.s.p99_ms - d.s.p99_ms).max(0.0) / floor_added)
        })
        .collect();
    (Spread::of(cpu), Spread::of(p99))
}

/// Below this, the floor's added p99 is within the spread of the upstream's own.
const MEANINGFUL_ADDED_P99_MS: f64 = 0.05;

#[derive(Clone, Copy)]
struct Row {
    s: Sample,
    cpu_ms: f64,
}

impl Row {
    /// Each figure's median over the rounds (figures from different rounds).
    fn median(rows: &[Row]) -> Row {
        let m = |f: &dyn Fn(&Row) -> f64| {
            let mut v: Vec<f64> = rows.iter().map(f).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        Row {
            s: Sample {
                errors: rows.iter().map(|r| r.s.errors).sum(),
                late: rows.iter().map(|r| r.s.late).sum(),
                total: rows.iter().map(|r| r.s.total).sum(),
                rps: m(&|r| r.s.rps),
                p50_ms: m(&|r| r.s.p50_ms),
                p99_ms: m(&|r| r.s.p99_ms),
            },
            cpu_ms: m(&|r| r.cpu_ms),
        }
    }
}

fn print_row(round: &str, kind: Kind, c: usize, name: &str, row: &Row, direct: &Sample) {
    let s = &row.s;
    let (added, cpu) = if name == "direct" {
        ("".to_owned(), "".to_owned())
    } else {
        (
            format!(
                "{:.2} / {:.2}",
                s.p50_ms - direct.p50_ms,
                s.p99_ms - direct.p99_ms
            ),
            format!("{:.3}", row.cpu_ms),
        )
    };
    println!(
        "| {round} | {} | {c} | {name} | {:.0} | {:.2} / {:.2} | {added} | {cpu} | {} | {} |",
        kind.label(),
        s.rps,
        s.p50_ms,
        s.p99_ms,
        s.errors,
        s.late,
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{
        p99_multiple, pace, per_round, pin, positive_rate, write_latencies, Row, Sample, Schedule,
        Spread,
    };

    #[test]
    fn latencies_are_written_a_line_a_request_in_microseconds() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("runs");
        let ms = Duration::from_millis;
        let all = [(ms(0), Duration::from_micros(812)), (ms(3), ms(2))];
        write_latencies(&sub, "1-stream_20_tok-16-server", &all).unwrap();
        let text = std::fs::read_to_string(sub.join("1-stream_20_tok-16-server.csv")).unwrap();
        assert_eq!(text, "sent_us,latency_us\n0,812\n3000,2000\n");
    }

    #[test]
    fn the_p99_multiple_is_given_only_against_a_floor_that_adds_something() {
        assert_eq!(p99_multiple(0.42, 0.21), "2.00");
        assert_eq!(p99_multiple(-0.1, 0.2), "0.00");
        assert_eq!(p99_multiple(1.17, -0.42), "– (floor adds ≈ 0; +1.17 ms)");
        assert_eq!(p99_multiple(0.3, 0.01), "– (floor adds ≈ 0; +0.30 ms)");
    }

    #[test]
    fn multiples_are_taken_round_by_round() {
        let row = |cpu_ms: f64, p99_ms: f64| Row {
            s: Sample {
                p99_ms,
                ..Sample::default()
            },
            cpu_ms,
        };
        // Three rounds; the machine was slower in the second (every figure doubled).
        let target = [row(0.09, 1.6), row(0.18, 3.4), row(0.10, 1.5)];
        let floor = [row(0.05, 1.2), row(0.10, 2.2), row(0.04, 1.02)];
        let direct = [row(0.0, 1.0), row(0.0, 2.0), row(0.0, 1.0)];
        let (cpu, p99) = per_round(&target, &floor, &direct);
        let near = |s: Spread, m: f64, l: f64, h: f64| {
            assert!((s.median - m).abs() < 1e-9, "median {}", s.median);
            assert!((s.low - l).abs() < 1e-9 && (s.high - h).abs() < 1e-9, "{s}");
        };
        near(cpu.unwrap(), 1.8, 1.8, 2.5);
        // The third round's floor adds 0.02 ms: not a multiple of anything, left out.
        near(p99.unwrap(), 5.0, 3.0, 7.0);
        // One round: the table of medians says it all.
        assert_eq!(
            per_round(&target[..1], &floor[..1], &direct[..1]),
            (None, None)
        );
        // No round where the floor adds a tail.
        let (_, p99) = per_round(&target[2..], &floor[2..], &direct[2..]);
        assert_eq!(p99, None);
        assert_eq!(Spread::of(vec![f64::NAN]), None);
        assert_eq!(
            Spread::of(vec![2.0, 1.0, f64::NAN, 3.0])
                .unwrap()
                .to_string(),
            "2.00 (1.00–3.00)"
        );
    }

    #[test]
    fn at_a_fixed_rate_the_connections_take_turns() {
        let begin = tokio::time::Instant::now();
        let ms = |n: u64| Duration::from_millis(n);
        let second = Schedule::new(begin, 1000.0, 4, 1);
        assert_eq!(second.due(0), begin + ms(1));
        assert_eq!(second.due(2), begin + ms(9));
        let fourth = Schedule::new(begin, 1000.0, 4, 3);
        assert_eq!(fourth.due(1), begin + ms(7));
        // All of them together: one request each millisecond.
        let mut due: Vec<_> = (0..4)
            .flat_map(|i| {
                let s = Schedule::new(begin, 1000.0, 4, i);
                (0..3).map(move |k| s.due(k))
            })
            .collect();
        due.sort();
        let expected: Vec<_> = (0..12).map(|n| begin + ms(n)).collect();
        assert_eq!(due, expected);
        // Late when the previous answer came after the turn, not when it came in time.
        assert!(!second.late(2, begin + ms(9)));
        assert!(second.late(2, begin + ms(9) + Duration::from_micros(1)));
    }

    /// The pacer gives every connection each of its turns, in order, none before it is due
    /// and none at or after the end; then the connections' queues close.
    #[test]
    fn the_pacer_gives_each_turn_on_time_and_stops_at_the_end() {
        let begin = tokio::time::Instant::now();
        let (rate, conns) = (2000.0, 4);
        let schedules: Vec<Schedule> = (0..conns)
            .map(|i| Schedule::new(begin, rate, conns, i))
            .collect();
        let until = begin.into_std() + Duration::from_millis(20);
        let (senders, mut receivers): (Vec<_>, Vec<_>) = (0..conns)
            .map(|_| tokio::sync::mpsc::unbounded_channel::<()>())
            .unzip();
        let at = std::thread::spawn({
            let schedules = schedules.clone();
            move || pace(&schedules, until, &senders)
        });
        // Each connection's turns read as they come, on a thread of its own.
        let readers: Vec<_> = receivers
            .drain(..)
            .map(|mut rx| {
                std::thread::spawn(move || {
                    let mut times = Vec::new();
                    while rx.blocking_recv().is_some() {
                        times.push(std::time::Instant::now());
                    }
                    times
                })
            })
            .collect();
        at.join().unwrap();
        let got: Vec<Vec<std::time::Instant>> =
            readers.into_iter().map(|r| r.join().unwrap()).collect();
        // 20 ms at 2,000 a second: 40 turns, 10 for each connection.
        for (i, times) in got.iter().enumerate() {
            assert_eq!(times.len(), 10, "connection {i}");
            for (k, t) in times.iter().enumerate() {
                assert!(
                    *t >= schedules[i].due(k as u32).into_std(),
                    "turn {k} of {i} early"
                );
            }
        }
        // No connection: nothing to pace, and no panic.
        pace(&[], until, &[]);
    }

    #[test]
    fn a_rate_is_a_finite_number_above_zero() {
        assert_eq!(positive_rate("10000"), Ok(10000.0));
        assert_eq!(positive_rate("0.5"), Ok(0.5));
        for bad in ["0", "-5", "NaN", "inf", "", "ten"] {
            assert!(positive_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pinning_gives_the_load_the_first_half_of_the_cores_and_the_proxies_the_rest() {
        assert_eq!(pin::split(vec![0, 1]), Ok((vec![0], vec![1])));
        assert_eq!(pin::split(vec![0, 1, 2]), Ok((vec![0], vec![1, 2])));
        assert_eq!(pin::split(vec![2, 3, 6, 7]), Ok((vec![2, 3], vec![6, 7])));
        assert!(pin::split(vec![0]).is_err());
        assert!(pin::split(Vec::new()).is_err());
    }
}
