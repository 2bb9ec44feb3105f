//! The meter on SQLite and PostgreSQL (each_db).
use super::*;
use crate::entities::{account, credit_hold};
use crate::testing::{each_db, enterprise_account};
use crate::Services;
use crate::{ledger, time};
use sea_orm::sea_query::Expr;
use sea_orm::PaginatorTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// An Enterprise account with `credits` and one API key: (account id, key id).
async fn account_with(svc: &Services, credits: i64) -> (i64, i64) {
    let a = enterprise_account(svc, credits).await;
    let (key, _) = crate::keys::create(svc, &a, "k").await.unwrap();
    (a.id, key.id)
}

/// (balance, sum of the ledger, held).
async fn books(svc: &Services, id: i64) -> (i64, i64, i64) {
    let a = account::Entity::find_by_id(id)
        .one(&svc.db)
        .await
        .unwrap()
        .unwrap();
    (a.credits, ledger::sum(&svc.db, id).await.unwrap(), a.held)
}

fn usage(n: usize) -> UsageRecord {
    UsageRecord {
        request_id: format!("req-{n}"),
        endpoint: "chat.completions",
        status: 200,
        created_at: time::now(),
        ..Default::default()
    }
}

/// Reserves `amount` on `meter` from `tasks` concurrent tasks, settling each success
/// to `cost`; how many succeeded.
async fn race(meter: &Meter, key: i64, id: i64, tasks: usize, amount: i64, cost: i64) -> i64 {
    let handles: Vec<_> = (0..tasks)
        .map(|n| {
            let meter = meter.clone();
            tokio::spawn(async move {
                match meter.reserve(key, id, amount, &format!("req-{n}")).await {
                    Ok(r) => {
                        meter.settle(r, cost, usage(n));
                        1
                    }
                    Err(Error::InsufficientCredits) => 0,
                    Err(e) => panic!("{e}"),
                }
            })
        })
        .collect();
    let mut ok = 0;
    for h in handles {
        ok += h.await.unwrap();
    }
    ok
}

#[tokio::test]
async fn two_hundred_concurrent_requests_on_ten_credits_never_go_below_zero() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 10).await;
        let meter = Meter::start(svc.db.clone(), 20);
        assert_eq!(race(&meter, key, id, 200, 1, 1).await, 10);
        meter.shutdown().await;
        assert_eq!(books(&svc, id).await, (0, 0, 0));
    })
    .await;
}

#[tokio::test]
async fn a_large_balance_is_served_from_a_hold_and_every_charge_is_a_ledger_row() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 100_000).await;
        let meter = Meter::start(svc.db.clone(), 20);
        let r = meter.reserve(key, id, 5, "first").await.unwrap();
        assert!(r.from_hold());
        // Holding moves no credits: the balance and the ledger are untouched.
        let (balance, _, held) = books(&svc, id).await;
        assert_eq!(balance, 100_000);
        assert!(held >= 5, "{held}");
        meter.settle(r, 3, usage(0));
        assert_eq!(race(&meter, key, id, 300, 4, 2).await, 300);
        meter.flush().await;
        let charged = 3 + 300 * 2;
        let (balance, sum, held) = books(&svc, id).await;
        assert_eq!((balance, sum), (100_000 - charged, 100_000 - charged));
        assert!(held > 0, "the hold stays for the next requests");
        // One usage-kind ledger row per request, each with its cost as reference.
        let rows = crate::entities::ledger::Entity::find()
            .filter(crate::entities::ledger::Column::AccountId.eq(id))
            .filter(crate::entities::ledger::Column::Kind.eq("usage"))
            .all(&svc.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 301);
        assert!(rows
            .iter()
            .any(|r| r.delta == -3 && r.reference.as_deref() == Some("first")));
        // Every column as written by the batch: served from the hold, a running balance
        // from row to row ending at the account's balance.
        let mut rows = rows;
        rows.sort_by_key(|r| r.id);
        assert!(rows.iter().all(|r| r.reason.as_deref() == Some("charge")));
        assert!(rows
            .iter()
            .all(|r| r.created_at > 0 && r.reference.is_some()));
        for pair in rows.windows(2) {
            assert_eq!(pair[1].balance_after, pair[0].balance_after + pair[1].delta);
        }
        assert_eq!(rows.last().unwrap().balance_after, balance);
        meter.shutdown().await;
        assert_eq!(books(&svc, id).await.2, 0, "shutdown gives the hold back");
        let n = credit_hold::Entity::find()
            .filter(credit_hold::Column::AccountId.eq(id))
            .count(&svc.db)
            .await
            .unwrap();
        assert_eq!(n, 0);
    })
    .await;
}

