//! The one-script admission on Redis (issue 16, item 5): a metered request's rate-limit
//! window and its place in flight are taken in one script, places are given back lazily
//! (carried by the next script or a batched ZREM), and the scripts are sent again by their
//! source after the server forgot them (`SCRIPT FLUSH`). Exactness across instances, and
//! no place left behind by refusals, errors or clients that leave.
use std::time::Duration;

use fake_ollama::ConfigPatch;
use serde_json::json;

use crate::helpers::{
    error_of, hello, shared_upstreams, spawn_app_with, stream, unique, Options, TestApp,
};

fn redis() -> redis::Client {
    redis::Client::open("redis://127.0.0.1:6379").unwrap()
}

async fn redis_cmd<T: redis::FromRedisValue>(cmd: &mut redis::Cmd) -> T {
    let mut conn = redis().get_multiplexed_async_connection().await.unwrap();
    cmd.query_async(&mut conn).await.unwrap()
}

/// The places taken in Redis for `app`'s local upstream (every instance of the prefix).
async fn places(app: &TestApp) -> u64 {
    let key = format!(
        "{}:inflight:{}",
        app.svc.settings.redis_prefix,
        app.svc.settings.ollama_url.trim_end_matches('/')
    );
    redis_cmd(redis::cmd("ZCARD").arg(key)).await
}

/// Waits (at most 3 s) until no place is taken: places are given back within a few
/// milliseconds of the request's end.
async fn no_place_left(app: &TestApp) {
    let until = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let n = places(app).await;
        if n == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "{n} places still taken in Redis"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The window count Redis holds for `account` now.
async fn window_count(app: &TestApp, account: i64) -> Option<u64> {
    let window = app.svc.clock.now() / 60;
    let key = format!("{}:rl:{account}:{window}", app.svc.settings.redis_prefix);
    redis_cmd(redis::cmd("GET").arg(key)).await
}

fn with_redis(prefix: &str) -> Options {
    Options {
        redis: true,
        redis_prefix: Some(prefix.to_owned()),
        ..Options::default()
    }
}

#[tokio::test]
async fn one_script_counts_the_window_takes_a_place_and_the_place_comes_back() {
    let app = spawn_app_with(with_redis(&unique("admit"))).await;
    let (a, key) = app.account(Some("basic"), 10_000).await;
    for n in 0..10 {
        let body = if n % 2 == 0 {
            hello("llama3.2:3b")
        } else {
            stream("llama3.2:3b", true)
        };
        let res = app.chat(&key, body).await;
        assert_eq!(res.status(), 200, "request {n}");
        assert_eq!(
            res.headers()["x-ratelimit-remaining-requests"],
            (9 - n).to_string().as_str()
        );
        let text = res.text().await.unwrap();
        assert!(n % 2 == 0 || text.ends_with("data: [DONE]\n\n"));
    }
    assert_eq!(window_count(&app, a.id).await, Some(10));
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["x-ratelimit-remaining-requests"], "0");
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_of(res).await["code"], "rate_limit_exceeded");
    // Known over the limit in this window: the next refusals do not ask Redis again.
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(window_count(&app, a.id).await, Some(11));
    no_place_left(&app).await;
    assert_eq!(app.local.stats().chat_requests, 10);
    app.settled().await;
    let rows = app.usage(a.id).await;
    assert_eq!(rows.len(), 12);
    assert_eq!(rows.iter().filter(|r| r.status == 429).count(), 2);
    assert!(rows
        .iter()
        .filter(|r| r.status == 429)
        .all(|r| r.credits == 0 && r.requested_model.is_empty()));
    assert_eq!(app.balance(a.id).await, app.ledger_sum(a.id).await);
}

#[tokio::test]
async fn a_request_over_its_limit_is_refused_for_its_rate_whatever_else_is_wrong() {
    let app = spawn_app_with(with_redis(&unique("admit"))).await;
    let (a, key) = app.account(Some("basic"), 10_000).await;
    // Refusals before the place is asked for count in the window like any request.
    let bad = [
        json!({"model": "llama3.2:3b"}),
        json!({"model": "no-such-model", "messages": []}),
        json!({"model": "llama3.2:3b", "max_tokens": 1_000_000,
               "messages": [{"role": "user", "content": "hi"}]}),
    ];
    for body in &bad {
        let res = app.chat(&key, body.clone()).await;
        assert!(res.status().is_client_error() && res.status() != 429);
        assert!(res.headers().contains_key("x-ratelimit-remaining-requests"));
    }
    assert_eq!(window_count(&app, a.id).await, Some(3));
    for _ in 3..10 {
        assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    }
    // Over the limit: 429 for a good body and for every bad one.
    for body in std::iter::once(hello("llama3.2:3b")).chain(bad) {
        let res = app.chat(&key, body).await;
        assert_eq!(res.status(), 429);
        assert_eq!(error_of(res).await["code"], "rate_limit_exceeded");
    }
    no_place_left(&app).await;
}

