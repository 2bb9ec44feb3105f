use std::time::{Duration, Instant};

use fake_ollama::ConfigPatch;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{
    error_of, events, hello, shared_upstreams, spawn_app, spawn_app_with, stream, unique, Options,
};

#[tokio::test]
async fn a_busy_upstream_without_cloud_is_a_503_with_retry_after_and_costs_nothing() {
    let app = spawn_app_with(Options {
        cloud: false,
        ..Options::default()
    })
    .await;
    let (a, key) = app.account(Some("basic"), 100).await;
    app.set_local(ConfigPatch {
        busy: Some(true),
        ..Default::default()
    });
    for body in [hello("llama3.2:3b"), stream("llama3.2:3b", true)] {
        let res = app.chat(&key, body).await;
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(error_of(res).await["code"], "overloaded");
    }
    two_refusals_charged_nothing(&app, a.id, 503).await;
}

#[tokio::test]
async fn a_local_upstream_that_is_down_is_a_clear_503() {
    let app = spawn_app_with(Options {
        cloud: false,
        local_down: true,
        ..Options::default()
    })
    .await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 503);
    let e = error_of(res).await;
    assert_eq!(e["code"], "upstream_unavailable");
    assert!(e["message"].as_str().unwrap().contains("not reachable"));
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 100);
}

/// A hung local Ollama (accepts, never answers) with a 1 s head timeout and room for one
/// local request: waiting for a place would take the wait queue's 20 s.
fn hung_local(cloud: bool) -> Options {
    Options {
        cloud,
        local_silent: true,
        settings: |s| s.ollama_head_timeout_secs = 1,
        catalog: |c| {
            c.gateway.local_parallel = 1;
            c.gateway.queue_failover_depth = 0;
            c.gateway.wait_timeout_ms = 20_000;
        },
        ..Options::default()
    }
}

#[tokio::test]
async fn a_local_upstream_that_never_answers_is_a_503_within_the_timeout_and_frees_its_place() {
    let app = spawn_app_with(hung_local(false)).await;
    let (a, key) = app.account(Some("basic"), 100).await;
    for body in [hello("llama3.2:3b"), stream("llama3.2:3b", true)] {
        let started = Instant::now();
        let res = app.chat(&key, body).await;
        // The second request would wait 20 s for the place if the first still held it.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(error_of(res).await["code"], "upstream_unavailable");
    }
    assert_eq!(app.gw.local_in_flight().await, 0);
    two_refusals_charged_nothing(&app, a.id, 503).await;
}

#[tokio::test]
async fn a_local_upstream_that_never_answers_fails_over_to_the_cloud_fallback() {
    let app = spawn_app_with(hung_local(true)).await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.cloud.stats().chat_requests, 1);
    app.settled().await;
    let row = &app.usage(a.id).await[0];
    assert_eq!(row.provider.as_deref(), Some("cloud"));
    assert_eq!(row.served_model.as_deref(), Some("qwen3.5:cloud"));
}

#[tokio::test]
async fn a_busy_local_upstream_fails_over_to_the_cloud_fallback_at_the_local_rate() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    app.set_local(ConfigPatch {
        busy: Some(true),
        ..Default::default()
    });
    app.cloud.update(ConfigPatch {
        default_tokens: Some(2_000),
        ..Default::default()
    });
    let mut body = hello("llama3.2:3b");
    body["max_tokens"] = json!(990); // 3 + 990 tokens: 1 credit locally, 2 on the cloud rate
    let res = app.chat(&key, body).await;
    assert_eq!(res.status(), 200);
    let cloud = app.cloud.stats();
    assert_eq!(cloud.last_model.as_deref(), Some("qwen3.5"));
    assert_eq!(
        cloud.last_authorization.as_deref(),
        Some("Bearer cloud-secret")
    );
    app.settled().await;
    let row = &app.usage(a.id).await[0];
    assert_eq!(row.requested_model, "llama3.2:3b");
    assert_eq!(row.served_model.as_deref(), Some("qwen3.5:cloud"));
    assert_eq!(row.provider.as_deref(), Some("cloud"));
    assert_eq!(row.credits, 1);
    assert_eq!(app.balance(a.id).await, 99);
}

