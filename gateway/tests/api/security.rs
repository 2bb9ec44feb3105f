//! Findings of the security review (issue 9) that the gateway answers: what the upstream
//! receives means what the gateway checked and billed; limits that keep one account from
//! holding the model servers; arithmetic that never wraps; keyless floods write nothing.
//! The fake Ollama decodes bodies the way Go's `encoding/json` does
//! (`fake_ollama::go_json`), so these tests see what a real Ollama would understand.
use std::time::Duration;

use fake_ollama::ConfigPatch;
use serde_json::{json, Value};

use crate::helpers::{error_of, events, hello, spawn_app, stream};

/// Posts raw bytes (JSON the client library would never write: duplicate keys).
async fn post_raw(app: &crate::helpers::TestApp, key: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/chat/completions", app.base))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn case_variant_and_duplicate_keys_cannot_choose_the_model_or_skip_billing() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    // The reviewer's request: checked as a Basic model, served by Go as gpt-oss:20b.
    let attack = r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"MODEL":"gpt-oss:20b","STREAM":true,"MAX_TOKENS":5000}"#;
    let res = post_raw(&app, &key, attack).await;
    assert_eq!(res.status(), 400);
    let e = error_of(res).await;
    assert_eq!(e["type"], "invalid_request_error");
    assert_eq!(e["param"], "model", "{e}");
    assert!(e["message"].as_str().unwrap().contains("MODEL"), "{e}");
    let cases = [
        // A lone case variant of a field the gateway reads.
        (
            r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"Stream":true}"#,
            "Stream",
        ),
        (
            r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"MAX_TOKENS":5000}"#,
            "MAX_TOKENS",
        ),
        // Go folds the long s into an s.
        (
            "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"\u{17f}tream\":true}",
            "\u{17f}tream",
        ),
        // The same key twice: serde and Go would keep different ones.
        (
            r#"{"model":"gpt-oss:20b","model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}]}"#,
            "model",
        ),
        // At any depth.
        (
            r#"{"model":"llama3.2:3b","stream":true,"stream_options":{"include_usage":true,"INCLUDE_USAGE":false},"messages":[{"role":"user","content":"hi"}]}"#,
            "include_usage",
        ),
        (
            r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"a","content":"b"}]}"#,
            "content",
        ),
        // A denied model cannot be reached this way either.
        (
            r#"{"model":"llama3.2:3b","Model":"glm-4.7-flash","messages":[{"role":"user","content":"hi"}]}"#,
            "model",
        ),
    ];
    for (body, param) in cases {
        let res = post_raw(&app, &key, body).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(error_of(res).await["param"], param, "{body}");
    }
    app.settled().await;
    assert_eq!(app.local.stats().chat_requests, 0, "nothing reached Ollama");
    assert_eq!(app.balance(a.id).await, 100);
}

#[tokio::test]
async fn the_upstream_understands_exactly_what_the_gateway_decided() {
    let app = spawn_app().await;
    let (_, key) = app.account(Some("basic"), 100).await;
    let body = r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":7,"max_tokens":5000,"X_Custom":1}"#;
    let res = post_raw(&app, &key, body).await;
    assert_eq!(res.status(), 200);
    let seen = app.local.stats().last_body.unwrap();
    assert_eq!(seen["model"], "llama3.2:3b");
    assert_eq!(
        seen["max_tokens"], 7,
        "the smaller limit, where Ollama reads it"
    );
    assert!(seen.get("stream").is_none_or(|s| s == false));
    assert_eq!(seen["X_Custom"], 1, "unknown fields pass through");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["usage"]["completion_tokens"], 7);
    // Without a limit the upstream is still told the model's cap.
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    assert_eq!(app.local.stats().last_body.unwrap()["max_tokens"], 8192);
    // The model's key written with an escape is the model's key: checked, and replaced by
    // the gateway's (the exact bytes sent: `body::tests`).
    let body = r#"{"mod\u0065l":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":false,"x":1},"stream":false}"#;
    assert_eq!(post_raw(&app, &key, body).await.status(), 200);
    let seen = app.local.stats().last_body.unwrap();
    assert_eq!(seen["model"], "llama3.2:3b");
    assert_eq!(
        seen["stream_options"],
        json!({"include_usage": false, "x": 1})
    );
}

#[tokio::test]
async fn a_huge_max_tokens_is_refused_not_wrapped_to_one_credit() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("pro"), 5).await;
    for (model, max_tokens, limit) in [
        ("llama3.2:3b", json!(10_000_000_000_000_000u64), 8192),
        ("smollm2:135m", json!(5_000), 4096),
        ("qwen3.5:cloud", json!(u64::MAX), 16384),
    ] {
        let mut body = hello(model);
        body["max_tokens"] = max_tokens.clone();
        let res = app.chat(&key, body).await;
        assert_eq!(res.status(), 400, "{model}");
        let e = error_of(res).await;
        assert_eq!(e["param"], "max_tokens");
        assert_eq!(e["code"], "max_tokens_too_large");
        assert!(
            e["message"].as_str().unwrap().contains(&limit.to_string()),
            "{e}"
        );
    }
    // Within the cap but beyond the balance: 402, not served.
    let mut body = hello("llama3.2:3b");
    body["max_tokens"] = json!(8000);
    assert_eq!(app.chat(&key, body).await.status(), 402);
    app.settled().await;
    assert_eq!(app.local.stats().chat_requests, 0);
    assert_eq!(app.cloud.stats().chat_requests, 0);
    assert_eq!(app.balance(a.id).await, 5);
}

