//! Admin overview benchmark (issue 12; results in BENCHMARKS.md — not a timed test):
//! 100,000 accounts (a tenth with an active plan), 1,000,000 usage rows over the last 30
//! days spread over them (with their hourly rollups, as the meter's writer adds them) and
//! 3,000 paid orders, then the overview (`domain::admin::overview::overview`): the median
//! of 9 runs.
//!
//! ```sh
//! cargo run -p domain --example admin_bench -- 'sqlite:///tmp/admin-bench.db?mode=rwc'
//! cargo run -p domain --example admin_bench -- postgres://postgres@127.0.0.1/admin_bench
//! ```
//! Optional arguments: accounts (default 100,000) and usage rows (default 1,000,000).
use std::time::{Duration, Instant};

use domain::entities::{account, order};
use domain::payments::{Gateway, ItemKind, OrderStatus};
use domain::rollup;
use domain::usage::{insert_batch, UsageRecord};
use domain::{Services, Settings};
use sea_orm::{ActiveValue::Set, EntityTrait};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:///tmp/admin-bench.db?mode=rwc".into());
    let users: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rows: usize = args
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
    let now = domain::time::now();
    let start = now - 30 * 86_400;
    let plans = ["basic", "pro", "enterprise"];

    let t = Instant::now();
    let mut ids = Vec::with_capacity(users);
    let mut made = 0;
    while made < users {
        let m = (users - made).min(2_000);
        let batch: Vec<account::ActiveModel> = (made..made + m)
            .map(|i| account::ActiveModel {
                email: Set(format!("bench-{tag}-{i}@example.com")),
                // At most 16 characters (the column's size; SQLite does not check it):
                // a fresh database per run, so the index alone keeps phones unique.
                phone: Set(format!("+9659{i:07}")),
                password_hash: Set("x".into()),
                role: Set(domain::accounts::Role::User),
                plan: Set((i % 10 == 0).then(|| plans[i % 3].to_owned())),
                plan_expires_at: Set((i % 10 == 0).then_some(now + 86_400)),
                credits: Set((i % 1000) as i64),
                held: Set(0),
                lang: Set("ar".into()),
                created_at: Set(start + (i as i64 * 30 * 86_400) / users as i64),
                suspended_at: Set(None),
                ..Default::default()
            })
            .collect();
        let txn = domain::db::begin_write(&svc.db).await.expect("begin");
        account::Entity::insert_many(batch)
            .exec_without_returning(&txn)
            .await
            .expect("accounts");
        txn.commit().await.expect("commit");
        made += m;
    }
    // The ids just written (consecutive on both databases for one writer).
    let last =
        domain::accounts::find_by_email(&svc.db, &format!("bench-{tag}-{}@example.com", users - 1))
            .await
            .expect("last account")
            .id;
    ids.extend((last + 1 - users as i64)..=last);
    println!("database: {}", url.split('@').next_back().unwrap_or(&url));
    println!(
        "wrote {users} accounts in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let step = (30 * 86_400) as f64 / rows as f64;
    let mut written = 0;
    while written < rows {
        let m = (rows - written).min(10_000);
        let batch: Vec<UsageRecord> = (written..written + m)
            .map(|i| {
                let cloud = i % 7 == 0;
                UsageRecord {
                    request_id: format!("bench-{tag}-{i}"),
                    account_id: Some(ids[(i * 7919) % ids.len()]),
                    key_id: None,
                    endpoint: "chat.completions",
                    requested_model: if cloud {
                        "qwen3.5:cloud"
                    } else {
                        "llama3.2:3b"
                    }
                    .into(),
                    served_model: None,
                    provider: Some(if cloud { "cloud" } else { "local" }),
                    prompt_tokens: 50,
                    completion_tokens: 100,
                    credits: 1,
                    latency_ms: 200,
                    status: 200,
                    error: None,
                    created_at: start + (i as f64 * step) as i64,
                    member_id: None,
                    playground: false,
                }
            })
            .collect();
        let txn = domain::db::begin_write(&svc.db).await.expect("begin");
        let batch: Vec<&UsageRecord> = batch.iter().collect();
        rollup::add(&txn, &batch).await.expect("buckets");
        insert_batch(&txn, &batch).await.expect("rows");
        txn.commit().await.expect("commit");
        written += m;
    }
    println!(
        "wrote {rows} usage rows (and their buckets) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let paid: Vec<order::ActiveModel> = (0..3_000)
        .map(|i| {
            let plan = i % 4 != 0;
            let at = start + (i as i64 * 30 * 86_400) / 3_000;
            order::ActiveModel {
                account_id: Set(ids[(i * 31) % ids.len()]),
                kind: Set(if plan { ItemKind::Plan } else { ItemKind::Pack }),
                item: Set(if plan {
                    plans[i % 3].into()
                } else {
                    "pack-5k".into()
                }),
                amount_fils: Set(5_000 + (i % 3) as i64 * 10_000),
                currency: Set("KWD".into()),
                credits: Set(5_000),
                status: Set(OrderStatus::Paid),
                gateway: Set(Gateway::Test),
                lang: Set("ar".into()),
                created_at: Set(at),
                updated_at: Set(at),
                paid_at: Set(Some(at)),
                ..Default::default()
            }
        })
        .collect();
    for chunk in paid.chunks(500) {
        order::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&svc.db)
            .await
            .expect("orders");
    }

    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..9 {
        let t = Instant::now();
        last = Some(
            domain::admin::overview::overview(&svc.db, &svc.catalog, domain::time::now())
                .await
                .expect("overview"),
        );
        times.push(t.elapsed());
    }
    times.sort();
    let o = last.expect("ran");
    let median: Duration = times[4];
    println!(
        "overview: median {:.1} ms (min {:.1}, max {:.1}) — users {}, new this week {}, requests today {}, revenue this month {} fils",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[8].as_secs_f64() * 1e3,
        o.users_total,
        o.users_new_week,
        o.requests_today,
        o.revenue_month_fils,
    );
}
