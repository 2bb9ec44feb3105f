//! Usage data benchmark (issue 11; results in BENCHMARKS.md — not a timed test):
//! 1,000,000 usage rows for one account over the last 30 days (5 models, 3 keys, one row
//! in ten refused), then
//! - the month chart (`rollup::series` by Kuwait day) and the per-model summary
//!   (`rollup::by_model`), plus the usage table's count and first page: server time;
//! - the CSV export's reading and formatting (`usage_report::chunk_after` in chunks of
//!   2,000, `csv_line`), rows per second, and the process's resident memory before, during
//!   and after (flat memory: the rows are never all in memory).
//!
//! ```sh
//! cargo run --release -p domain --example usage_bench -- 'sqlite:///tmp/usage-bench.db?mode=rwc'
//! cargo run --release -p domain --example usage_bench -- postgres://postgres@127.0.0.1/usage_bench
//! ```
//! Optional second argument: the number of rows (default 1,000,000). The rows are written
//! straight into `api_usage` and `usage_hourly` in transactions of 10,000 (as the meter's
//! writer would, without the ledger).
use std::time::{Duration, Instant};

use domain::accounts::{self, NewAccount, OperatorChoices};
use domain::rollup::{self, Scope, Step};
use domain::usage::{insert_batch, UsageRecord};
use domain::usage_report::{self, Filter, StatusFilter};
use domain::{Services, Settings};

const MODELS: [&str; 5] = [
    "llama3.2:3b",
    "qwen2.5-coder:14b",
    "gpt-oss:20b",
    "qwen3.5:cloud",
    "mistral-small3.2:24b",
];

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The median of `runs` timings of `f`.
async fn median<F, Fut, T>(runs: usize, mut f: F) -> (Duration, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f().await);
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], last.expect("runs > 0"))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:///tmp/usage-bench.db?mode=rwc".into());
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let svc = Services::build(Settings {
        database_url: url.clone(),
        ..Settings::default()
    })
    .await
    .expect("connect and migrate");
    let tag = domain::keys::random_token(6).to_lowercase();
    let digits: u32 = rand::random_range(0..10_000_000);
    let account = accounts::create(
        &svc,
        NewAccount {
            email: &format!("bench-{tag}@example.com"),
            phone: &format!("+9655{digits:07}"),
            password: "password1",
            lang: "en",
        },
        OperatorChoices {
            plan: Some("enterprise".into()),
            credits: Some(1_000_000),
            ..Default::default()
        },
    )
    .await
    .expect("account");
    let mut keys = Vec::new();
    for label in ["ci", "prod", "لوحة"] {
        keys.push(
            domain::keys::create(&svc, &account, label)
                .await
                .expect("key")
                .0
                .id,
        );
    }

    let now = domain::time::now();
    let start = now - 30 * 86_400;
    let step = (30 * 86_400) as f64 / n as f64;
    let t = Instant::now();
    let mut written = 0;
    while written < n {
        let m = (n - written).min(10_000);
        let rows: Vec<UsageRecord> = (written..written + m)
            .map(|i| {
                let refused = i % 10 == 0;
                let model = MODELS[i % MODELS.len()];
                UsageRecord {
                    request_id: format!("bench-{tag}-{i}"),
                    account_id: Some(account.id),
                    key_id: Some(keys[i % keys.len()]),
                    endpoint: "chat.completions",
                    requested_model: model.into(),
                    served_model: (!refused).then(|| model.into()),
                    provider: (!refused).then_some(if model.ends_with(":cloud") {
                        "cloud"
                    } else {
                        "local"
                    }),
                    prompt_tokens: if refused { 0 } else { 40 + (i % 200) as i64 },
                    completion_tokens: if refused { 0 } else { 20 + (i % 300) as i64 },
                    credits: if refused { 0 } else { 1 + (i % 3) as i64 },
                    latency_ms: 100 + (i % 900) as i64,
                    status: if refused { 429 } else { 200 },
                    error: refused.then(|| "rate_limited".into()),
                    created_at: start + (i as f64 * step) as i64,
                    member_id: None,
                    playground: false,
                }
            })
            .collect();
        let txn = domain::db::begin_write(&svc.db).await.expect("begin");
        let rows: Vec<&UsageRecord> = rows.iter().collect();
        rollup::add(&txn, &rows).await.expect("buckets");
        insert_batch(&txn, &rows).await.expect("rows");
        txn.commit().await.expect("commit");
        written += m;
    }
    println!("database: {}", url.split('@').next_back().unwrap_or(&url));
    println!(
        "wrote {n} rows (and their buckets) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The month chart and the summary, as the dashboard and the usage page ask for them.
    let today = domain::time::kuwait_midnight(now);
    let month = Scope::account(account.id, today - 29 * 86_400, today + 86_400);
    let (chart, points) = median(9, || rollup::series(&svc.db, &month, Step::Day)).await;
    let points = points.expect("series");
    let (summary, models) = median(9, || rollup::by_model(&svc.db, &month)).await;
    let models = models.expect("summary");
    let filter = Filter {
        account_id: account.id,
        from: month.from,
        to: month.to,
        key_id: None,
        model: None,
        status: StatusFilter::All,
    };
    let (count_t, total) = median(9, || usage_report::count(&svc.db, &filter)).await;
    let (page_t, _) = median(9, || usage_report::page(&svc.db, &filter, 0, 50)).await;
    let (deep_t, _) = median(3, || usage_report::page(&svc.db, &filter, 500_000, 50)).await;
    println!(
        "month chart (series by day, {} points): {:.2} ms",
        points.len(),
        chart.as_secs_f64() * 1e3
    );
    println!(
        "summary per model ({} models): {:.2} ms; both: {:.2} ms",
        models.len(),
        summary.as_secs_f64() * 1e3,
        (chart + summary).as_secs_f64() * 1e3
    );
    println!(
        "table: count {:.2} ms ({} rows), first page {:.2} ms, page 10,001 {:.2} ms",
        count_t.as_secs_f64() * 1e3,
        total.expect("count"),
        page_t.as_secs_f64() * 1e3,
        deep_t.as_secs_f64() * 1e3
    );

    // The CSV export's reading and formatting, chunk by chunk.
    let labels: std::collections::HashMap<i64, String> =
        usage_report::key_labels(&svc.db, account.id)
            .await
            .expect("labels")
            .into_iter()
            .map(|(id, l, _)| (id, l))
            .collect();
    let rss_before = rss_kb();
    let mut rss_peak = rss_before;
    let t = Instant::now();
    let (mut rows, mut bytes, mut cursor) = (0usize, 0usize, None);
    let mut out = String::new();
    loop {
        let chunk = usage_report::chunk_after(&svc.db, &filter, cursor, 2000)
            .await
            .expect("chunk");
        let Some(last) = chunk.last() else { break };
        cursor = Some((last.created_at, last.id));
        out.clear();
        for r in &chunk {
            let label = r
                .key_id
                .and_then(|k| labels.get(&k))
                .map_or("", |l| l.as_str());
            usage_report::csv_line(&mut out, r, label);
        }
        rows += chunk.len();
        bytes += out.len();
        rss_peak = rss_peak.max(rss_kb());
        if chunk.len() < 2000 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "CSV: {rows} rows, {:.1} MB in {secs:.2} s = {:.0} rows/s; RSS {} MB before, {} MB at most during",
        bytes as f64 / 1e6,
        rows as f64 / secs,
        rss_before / 1024,
        rss_peak / 1024
    );
}