#[tokio::test]
async fn a_local_queue_deeper_than_three_sends_the_rest_to_the_cloud() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("enterprise"), 1000).await;
    app.set_local(ConfigPatch {
        token_delay_ms: Some(20),
        ..Default::default()
    });
    app.cloud.update(ConfigPatch {
        token_delay_ms: Some(20),
        ..Default::default()
    });
    let mut tasks = Vec::new();
    for _ in 0..7 {
        let request = app.chat_later(&key, stream("llama3.2:3b", true));
        tasks.push(tokio::spawn(async move {
            let res = request.await;
            let status = res.status().as_u16();
            (
                status,
                res.text().await.unwrap().ends_with("data: [DONE]\n\n"),
            )
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), (200, true));
    }
    // 1 running + 3 queued locally; the other three went to the cloud.
    assert_eq!(app.local.stats().max_in_flight, 4);
    assert_eq!(app.local.stats().chat_requests, 4);
    assert_eq!(app.cloud.stats().chat_requests, 3);
    app.settled().await;
    let rows = app.usage(a.id).await;
    let cloud = rows
        .iter()
        .filter(|r| r.provider.as_deref() == Some("cloud"))
        .count();
    assert_eq!(cloud, 3);
    assert_eq!(app.gw.cloud_used_today().await, 3);
    // A restart on the same database starts from today's count (the hourly rollups).
    let restarted = gateway::Gateway::new(app.svc.clone()).await.unwrap();
    assert_eq!(restarted.cloud_used_today().await, 3);
}

#[tokio::test]
async fn at_the_daily_cloud_cap_cloud_models_answer_503_until_midnight() {
    let app = spawn_app_with(Options {
        catalog: |c| c.gateway.cloud_daily_cap = 2,
        ..Options::default()
    })
    .await;
    let (_, key) = app.account(Some("pro"), 100).await;
    for _ in 0..2 {
        assert_eq!(app.chat(&key, hello("qwen3.5:cloud")).await.status(), 200);
    }
    let res = app.chat(&key, hello("deepseek-v3.2:cloud")).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["x-should-retry"], "false");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry <= 86_400);
    let e = error_of(res).await;
    assert_eq!(e["code"], "cloud_budget_exhausted");
    assert!(e["message"].as_str().unwrap().contains("midnight"));
    assert_eq!(app.cloud.stats().chat_requests, 2);
    app.settled().await;
    let kinds: Vec<String> = domain::events::since(&app.svc.db, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"cloud_budget_warning".to_string()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"cloud_budget_exhausted".to_string()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn without_cloud_a_full_local_queue_waits_then_answers_503_with_retry_after() {
    let app = spawn_app_with(Options {
        cloud: false,
        catalog: |c| {
            c.gateway.queue_failover_depth = 0;
            c.gateway.wait_queue_max = 1;
            c.gateway.wait_timeout_ms = 300;
        },
        ..Options::default()
    })
    .await;
    let (_, key) = app.account(Some("enterprise"), 1000).await;
    app.set_local(ConfigPatch {
        token_delay_ms: Some(60),
        ..Default::default()
    });
    let slow = {
        let request = app.chat_later(&key, hello("llama3.2:3b"));
        tokio::spawn(async move { request.await.status() })
    };
    while app.local.stats().in_flight == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let waiting = tokio::spawn(app.chat_later(&key, hello("llama3.2:3b")));
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The queue (of one) is taken: refused at once.
    let full = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(full.status(), 503);
    assert!(full.headers().contains_key("retry-after"));
    // The waiter gives up after the wait limit.
    let waited = waiting.await.unwrap();
    assert_eq!(waited.status(), 503);
    assert!(waited.headers().contains_key("retry-after"));
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(app.local.stats().chat_requests, 1);
}

#[tokio::test]
async fn a_stream_that_breaks_mid_way_ends_with_an_error_event_and_charges_what_was_generated() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    for with_error_line in [false, true] {
        app.set_local(ConfigPatch {
            break_after: Some(5),
            break_with_error: Some(with_error_line),
            ..Default::default()
        });
        let res = app.chat(&key, stream("llama3.2:3b", true)).await;
        assert_eq!(res.status(), 200);
        let ev = events(&res.text().await.unwrap());
        assert_eq!(ev.len(), 6, "{ev:?}");
        let last: Value = serde_json::from_str(ev.last().unwrap()).unwrap();
        assert_eq!(last["error"]["code"], "upstream_stream_broken");
        assert!(!ev.iter().any(|e| e == "[DONE]"));
    }
    app.settled().await;
    let rows = app.usage(a.id).await;
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row.status, 502);
        assert_eq!(row.error.as_deref(), Some("upstream_stream_broken"));
        assert_eq!(row.completion_tokens, 5);
        assert_eq!(row.credits, 1);
    }
    assert_eq!(app.balance(a.id).await, 98);
    assert_eq!(app.ledger_sum(a.id).await, 98);
}

