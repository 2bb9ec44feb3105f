//! The hourly buckets on SQLite and PostgreSQL (each_db): their totals equal the raw rows,
//! whatever wrote them (charges, refusals, several writers at once), and the backfill of
//! the migration does the same for rows written before.
use std::collections::BTreeMap;

use super::*;
use crate::meter::Meter;
use crate::testing::{each_db, enterprise_account};
use crate::usage::{for_account, UsageRecord};
use crate::Services;

/// Kuwait midnight of 2026-11-26 (21:00 UTC on the 25th).
const DAY: i64 = 1_795_640_400;

fn row(n: usize, account: i64, key: Option<i64>, at: i64) -> UsageRecord {
    let refused = n.is_multiple_of(7);
    UsageRecord {
        request_id: format!("r{n}"),
        account_id: Some(account),
        key_id: key,
        endpoint: "chat.completions",
        requested_model: ["llama3.2:3b", "qwen3.5:cloud", "gpt-oss:20b"][n % 3].into(),
        served_model: (!refused).then(|| ["llama3.2:3b", "qwen3.5:cloud"][n % 2].into()),
        provider: (!refused).then_some(if n.is_multiple_of(2) {
            "local"
        } else {
            "cloud"
        }),
        prompt_tokens: if refused { 0 } else { 10 + n as i64 % 13 },
        completion_tokens: if refused { 0 } else { 5 + n as i64 % 17 },
        credits: if refused { 0 } else { 1 + n as i64 % 3 },
        latency_ms: 20,
        status: if refused { 429 } else { 200 },
        error: refused.then(|| "rate_limited".into()),
        created_at: at,
        member_id: None,
        playground: false,
    }
}

/// The raw rows of `account` summed per bucket, as the buckets should hold them.
async fn raw(svc: &Services, account: i64) -> BTreeMap<(i64, i64, String, String), Totals> {
    let mut out: BTreeMap<_, Totals> = BTreeMap::new();
    for r in for_account(&svc.db, account).await.unwrap() {
        let key = (
            r.created_at / 3600 * 3600,
            r.key_id.unwrap_or(0),
            row_model(&r.requested_model, r.served_model.as_deref()),
            r.provider.clone().unwrap_or_default(),
        );
        out.entry(key).or_default().add(&Totals {
            requests: 1,
            errors: i64::from(r.status >= 400),
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            credits: r.credits,
        });
    }
    out
}

/// The buckets of `account`, every one of them.
async fn buckets(svc: &Services, account: i64) -> BTreeMap<(i64, i64, String, String), Totals> {
    let scope = Scope::account(account, 0, i64::MAX);
    let by = GroupBy {
        step: Some(Step::Hour),
        key: true,
        model: true,
        provider: true,
        ..GroupBy::default()
    };
    query(&svc.db, &scope, by)
        .await
        .unwrap()
        .into_iter()
        .map(|b| {
            (
                (
                    b.start.unwrap(),
                    b.key_id.unwrap(),
                    b.model.unwrap(),
                    b.provider.unwrap(),
                ),
                b.totals,
            )
        })
        .collect()
}

