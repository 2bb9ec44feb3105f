//! What one row read by its key costs on SQLite, with `LIMIT ?` and without (results in
//! BENCHMARKS.md, "Session 21" — not a timed test).
//!
//! sea-orm's `.one()` adds `LIMIT 1` as a bound value. SQLite (3.47 and later) looks at a
//! bound LIMIT's value while planning, and so marks the prepared statement to be prepared
//! again whenever that value is bound anew — on every execution, since each execution
//! binds it. Built with `SQLITE_ENABLE_QPSG` (`.cargo/config.toml`) the planner does not
//! read bound values and the cached statement is reused. This reads 1,000 accounts by id,
//! over and over, with `.one()` and with `.all()` (the same query without the LIMIT):
//! the difference is the preparing.
//!
//! ```sh
//! cargo run --release -p domain --example one_row_bench -- 'sqlite:///tmp/one-row.db?mode=rwc'
//! ```
//! Optional second argument: reads per run (default 20,000).
use std::time::{Duration, Instant};

use domain::entities::account;
use domain::{Services, Settings};
use sea_orm::{ActiveValue::Set, EntityTrait};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:///tmp/one-row.db?mode=rwc".into());
    let reads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let svc = Services::build(Settings {
        database_url: url.clone(),
        ..Settings::default()
    })
    .await
    .expect("connect and migrate");
    let tag = domain::keys::random_token(6).to_lowercase();
    let now = domain::time::now();
    let accounts: Vec<account::ActiveModel> = (0..1_000)
        .map(|i| account::ActiveModel {
            email: Set(format!("one-row-{tag}-{i}@example.com")),
            phone: Set(format!("+9658{i:07}")),
            password_hash: Set("x".into()),
            role: Set(domain::accounts::Role::User),
            credits: Set(i),
            held: Set(0),
            lang: Set("en".into()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    account::Entity::insert_many(accounts)
        .exec_without_returning(&svc.db)
        .await
        .expect("accounts");
    let last = domain::accounts::find_by_email(&svc.db, &format!("one-row-{tag}-999@example.com"))
        .await
        .expect("last account")
        .id;
    let ids: Vec<i64> = (last - 999..=last).collect();

    let mut one = Vec::new();
    let mut all = Vec::new();
    for _ in 0..5 {
        one.push(time_reads(&svc.db, &ids, reads, true).await);
        all.push(time_reads(&svc.db, &ids, reads, false).await);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };
    println!(
        "{reads} reads by id, median of 5 runs: .one() (LIMIT ?) {:.1} µs, .all() (no LIMIT) {:.1} µs",
        median(&mut one),
        median(&mut all)
    );
}

/// The time of one read of an account by id, over `reads` reads: with `.one()` (its
/// `LIMIT ?`) or `.all()` (the same query without it).
async fn time_reads(
    db: &sea_orm::DatabaseConnection,
    ids: &[i64],
    reads: usize,
    with_limit: bool,
) -> Duration {
    let t = Instant::now();
    for i in 0..reads {
        let query = account::Entity::find_by_id(ids[i % ids.len()]);
        let found = if with_limit {
            query.one(db).await.expect("read").into_iter().count()
        } else {
            query.all(db).await.expect("read").len()
        };
        assert_eq!(found, 1);
    }
    t.elapsed() / reads as u32
}
