use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{error_of, hello, spawn_app, spawn_app_with, unique, Options};

#[tokio::test]
async fn missing_malformed_unknown_and_revoked_keys_get_401_invalid_api_key() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let url = format!("{}/chat/completions", app.base);
    let res = app
        .client
        .post(&url)
        .json(&hello("llama3.2:3b"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(error_of(res).await["code"], "invalid_api_key");
    for bad in ["Basic abc", "Bearer", "Bearer rsl_not_a_key"] {
        let res = app
            .client
            .post(&url)
            .header("authorization", bad)
            .json(&hello("llama3.2:3b"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{bad}");
        assert_eq!(error_of(res).await["code"], "invalid_api_key");
    }
    // Warm the cache, revoke, and the very next request is refused.
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    let id = domain::keys::list(&app.svc.db, a.id).await.unwrap()[0].id;
    domain::keys::revoke(&app.svc.db, a.id, id).await.unwrap();
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 401);
    // Unmetered routes follow within the revocation poll.
    let started = Instant::now();
    loop {
        if app.get("/models", &key).await.status() == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "revocation not seen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 99);
    // The refusals' usage rows name no account: a revoked key identifies nobody.
    let rows = app.usage(a.id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, 200);
}

#[tokio::test]
async fn bad_bodies_get_400_naming_the_field_and_oversized_ones_413() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app
        .client
        .post(format!("{}/chat/completions", app.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(error_of(res).await["type"], "invalid_request_error");
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "model",
        ),
        (json!({"model": "llama3.2:3b"}), "messages"),
        (
            json!({"model": "llama3.2:3b", "messages": "hi"}),
            "messages",
        ),
        (
            json!({"model": "llama3.2:3b", "messages": [{}], "stream": "yes"}),
            "stream",
        ),
    ];
    for (body, field) in cases {
        let res = app.chat(&key, body).await;
        assert_eq!(res.status(), 400);
        let e = error_of(res).await;
        assert_eq!(e["param"], field);
        assert_eq!(e["type"], "invalid_request_error");
    }
    let huge = "x".repeat(5 << 20);
    let res = app
        .chat(
            &key,
            json!({"model": "llama3.2:3b", "messages": [{"role": "user", "content": huge}]}),
        )
        .await;
    assert_eq!(res.status(), 413);
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 100);
    assert_eq!(app.local.stats().chat_requests, 0);
}

#[tokio::test]
async fn the_model_list_is_the_plans_and_never_shows_restricted_models() {
    let app = spawn_app().await;
    // The upstream offers restricted models; the gateway never shows them.
    assert!(app.local.config().models.contains(&"bge-m3".to_string()));
    let ids = |v: Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, basic) = app.account(None, 10).await;
    let (_, ent) = app.account(Some("enterprise"), 10).await;
    let b = ids(app.get("/models", &basic).await.json().await.unwrap());
    let e = ids(app.get("/models", &ent).await.json().await.unwrap());
    assert!(b.contains(&"llama3.2:3b".into()) && !b.contains(&"qwen3.5:cloud".into()));
    assert!(e.contains(&"qwen3.5:cloud".into()) && e.contains(&"smollm2:135m".into()));
    for denied in ["glm-4.7-flash", "bge-m3", "nomic-embed-text"] {
        assert!(!e.contains(&denied.to_string()));
        let res = app.get(&format!("/models/{denied}"), &ent).await;
        assert_eq!(res.status(), 404);
        assert_eq!(error_of(res).await["code"], "model_not_found");
    }
    let one: Value = app
        .get("/models/llama3.2:3b", &basic)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["object"], "model");
    assert_eq!(app.get("/models/gpt-oss:20b", &basic).await.status(), 403);
}

#[tokio::test]
async fn a_higher_plan_model_is_403_naming_the_plan_and_unknown_or_denied_404() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app.chat(&key, hello("deepseek-v3.2:cloud")).await;
    assert_eq!(res.status(), 403);
    let msg = error_of(res).await["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("Pro"), "{msg}");
    for model in ["no-such-model", "glm-4.7-flash", "BGE-M3"] {
        let res = app.chat(&key, hello(model)).await;
        assert_eq!(res.status(), 404);
        let e = error_of(res).await;
        assert_eq!(e["code"], "model_not_found");
        assert!(!e["message"].as_str().unwrap().contains("restricted"));
    }
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 100);
    assert_eq!(app.local.stats().chat_requests, 0);
    let rows = app.usage(a.id).await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.credits == 0));
}