#[tokio::test]
async fn after_script_flush_the_scripts_are_sent_by_source_and_still_count_exactly() {
    let app = spawn_app_with(with_redis(&unique("noscript"))).await;
    let (a, key) = app.account(Some("basic"), 10_000).await;
    for _ in 0..3 {
        assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    }
    // The server forgets every script (as after a restart or a failover): EVALSHA gets
    // NOSCRIPT, and the gateway sends the source with EVAL.
    let _: () = redis_cmd(redis::cmd("SCRIPT").arg("FLUSH")).await;
    let mut ok = 3;
    for _ in 0..10 {
        let res = app.chat(&key, stream("llama3.2:3b", false)).await;
        if res.status() == 200 {
            assert!(res.text().await.unwrap().ends_with("data: [DONE]\n\n"));
            ok += 1;
        } else {
            assert_eq!(res.status(), 429);
        }
    }
    // Counted in Redis throughout (a fallback to this instance's own count would have
    // started again from zero and let 13 through).
    assert_eq!(ok, 10);
    assert_eq!(window_count(&app, a.id).await, Some(11));
    // The keyless per-IP window (its own script) works after the flush too.
    let _: () = redis_cmd(redis::cmd("SCRIPT").arg("FLUSH")).await;
    let res = app.chat("rsl_guessed", hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["x-ratelimit-remaining-requests"],
        (gateway::FAILED_KEYS_PER_MINUTE - 1).to_string().as_str()
    );
    no_place_left(&app).await;
}

#[tokio::test]
async fn two_instances_racing_admit_exactly_the_limit_and_never_more_places_than_there_are() {
    let upstreams = shared_upstreams().await;
    let local = upstreams.0.clone();
    let prefix = unique("race");
    let dir = tempfile::tempdir().unwrap();
    let db = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()));
    let clock = domain::Clock::manual();
    let app = |upstreams| {
        spawn_app_with(Options {
            redis: true,
            redis_prefix: Some(prefix.clone()),
            database_url: Some(db.clone()),
            shared_upstreams: Some(upstreams),
            clock: Some(clock.clone()),
            // Open requests are not the limit here; the rate (Basic: 10 a minute) and the
            // places (1 + 3) are. No cloud budget: past the places, requests wait.
            catalog: |c| {
                for p in &mut c.plans {
                    p.concurrent_requests = Some(1000);
                }
                c.gateway.cloud_daily_cap = 0;
            },
            ..Options::default()
        })
    };
    let one = app(upstreams.clone()).await;
    let two = app(upstreams).await;
    let (a, key) = one.account(Some("basic"), 100_000).await;
    local.update(ConfigPatch {
        token_delay_ms: Some(10),
        ..Default::default()
    });
    let mut tasks = Vec::new();
    for n in 0..40 {
        let app = if n % 2 == 0 { &one } else { &two };
        let body = if n % 3 == 0 {
            hello("llama3.2:3b")
        } else {
            stream("llama3.2:3b", true)
        };
        let request = app.chat_later(&key, body);
        tasks.push(tokio::spawn(async move {
            let res = request.await;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            (status, text)
        }));
    }
    let (mut ok, mut limited) = (0, 0);
    for t in tasks {
        let (status, text) = t.await.unwrap();
        match status {
            200 => ok += 1,
            429 => {
                assert!(text.contains("rate_limit_exceeded"), "{text}");
                limited += 1;
            }
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert_eq!((ok, limited), (10, 30));
    assert!(
        local.stats().max_in_flight <= 4,
        "{:?}",
        local.stats().max_in_flight
    );
    assert_eq!(local.stats().chat_requests, 10);
    // Each instance stops asking Redis once it has seen the account over its limit.
    let counted = window_count(&one, a.id).await.unwrap_or(0);
    assert!((11..=40).contains(&counted), "{counted}");
    no_place_left(&one).await;
    one.settled().await;
    two.settled().await;
    assert_eq!(one.balance(a.id).await, one.ledger_sum(a.id).await);
}

#[tokio::test]
async fn places_come_back_after_refusals_errors_and_clients_that_leave() {
    let app = spawn_app_with(Options {
        catalog: |c| {
            c.gateway.local_parallel = 1;
            c.gateway.queue_failover_depth = 0;
            c.gateway.cloud_daily_cap = 0;
        },
        ..with_redis(&unique("leak"))
    })
    .await;
    let (_, key) = app.account(Some("enterprise"), 100_000).await;
    let (_, poor) = app.account(Some("enterprise"), 0).await;
    // 402 after the place was taken with the window.
    for _ in 0..3 {
        assert_eq!(app.chat(&poor, hello("llama3.2:3b")).await.status(), 402);
    }
    no_place_left(&app).await;
    // An upstream that fails: 502, the place comes back.
    app.set_local(ConfigPatch {
        break_after: Some(1),
        ..Default::default()
    });
    let res = app.chat(&key, stream("llama3.2:3b", true)).await;
    let _ = res.text().await;
    app.set_local(ConfigPatch {
        break_after: Some(0),
        ..Default::default()
    });
    no_place_left(&app).await;
    // A client that leaves mid-stream, and one that leaves while waiting for the place.
    app.set_local(ConfigPatch {
        token_delay_ms: Some(50),
        ..Default::default()
    });
    let streaming = tokio::spawn(app.chat_later(&key, stream("llama3.2:3b", true)));
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while places(&app).await < 1 {
        assert!(std::time::Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let waiting = tokio::spawn(app.chat_later(&key, hello("llama3.2:3b")));
    tokio::time::sleep(Duration::from_millis(100)).await;
    waiting.abort();
    let res = streaming.await.unwrap();
    drop(res);
    no_place_left(&app).await;
    assert_eq!(app.gw.local_in_flight().await, 0);
    // And the place is usable again at once.
    app.set_local(ConfigPatch {
        token_delay_ms: Some(0),
        ..Default::default()
    });
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    no_place_left(&app).await;
}