#[tokio::test]
async fn an_account_may_hold_only_its_plans_number_of_open_requests() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 1_000).await;
    let (_, other) = app.account(Some("basic"), 1_000).await;
    app.set_local(ConfigPatch {
        token_delay_ms: Some(40),
        ..Default::default()
    });
    // Basic allows two at once.
    let first = tokio::spawn(app.chat_later(&key, stream("llama3.2:3b", true)));
    let second = tokio::spawn(app.chat_later(&key, stream("llama3.2:3b", true)));
    let started = std::time::Instant::now();
    while app.local.stats().in_flight < 2 && app.cloud.stats().in_flight < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "streams not open"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    let e = error_of(res).await;
    assert_eq!(e["code"], "concurrency_limit_exceeded");
    assert!(e["message"].as_str().unwrap().contains('2'));
    // Another account is not affected.
    let mut quick = hello("llama3.2:3b");
    quick["max_tokens"] = json!(1);
    assert_eq!(app.chat(&other, quick.clone()).await.status(), 200);
    for res in [first.await.unwrap(), second.await.unwrap()] {
        assert_eq!(res.status(), 200);
        res.text().await.unwrap();
    }
    // Both ended: the account has its places back.
    assert_eq!(app.chat(&key, quick).await.status(), 200);
    app.settled().await;
    let rows = app.usage(a.id).await;
    assert_eq!(rows.iter().filter(|r| r.status == 429).count(), 1);
    assert!(rows.iter().all(|r| r.status != 429 || r.credits == 0));
}

#[tokio::test]
async fn an_upstream_answering_in_the_other_mode_is_an_error_charged_for_its_work() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    app.set_local(ConfigPatch {
        wrong_mode: Some(true),
        default_tokens: Some(5_000),
        ..Default::default()
    });
    // Asked for JSON, got SSE without usage: charged the reservation's estimate
    // (prompt + max_tokens), never "no usage → 1 credit".
    let mut body = hello("llama3.2:3b");
    body["max_tokens"] = json!(4_000);
    let res = app.chat(&key, body).await;
    assert_eq!(res.status(), 502);
    assert_eq!(error_of(res).await["code"], "upstream_wrong_mode");
    // Asked for SSE, got one JSON answer with its usage: charged that usage.
    let mut body = stream("llama3.2:3b", false);
    body["max_tokens"] = json!(3_000);
    let res = app.chat(&key, body).await;
    assert_eq!(res.status(), 502);
    assert_eq!(error_of(res).await["code"], "upstream_wrong_mode");
    app.settled().await;
    let rows = app.usage(a.id).await;
    let by_status: Vec<(i32, i64, i64)> = rows
        .iter()
        .map(|r| (r.status, r.completion_tokens, r.credits))
        .collect();
    assert!(
        by_status.contains(&(502, 4_000, 5)),
        "JSON request: {by_status:?}"
    );
    assert!(
        by_status.contains(&(502, 3_000, 4)),
        "stream request: {by_status:?}"
    );
    assert_eq!(app.balance(a.id).await, 100 - 5 - 4);
}

#[tokio::test]
async fn requests_without_a_valid_key_are_counted_not_written() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    for n in 0..30 {
        let res = app
            .chat(&format!("rsl_{n}_not_a_key"), hello("llama3.2:3b"))
            .await;
        assert!(matches!(res.status().as_u16(), 401 | 429));
    }
    assert_eq!(app.chat(&key, hello("llama3.2:3b")).await.status(), 200);
    app.settled().await;
    assert_eq!(app.gw.keyless_refusals(), 30);
    let rows = domain::usage::count_all(&app.svc.db).await.unwrap();
    assert_eq!(rows, 1, "only the keyed request wrote a usage row");
    assert_eq!(app.usage(a.id).await.len(), 1);
}

#[tokio::test]
async fn streams_with_other_line_ends_are_relayed_and_charged() {
    // The fake speaks "\n\n"; the relay's own unit tests cover "\r\n\r\n" and "\r\r".
    // Here: an ordinary stream still ends with [DONE] and is charged its usage.
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app.chat(&key, stream("llama3.2:3b", true)).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert_eq!(events(&text).last().map(String::as_str), Some("[DONE]"));
    app.settled().await;
    assert_eq!(app.usage(a.id).await[0].credits, 1);
}