#[tokio::test]
async fn too_few_credits_is_402_with_a_top_up_url_and_no_retry() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("pro"), 1).await;
    // The cloud model costs double: 600 tokens reserved need 2 credits.
    let mut body = hello("qwen3.5:cloud");
    body["max_tokens"] = json!(600);
    let res = app.chat(&key, body).await;
    assert_eq!(res.status(), 402);
    assert_eq!(res.headers()["x-should-retry"], "false");
    let e = error_of(res).await;
    assert_eq!(e["top_up_url"], "http://portal.test/billing");
    assert_eq!(e["code"], "insufficient_credits");
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 1);
    assert_eq!(app.cloud.stats().chat_requests, 0);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_past_the_plan_limit() {
    let app = spawn_app().await;
    let (_, key) = app.account(None, 100).await;
    for n in 0..10 {
        let res = app.get("/models", &key).await;
        assert_eq!(res.status(), 200, "request {n}");
    }
    let res = app.get("/models", &key).await;
    assert_eq!(res.status(), 429);
    let h = res.headers().clone();
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(h["x-ratelimit-remaining-requests"], "0");
    assert_eq!(h["x-ratelimit-limit-requests"], "10");
    assert_eq!(error_of(res).await["code"], "rate_limit_exceeded");
    // Once Retry-After has passed, a new window counts from zero.
    app.svc.clock.advance(std::time::Duration::from_secs(retry));
    let res = app.get("/models", &key).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-ratelimit-remaining-requests"], "9");
}

#[tokio::test]
async fn requests_without_a_valid_key_carry_rate_limit_headers_and_are_cut_off_per_ip() {
    let app = spawn_app().await;
    let limit = gateway::FAILED_KEYS_PER_MINUTE;
    for n in 1..=limit {
        let res = app.chat("rsl_guessed", hello("llama3.2:3b")).await;
        assert_eq!(res.status(), 401);
        let h = res.headers();
        assert_eq!(h["x-ratelimit-limit-requests"], limit.to_string().as_str());
        assert_eq!(
            h["x-ratelimit-remaining-requests"],
            (limit - n).to_string().as_str()
        );
        assert!(h.contains_key("x-ratelimit-reset-requests"));
    }
    let res = app.get("/models", "rsl_guessed").await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_of(res).await["code"], "rate_limit_exceeded");
    // A valid key is counted on its account, not on the IP.
    let (_, key) = app.account(Some("basic"), 100).await;
    let res = app.get("/models", &key).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-ratelimit-limit-requests"], "10");
}

#[tokio::test]
async fn model_lists_and_lookups_write_usage_rows_too() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    assert_eq!(app.get("/models", &key).await.status(), 200);
    assert_eq!(app.get("/models/qwen3.5:cloud", &key).await.status(), 403);
    app.settled().await;
    let rows = app.usage(a.id).await;
    let seen: Vec<(&str, i32, i64)> = rows
        .iter()
        .map(|r| (r.endpoint.as_str(), r.status, r.credits))
        .collect();
    assert_eq!(seen, [("models", 403, 0), ("models", 200, 0)]);
    assert!(rows.iter().all(|r| r.key_id.is_some()));
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_even_when_its_credits_are_held_in_memory() {
    let app = spawn_app().await;
    // A balance large enough for a credit hold: reservations need no database.
    let (a, key) = app.account(Some("enterprise"), 1_000_000).await;
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    assert!(held(&app, a.id).await > 0, "served from a credit hold");
    let id = domain::keys::list(&app.svc.db, a.id).await.unwrap()[0].id;
    domain::keys::revoke(&app.svc.db, a.id, id).await.unwrap();
    // The revocation reaches the cache before `revoke` returns to its caller's next step.
    tokio::task::yield_now().await;
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 401);
    assert_eq!(app.get("/models", &key).await.status(), 401);
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 1_000_000 - 1);
    assert_eq!(app.ledger_sum(a.id).await, 1_000_000 - 1);
    assert_eq!(held(&app, a.id).await, 0, "the shutdown gave the hold back");
}

