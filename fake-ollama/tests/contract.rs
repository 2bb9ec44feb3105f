//! The fake follows the Ollama contract the gateway relies on.
use fake_ollama::{spawn_local, Config, ConfigPatch};
use serde_json::{json, Value};

/// The workspace builds reqwest with rustls but no default crypto provider.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get(url: String) -> reqwest::Response {
    client().get(url).send().await.expect("request")
}

async fn post(url: &str, body: Value) -> reqwest::Response {
    client()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("request")
}

fn events(text: &str) -> Vec<&str> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("data line"))
        .collect()
}

#[tokio::test]
async fn a_stream_has_role_content_finish_usage_and_done_chunks() {
    let (addr, _h) = spawn_local(Config::default()).await.unwrap();
    let res = post(
        &format!("http://{addr}/v1/chat/completions"),
        json!({"model": "llama3.2:3b", "stream": true, "max_tokens": 3,
               "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "12345678"}]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let text = res.text().await.unwrap();
    let ev = events(&text);
    assert_eq!(ev.len(), 3 + 1 + 1 + 1, "{text}");
    let first: Value = serde_json::from_str(ev[0]).unwrap();
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    let finish: Value = serde_json::from_str(ev[3]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    let usage: Value = serde_json::from_str(ev[4]).unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"],
        json!({"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5})
    );
    assert_eq!(ev[5], "[DONE]");
}

#[tokio::test]
async fn non_stream_answers_are_deterministic_with_usage() {
    let (addr, _h) = spawn_local(Config::default()).await.unwrap();
    let url = format!("http://{addr}/v1/chat/completions");
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let a: Value = post(&url, body.clone()).await.json().await.unwrap();
    let b: Value = post(&url, body).await.json().await.unwrap();
    assert_eq!(
        a["choices"][0]["message"]["content"],
        b["choices"][0]["message"]["content"]
    );
    assert_eq!(a["usage"]["completion_tokens"], 20);
    assert_eq!(a["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn busy_and_broken_streams_can_be_switched_at_run_time() {
    let (addr, h) = spawn_local(Config::default()).await.unwrap();
    let url = format!("http://{addr}/v1/chat/completions");
    let body =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    post(&format!("http://{addr}/__control"), json!({"busy": true})).await;
    let res = post(&url, body.clone()).await;
    assert_eq!(res.status(), 503);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("server busy"));

    h.update(ConfigPatch {
        busy: Some(false),
        break_after: Some(5),
        ..Default::default()
    });
    let text = post(&url, body.clone()).await.text().await.unwrap();
    assert_eq!(events(&text).len(), 5);
    assert!(!text.contains("[DONE]"));

    h.update(ConfigPatch {
        break_with_error: Some(true),
        ..Default::default()
    });
    let text = post(&url, body).await.text().await.unwrap();
    let ev = events(&text);
    assert_eq!(ev.len(), 6);
    assert!(ev[5].contains("\"error\""));
    assert_eq!(h.stats().chat_requests, 3);
}

#[tokio::test]
async fn models_tags_and_embeddings_answer_in_ollama_shapes() {
    let (addr, _h) = spawn_local(Config {
        models: vec!["a".into(), "bge-m3".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let base = format!("http://{addr}");
    let root = get(base.clone()).await.text().await.unwrap();
    assert_eq!(root, "Ollama is running");
    let models: Value = get(format!("{base}/v1/models")).await.json().await.unwrap();
    assert_eq!(models["data"][1]["id"], "bge-m3");
    let tags: Value = get(format!("{base}/api/tags")).await.json().await.unwrap();
    assert_eq!(tags["models"][0]["name"], "a");
    let emb: Value = post(
        &format!("{base}/v1/embeddings"),
        json!({"model": "a", "input": ["one", "two"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(emb["data"].as_array().unwrap().len(), 2);
    assert_eq!(emb["data"][0]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(emb["usage"]["prompt_tokens"], 2);
}