#[tokio::test]
async fn two_instances_never_spend_more_than_the_balance_between_them() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 1_500).await;
        let a = Meter::start(svc.db.clone(), 20);
        let b = Meter::start(svc.db.clone(), 20);
        let (x, y) = tokio::join!(
            race(&a, key, id, 1_000, 1, 1),
            race(&b, key, id, 1_000, 1, 1)
        );
        assert!(x + y <= 1_500);
        a.shutdown().await;
        b.shutdown().await;
        // What one instance held while the other ran dry is usable once given back.
        let c = Meter::start(svc.db.clone(), 20);
        let z = race(&c, key, id, 1_600 - (x + y) as usize, 1, 1).await;
        c.shutdown().await;
        assert_eq!(x + y + z, 1_500, "every credit is usable, none twice");
        assert_eq!(books(&svc, id).await, (0, 0, 0));
    })
    .await;
}

#[tokio::test]
async fn instances_growing_holds_while_their_writers_charge_meet_no_deadlock() {
    // Holds grow (hold row, then account row) while the writers charge (hold rows,
    // then account rows): one lock order, so PostgreSQL never reports a deadlock (a
    // failure would still be retried or fall back to the direct path: counted here).
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 10_000_000).await;
        let meters: Vec<Meter> = (0..3).map(|_| Meter::start(svc.db.clone(), 20)).collect();
        let mut total = 0;
        for round in 0..4 {
            let runs = meters.iter().map(|m| race(m, key, id, 400, 40 + round, 30));
            total += futures::future::join_all(runs).await.iter().sum::<i64>();
        }
        for m in &meters {
            m.shutdown().await;
            assert_eq!(m.failures(), 0, "database errors on the way");
        }
        assert_eq!(total, 3 * 4 * 400);
        let charged = total * 30;
        assert_eq!(
            books(&svc, id).await,
            (10_000_000 - charged, 10_000_000 - charged, 0)
        );
    })
    .await;
}

#[tokio::test]
async fn settlement_refunds_the_direct_path_and_charges_long_answers_within_the_balance() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 10).await;
        let meter = Meter::start(svc.db.clone(), 20);
        let r = meter.reserve(key, id, 4, "a").await.unwrap();
        assert!(!r.from_hold());
        assert_eq!(books(&svc, id).await.0, 6, "the direct path debits at once");
        meter.settle(r, 1, usage(1));
        meter.flush().await;
        assert_eq!(books(&svc, id).await, (9, 9, 0));
        let r = meter.reserve(key, id, 2, "b").await.unwrap();
        meter.settle(r, 0, usage(2));
        let r = meter.reserve(key, id, 2, "c").await.unwrap();
        meter.settle(r, 50, usage(3));
        meter.flush().await;
        assert_eq!(books(&svc, id).await, (0, 0, 0), "never below zero");
        let rows = crate::usage::for_account(&svc.db, id).await.unwrap();
        assert!(rows.is_empty(), "these usage rows name no account");
        assert!(matches!(
            meter.reserve(key, id, 1, "d").await,
            Err(Error::InsufficientCredits)
        ));
    })
    .await;
}

#[tokio::test]
async fn the_charged_credits_go_into_the_usage_row() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 10).await;
        let meter = Meter::start(svc.db.clone(), 20);
        let r = meter.reserve(key, id, 4, "a").await.unwrap();
        let mut row = usage(1);
        row.account_id = Some(id);
        meter.settle(r, 3, row);
        meter.flush().await;
        let rows = crate::usage::for_account(&svc.db, id).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].credits, 3);
    })
    .await;
}