#[tokio::test]
async fn buckets_equal_the_rows_of_charges_and_refusals() {
    each_db(|svc| async move {
        let a = enterprise_account(&svc, 100_000).await;
        let (key, _) = crate::keys::create(&svc, &a, "k").await.unwrap();
        let meter = Meter::start(svc.db.clone(), 20);
        for n in 0..300 {
            let at = DAY - 7200 + n as i64 * 97;
            let r = row(n, a.id, Some(key.id), at);
            if r.status == 200 {
                let res = meter.reserve(key.id, a.id, 5, &r.request_id).await.unwrap();
                let cost = r.credits;
                meter.settle(res, cost, r);
            } else {
                meter.record(r);
            }
        }
        meter.flush().await;
        let raw = raw(&svc, a.id).await;
        assert_eq!(raw.values().map(|t| t.requests).sum::<i64>(), 300);
        assert_eq!(buckets(&svc, a.id).await, raw);

        // The common shapes agree with the rows too.
        let scope = Scope::account(a.id, 0, i64::MAX);
        let all = totals(&svc.db, &scope).await.unwrap();
        let mut want = Totals::default();
        raw.values().for_each(|t| want.add(t));
        assert_eq!(all, want);
        assert_eq!(
            all.errors,
            (0..300usize).filter(|n| n.is_multiple_of(7)).count() as i64
        );
        let models = by_model(&svc.db, &scope).await.unwrap();
        assert_eq!(
            models.iter().map(|b| b.totals.credits).sum::<i64>(),
            want.credits
        );
        assert!(models
            .iter()
            .any(|b| b.model.as_deref() == Some("gpt-oss:20b")));
        let keys = by_key(&svc.db, &scope).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key_id, Some(key.id));
        assert_eq!(keys[0].totals, want);
        // Charged credits are what the balance lost.
        let left = crate::accounts::find(&svc.db, a.id).await.unwrap().credits;
        assert_eq!(want.credits, 100_000 - left);
        meter.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_add_up_exactly() {
    each_db(|svc| async move {
        let a = enterprise_account(&svc, 10).await;
        // Two instances' writers, and rows of the same buckets queued on both at once.
        let meters = [
            Meter::start(svc.db.clone(), 20),
            Meter::start(svc.db.clone(), 20),
        ];
        let tasks: Vec<_> = (0..4)
            .map(|t| {
                let m = meters[t % 2].clone();
                let id = a.id;
                tokio::spawn(async move {
                    for n in 0..400 {
                        let at = DAY + (n % 5) as i64 * 1800;
                        m.record(row(t * 1000 + n, id, Some(n as i64 % 2), at));
                        if n.is_multiple_of(50) {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        for m in &meters {
            m.flush().await;
            assert_eq!(m.failures(), 0);
        }
        let raw = raw(&svc, a.id).await;
        assert_eq!(raw.values().map(|t| t.requests).sum::<i64>(), 1600);
        assert_eq!(buckets(&svc, a.id).await, raw);
    })
    .await;
}

#[tokio::test]
async fn days_turn_at_kuwait_midnight_and_hours_stay_hours() {
    each_db(|svc| async move {
        let a = enterprise_account(&svc, 10).await;
        let meter = Meter::start(svc.db.clone(), 20);
        // 23:59:59 in Kuwait, then midnight, then 00:30.
        for (n, at) in [DAY - 1, DAY, DAY + 1800].into_iter().enumerate() {
            let mut r = row(1 + n * 2, a.id, None, at);
            r.served_model = Some("llama3.2:3b".into());
            meter.record(r);
        }
        meter.flush().await;
        let scope = Scope::account(a.id, DAY - 86_400, DAY + 86_400);
        let days = series(&svc.db, &scope, Step::Day).await.unwrap();
        let starts: Vec<(i64, i64)> = days
            .iter()
            .map(|b| (b.start.unwrap(), b.totals.requests))
            .collect();
        assert_eq!(starts, vec![(DAY - 86_400, 1), (DAY, 2)]);
        let hours = series(&svc.db, &scope, Step::Hour).await.unwrap();
        let starts: Vec<(i64, i64)> = hours
            .iter()
            .map(|b| (b.start.unwrap(), b.totals.requests))
            .collect();
        assert_eq!(starts, vec![(DAY - 3600, 1), (DAY, 2)]);
        // A range bound is exclusive at its end.
        let before = Scope::account(a.id, DAY - 86_400, DAY);
        assert_eq!(totals(&svc.db, &before).await.unwrap().requests, 1);
        // The platform's days include this account's, by provider.
        let platform = platform_by_day(&svc.db, DAY, DAY + 86_400).await.unwrap();
        assert!(platform
            .iter()
            .any(|b| b.start == Some(DAY) && b.totals.requests >= 2));
        // An empty range is no rows, and zero totals.
        let empty = Scope::account(a.id, 0, 3600);
        assert!(series(&svc.db, &empty, Step::Day).await.unwrap().is_empty());
        assert_eq!(totals(&svc.db, &empty).await.unwrap(), Totals::default());
    })
    .await;
}

/// The migration's backfill (SQLite; the statement is the same SQL on PostgreSQL, where
/// every test database is migrated through it on an empty table).
#[tokio::test]
async fn the_migration_backfills_rows_written_before() {
    use migrations::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bf.db?mode=rwc", dir.path().display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let before = migrations::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261129_000100_usage_hourly")
        .unwrap();
    migrations::Migrator::up(&db, Some(before as u32))
        .await
        .unwrap();
    let rows: Vec<UsageRecord> = (0..500)
        .map(|n| {
            let mut r = row(n, 1 + n as i64 % 2, Some(n as i64 % 3), DAY + n as i64 * 61);
            if n.is_multiple_of(11) {
                r.account_id = None;
            }
            r
        })
        .collect();
    // Written as the schema of that time holds them: without the later columns
    // (`playground` and `member_id` came with later migrations).
    let columns: [&str; 14] = std::array::from_fn(|i| UsageRecord::columns()[i]);
    let old_rows = rows.iter().map(|r| {
        let values = r.values();
        std::array::from_fn(|i| values[i].clone())
    });
    crate::db::insert_rows(&db, "api_usage", columns, old_rows)
        .await
        .unwrap();
    migrations::Migrator::up(&db, None).await.unwrap();
    for account in [1, 2] {
        let mine: Vec<&UsageRecord> = rows
            .iter()
            .filter(|r| r.account_id == Some(account))
            .collect();
        let t = totals(&db, &Scope::account(account, 0, i64::MAX))
            .await
            .unwrap();
        assert_eq!(t.requests, mine.len() as i64);
        assert_eq!(t.credits, mine.iter().map(|r| r.credits).sum::<i64>());
        assert_eq!(
            t.errors,
            mine.iter().filter(|r| r.status >= 400).count() as i64
        );
        assert_eq!(
            t.prompt_tokens,
            mine.iter().map(|r| r.prompt_tokens).sum::<i64>()
        );
    }
}

#[test]
fn a_row_counts_under_its_served_model_clipped_as_the_row_stores_it() {
    assert_eq!(row_model("asked", None), "asked");
    assert_eq!(row_model("asked", Some("served")), "served");
    let exact = "m".repeat(128);
    assert_eq!(row_model(&exact, None), exact);
    // By characters, not bytes: 200 two-byte letters keep 128 letters (256 bytes).
    let arabic = "ن".repeat(200);
    assert_eq!(row_model(&arabic, None), "ن".repeat(128));
    assert_eq!(row_model(&"x".repeat(300), None).len(), 128);
}
