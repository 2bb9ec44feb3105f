use serde_json::{json, Value};

use crate::helpers::{events, hello, spawn_app, stream};

#[tokio::test]
async fn a_completion_is_relayed_with_usage_and_charged_its_actual_cost() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert!(h["x-request-id"].to_str().unwrap().starts_with("req_"));
    assert_eq!(h["x-ratelimit-limit-requests"], "10");
    assert_eq!(h["x-ratelimit-remaining-requests"], "9");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["usage"]["completion_tokens"], 20);
    assert!(body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .starts_with("Hello from the fake Ollama"));
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 99);
    assert_eq!(app.ledger_sum(a.id).await, 99);
    let rows = app.usage(a.id).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.request_id, h["x-request-id"].to_str().unwrap());
    assert_eq!((row.status, row.credits), (200, 1));
    assert_eq!(row.provider.as_deref(), Some("local"));
    assert_eq!(row.served_model.as_deref(), Some("llama3.2:3b"));
    assert_eq!(row.completion_tokens, 20);
    assert_eq!(row.prompt_tokens, 3);
}

#[tokio::test]
async fn unknown_request_fields_pass_through_to_the_upstream() {
    let app = spawn_app().await;
    let (_, key) = app.account(Some("basic"), 100).await;
    let mut body = hello("llama3.2:3b");
    body["temperature"] = json!(0.2);
    body["x_vendor_option"] = json!({"a": 1});
    assert_eq!(app.chat(&key, body).await.status(), 200);
    let seen = app.local.stats().last_body.unwrap();
    assert_eq!(seen["x_vendor_option"], json!({"a": 1}));
    assert_eq!(seen["temperature"], json!(0.2));
}

#[tokio::test]
async fn a_stream_arrives_as_sse_and_ends_with_done() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let res = app.chat(&key, stream("llama3.2:3b", true)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let ev = events(&res.text().await.unwrap());
    assert_eq!(ev.last().unwrap(), "[DONE]");
    let usage: Value = serde_json::from_str(&ev[ev.len() - 2]).unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 20);
    let content: String = ev[..ev.len() - 2]
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(content.starts_with("Hello from the fake Ollama"));
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 99);
    assert_eq!(app.usage(a.id).await[0].completion_tokens, 20);
}

#[tokio::test]
async fn usage_is_asked_of_the_upstream_but_only_sent_to_clients_that_asked() {
    let app = spawn_app().await;
    let (a, key) = app.account(Some("basic"), 100).await;
    let mut body = stream("llama3.2:3b", false);
    body.as_object_mut().unwrap().remove("stream_options");
    let res = app.chat(&key, body).await;
    let ev = events(&res.text().await.unwrap());
    assert_eq!(ev.last().unwrap(), "[DONE]");
    assert!(ev.iter().all(|e| !e.contains("\"choices\":[]")));
    let upstream_body = app.local.stats().last_body.unwrap();
    assert_eq!(upstream_body["stream_options"]["include_usage"], true);
    app.settled().await;
    // Charged from the upstream's usage all the same.
    assert_eq!(app.usage(a.id).await[0].completion_tokens, 20);
    assert_eq!(app.balance(a.id).await, 99);
}

#[tokio::test]
async fn embeddings_are_served_for_embedding_models_only() {
    let app = spawn_app().await;
    let (a, key) = app.account(None, 100).await;
    let res = app
        .post(
            "/embeddings",
            &key,
            json!({"model": "all-minilm", "input": ["one", "two"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let res = app
        .post(
            "/embeddings",
            &key,
            json!({"model": "nomic-embed-text", "input": "x"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post(
            "/embeddings",
            &key,
            json!({"model": "llama3.2:3b", "input": "x"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = app
        .post("/embeddings", &key, json!({"model": "all-minilm"}))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(crate::helpers::error_of(res).await["param"], "input");
    app.settled().await;
    assert_eq!(app.balance(a.id).await, 99);
}