#[tokio::test]
async fn a_stream_that_fails_before_any_output_is_an_error_status_and_costs_nothing() {
    let app = spawn_app_with(Options {
        cloud: false,
        ..Options::default()
    })
    .await;
    let (a, key) = app.account(Some("basic"), 100).await;
    for with_error_line in [false, true] {
        app.set_local(ConfigPatch {
            break_at_start: Some(true),
            break_with_error: Some(with_error_line),
            ..Default::default()
        });
        // The first event decides: the response is not committed to 200 before it.
        let res = app.chat(&key, stream("llama3.2:3b", true)).await;
        assert_eq!(res.status(), 502);
        assert_eq!(error_of(res).await["code"], "upstream_error");
    }
    two_refusals_charged_nothing(&app, a.id, 502).await;
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_pays_for_what_was_generated() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    app.set_local(ConfigPatch {
        token_delay_ms: Some(30),
        ..Default::default()
    });
    let res = app.chat(&key, stream("llama3.2:3b", true)).await;
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let mut seen = 0;
    while seen < 3 {
        let chunk = body.next().await.unwrap().unwrap();
        seen += chunk.windows(6).filter(|w| w == b"data: ").count();
    }
    drop(body);
    // The upstream stops generating when the gateway lets go of it.
    let started = std::time::Instant::now();
    while app.local.stats().in_flight > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "upstream still generating"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.settled().await;
    let row = &app.usage(a.id).await[0];
    assert_eq!(row.status, 499);
    assert_eq!(row.error.as_deref(), Some("client_closed"));
    assert!(
        row.completion_tokens >= 3 && row.completion_tokens < 20,
        "{}",
        row.completion_tokens
    );
    assert_eq!(row.credits, 1);
    assert_eq!(app.balance(a.id).await, 99);
}

#[tokio::test]
async fn two_instances_sharing_redis_share_the_local_queue_and_the_cloud_cap() {
    let upstreams = shared_upstreams().await;
    let (local, cloud) = (upstreams.0.clone(), upstreams.2.clone());
    let prefix = unique("shared");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let app = |upstreams| {
        spawn_app_with(Options {
            redis: true,
            redis_prefix: Some(prefix.clone()),
            database_url: Some(db.clone()),
            shared_upstreams: Some(upstreams),
            catalog: |c| c.gateway.cloud_daily_cap = 5,
            ..Options::default()
        })
    };
    let one = app(upstreams.clone()).await;
    let two = app(upstreams).await;
    let (_, key) = one.account(Some("enterprise"), 1000).await;
    local.update(ConfigPatch {
        token_delay_ms: Some(25),
        ..Default::default()
    });
    cloud.update(ConfigPatch {
        token_delay_ms: Some(25),
        ..Default::default()
    });
    let mut tasks = Vec::new();
    for n in 0..7 {
        let app = if n % 2 == 0 { &one } else { &two };
        let request = app.chat_later(&key, stream("llama3.2:3b", true));
        tasks.push(tokio::spawn(async move {
            let res = request.await;
            // Read to the end: a client that leaves frees its place at once.
            (
                res.status().as_u16(),
                res.text().await.unwrap().ends_with("[DONE]\n\n"),
            )
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), (200, true));
    }
    // One local queue of 1 + 3 across both instances; the rest went to the cloud.
    assert_eq!(local.stats().max_in_flight, 4);
    assert_eq!(cloud.stats().chat_requests, 3);
    // The cloud cap (5) is shared too: 3 used, 2 left between both instances.
    assert_eq!(one.chat(&key, hello("qwen3.5:cloud")).await.status(), 200);
    assert_eq!(two.chat(&key, hello("qwen3.5:cloud")).await.status(), 200);
    assert_eq!(one.chat(&key, hello("qwen3.5:cloud")).await.status(), 503);
    assert_eq!(two.chat(&key, hello("qwen3.5:cloud")).await.status(), 503);
    assert_eq!(two.gw.cloud_used_today().await, 5);
}

/// After two refused requests on an account of 100 credits: nothing charged, nothing in
/// the ledger, two usage rows with `status` and no credits.
async fn two_refusals_charged_nothing(app: &crate::helpers::TestApp, account: i64, status: i32) {
    app.settled().await;
    assert_eq!(app.balance(account).await, 100);
    assert_eq!(app.ledger_sum(account).await, 100);
    let rows = app.usage(account).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.status == status && r.credits == 0));
}