#[tokio::test]
async fn a_hold_left_by_a_crashed_instance_expires_and_frees_its_credits() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 100_000).await;
        let crashed = Meter::start(svc.db.clone(), 20);
        let r = crashed.reserve(key, id, 1, "a").await.unwrap();
        assert!(r.from_hold());
        let held = books(&svc, id).await.2;
        assert!(held > 0);
        // The instance stops renewing; its hold's expiry passes.
        credit_hold::Entity::update_many()
            .col_expr(credit_hold::Column::ExpiresAt, Expr::value(time::now() - 1))
            .filter(credit_hold::Column::AccountId.eq(id))
            .exec(&svc.db)
            .await
            .unwrap();
        assert!(sweep(&svc.db).await.unwrap() >= 1);
        assert_eq!(books(&svc, id).await, (100_000, 100_000, 0));
        // Its late charge still lands on the balance, and not on `held`.
        crashed.settle(r, 1, usage(1));
        crashed.flush().await;
        assert_eq!(books(&svc, id).await, (99_999, 99_999, 0));
    })
    .await;
}

#[test]
fn the_writer_takes_what_is_queued_up_to_a_batch_and_stops_at_a_flush() {
    let (tx, mut rx) = mpsc::channel(CAPACITY);
    let (mut batch, mut waiters) = (Vec::new(), Vec::new());
    // Nothing queued: nothing taken, the queue still open.
    assert!(writer::drain(&mut rx, &mut batch, &mut waiters));
    assert!(batch.is_empty());
    // More than a batch queued: one batch taken, the rest left for the next.
    for n in 0..BATCH + 3 {
        tx.try_send(Msg::Row(Box::new(usage(n)))).unwrap();
    }
    assert!(writer::drain(&mut rx, &mut batch, &mut waiters));
    assert_eq!((batch.len(), waiters.len()), (BATCH, 0));
    batch.clear();
    // A flush ends the take: what came after it waits for the next batch.
    let (done, _wait) = oneshot::channel();
    tx.try_send(Msg::Flush(done)).unwrap();
    tx.try_send(Msg::Release(7)).unwrap();
    assert!(writer::drain(&mut rx, &mut batch, &mut waiters));
    assert_eq!((batch.len(), waiters.len()), (3, 1));
    // Closed: what is left is taken, then the writer is told.
    drop(tx);
    batch.clear();
    waiters.clear();
    assert!(!writer::drain(&mut rx, &mut batch, &mut waiters));
    assert!(matches!(batch.as_slice(), [Msg::Release(7)]));
}

/// (thread name, nice value) of each of this process's threads.
fn threads() -> Vec<(String, i32)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue; // ended meanwhile
        };
        // After the name in parentheses: state is field 3, nice field 19.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let nice: i32 = after.split(' ').nth(16).unwrap().parse().unwrap();
        out.push((comm.trim().to_owned(), nice));
    }
    out
}

#[tokio::test]
async fn the_writer_and_its_database_thread_run_below_the_requests_priority() {
    each_db(|svc| async move {
        let (id, key) = account_with(&svc, 100_000).await;
        let meter = Meter::start(svc.db.clone(), 20);
        let r = meter.reserve(key, id, 5, "req-0").await.unwrap();
        meter.settle(r, 5, usage(0));
        meter.flush().await;
        let ours = rustix::process::getpriority_process(None).unwrap();
        let lowered = (ours + writer::WRITER_NICER).min(19);
        // Tests beside this one start writers too, and a writer's thread has its name a
        // moment before it lowers its priority: look again a few times before failing.
        let mut all = threads();
        for _ in 0..50 {
            let settled = all
                .iter()
                .filter(|(n, _)| n.starts_with(writer::WRITER_THREAD))
                .all(|(_, nice)| *nice == lowered);
            if settled {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            all = threads();
        }
        let at = |name: &str| -> Vec<i32> {
            all.iter()
                .filter(|(n, _)| n == name)
                .map(|(_, nice)| *nice)
                .collect()
        };
        let writers = at(writer::WRITER_THREAD);
        assert!(!writers.is_empty(), "no writer thread in {all:?}");
        assert!(writers.iter().all(|nice| *nice == lowered), "{all:?}");
        // The requests' threads (this test's) keep theirs.
        assert!(all
            .iter()
            .any(|(n, nice)| !n.starts_with("usage-") && *nice == ours));
        if svc.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // SQLite runs each connection on a thread of its own: the writer's inherits.
            let db_threads = at(writer::WRITER_DB_THREAD);
            assert!(
                !db_threads.is_empty(),
                "no writer's SQLite thread in {all:?}"
            );
            assert!(db_threads.iter().all(|nice| *nice == lowered), "{all:?}");
        }
        meter.shutdown().await;
        assert_eq!(books(&svc, id).await, (100_000 - 5, 100_000 - 5, 0));
    })
    .await;
}