/// Credits the account's gateway holds set aside.
async fn held(app: &crate::helpers::TestApp, account_id: i64) -> i64 {
    use sea_orm::EntityTrait;
    domain::entities::account::Entity::find_by_id(account_id)
        .one(&app.svc.db)
        .await
        .unwrap()
        .unwrap()
        .held
}

#[tokio::test]
async fn a_revocation_published_by_another_instance_on_redis_is_applied_at_once() {
    let prefix = unique("revoke");
    let app = spawn_app_with(Options {
        redis: true,
        redis_prefix: Some(prefix.clone()),
        ..Options::default()
    })
    .await;
    let (a, key) = app.account(Some("enterprise"), 1_000_000).await;
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    let id = domain::keys::list(&app.svc.db, a.id).await.unwrap()[0].id;
    // Another instance revokes: the row changes in the shared database (not through this
    // process) and the id is published on Redis.
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    domain::entities::api_key::Entity::update_many()
        .col_expr(
            domain::entities::api_key::Column::RevokedAt,
            Expr::value(domain::time::now()),
        )
        .filter(domain::entities::api_key::Column::Id.eq(id))
        .exec(&app.svc.db)
        .await
        .unwrap();
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let receivers: i64 = redis::cmd("PUBLISH")
        .arg(format!("{prefix}:revoked-keys"))
        .arg(id)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(receivers, 1, "the instance is subscribed");
    // Well before the database poll (every 200 ms) would notice.
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 401);
}

#[tokio::test]
async fn two_instances_sharing_redis_allow_exactly_the_plan_limit_together() {
    let prefix = unique("shared");
    // One database for both: PostgreSQL when the test command provides it.
    let dir = tempfile::tempdir().unwrap();
    let db = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()));
    // One clock too: both count in the same one-minute window.
    let clock = domain::Clock::manual();
    let one = spawn_app_with(Options {
        redis: true,
        redis_prefix: Some(prefix.clone()),
        database_url: Some(db.clone()),
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let two = spawn_app_with(Options {
        redis: true,
        redis_prefix: Some(prefix),
        database_url: Some(db),
        clock: Some(clock),
        ..Options::default()
    })
    .await;
    let (_, key) = one.account(None, 100).await;
    let mut tasks = Vec::new();
    for n in 0..30 {
        let app = if n % 2 == 0 { &one } else { &two };
        let url = format!("{}/models", app.base);
        let (client, key) = (app.client.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 10);
}

#[tokio::test]
async fn unknown_routes_are_openai_shaped_404s_with_a_request_id() {
    let app = spawn_app().await;
    let (_, key) = app.account(None, 1).await;
    let res = app.get("/nope", &key).await;
    assert_eq!(res.status(), 404);
    assert!(res.headers().contains_key("x-request-id"));
    assert!(res.headers().contains_key("x-ratelimit-limit-requests"));
    assert_eq!(error_of(res).await["type"], "invalid_request_error");
}

#[tokio::test]
async fn any_other_path_under_v1_is_an_openai_404_after_the_key_check() {
    let app = spawn_app().await;
    let (_, key) = app.account(Some("basic"), 100).await;
    for path in [
        "",
        "/",
        "/completions",
        "/chat",
        "/chat/completions/x",
        "/nothing/at/all",
    ] {
        let res = app.get(path, &key).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.headers().contains_key("x-request-id"), "{path}");
        assert!(
            res.headers().contains_key("x-ratelimit-limit-requests"),
            "{path}"
        );
        assert_eq!(error_of(res).await["code"], "unknown_url", "{path}");
        // Without a valid key the answer is 401, as on every route of the API.
        let res = app.get(path, "rsl_not_a_key").await;
        assert_eq!(res.status(), 401, "{path}");
        assert_eq!(error_of(res).await["code"], "invalid_api_key", "{path}");
    }
    // The known routes with another method: 405, not 404.
    let res = app.get("/chat/completions", &key).await;
    assert_eq!(res.status(), 405);
}
