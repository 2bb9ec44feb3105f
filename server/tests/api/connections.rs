//! Slow clients and too many connections (issue 9): request heads and bodies have
//! deadlines, idle connections close (later), connections are capped with room for
//! `/healthz`, and none of it cuts a long stream. Raw TCP where the test is about bytes on the wire.
//! Also the one request the server hands to the gateway without the router.
use std::time::{Duration, Instant};

use domain::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{api_key, each_app_with, each_app_with_ollama, TestApp};

/// One-second deadlines for heads and bodies, so the tests are quick; idle connections
/// may stay longer.
fn quick(mut s: Settings) -> Settings {
    s.header_read_timeout_secs = 1;
    s.body_read_timeout_secs = 1;
    s.keepalive_idle_secs = 30;
    s
}

/// Longer than any deadline of [`quick`] may take to act.
const PATIENCE: Duration = Duration::from_secs(5);

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.addr.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Writes `step` every 200 ms until the server closes the connection (returning what it
/// sent and when it closed), or until [`PATIENCE`] runs out (None).
async fn trickle(mut tcp: TcpStream, step: &[u8]) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    while started.elapsed() < PATIENCE {
        tokio::select! {
            n = tcp.read(&mut buf) => match n {
                Ok(0) | Err(_) => {
                    return Some((String::from_utf8_lossy(&got).into_owned(), started.elapsed()))
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
            },
            _ = tick.tick() => {
                // A write may fail once the server has closed; the read then ends too.
                let _ = tcp.write_all(step).await;
            }
        }
    }
    None
}

/// Reads one answer to a `GET /healthz` whose connection stays open.
async fn healthz_kept_alive(tcp: &mut TcpStream) -> String {
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"\r\n\r\nok") {
        let n = tokio::time::timeout(PATIENCE, tcp.read(&mut buf))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// The answer to one request on a new connection (closed after it).
async fn one_request(app: &TestApp, path: &str) -> String {
    let mut tcp = connect(app).await;
    let req = format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
    let _ = tcp.write_all(req.as_bytes()).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut got)).await;
    String::from_utf8_lossy(&got).into_owned()
}

/// How long until the server closes `tcp` while the client sends nothing.
async fn closed_after(tcp: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(PATIENCE, tcp.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    started.elapsed()
}

#[tokio::test]
async fn a_client_that_trickles_its_request_head_is_disconnected_within_the_timeout() {
    each_app_with(quick, |app| async move {
        // On a kept-alive connection, which may idle far longer than a head may take.
        let mut tcp = connect(&app).await;
        healthz_kept_alive(&mut tcp).await;
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n")
            .await
            .expect("write");
        let (_, after) = trickle(tcp, b"x-slow: 1\r\n")
            .await
            .expect("the server closed the connection");
        assert!(after >= Duration::from_millis(900), "{after:?}");
    })
    .await;
}

#[tokio::test]
async fn a_new_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    each_app_with(quick, |app| async move {
        let mut tcp = connect(&app).await;
        let after = closed_after(&mut tcp).await;
        assert!(after >= Duration::from_millis(900), "{after:?}");
    })
    .await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_stays_open_past_the_header_timeout_then_closes() {
    each_app_with(
        |s| Settings {
            keepalive_idle_secs: 2,
            ..quick(s)
        },
        |app| async move {
            let mut tcp = connect(&app).await;
            assert!(healthz_kept_alive(&mut tcp)
                .await
                .starts_with("HTTP/1.1 200"));
            let after = closed_after(&mut tcp).await;
            assert!(after >= Duration::from_millis(1900), "{after:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn a_client_that_trickles_its_body_gets_408_and_is_disconnected() {
    each_app_with(quick, |app| async move {
        let key = api_key(&app, &["--plan", "enterprise", "--credits", "10"]).await;
        let mut tcp = connect(&app).await;
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {key}\r\n\
             content-type: application/json\r\ncontent-length: 4000\r\n\r\n{{\"model\":"
        );
        tcp.write_all(head.as_bytes()).await.expect("write");
        let (answer, after) = trickle(tcp, b" ")
            .await
            .expect("the server closed the connection");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
        assert!(after >= Duration::from_millis(900), "{after:?}");
    })
    .await;
}

#[tokio::test]
async fn a_page_form_whose_body_trickles_gets_408() {
    each_app_with(quick, |app| async move {
        let mut tcp = connect(&app).await;
        let head = format!(
            "POST /api/login HTTP/1.1\r\nhost: {}\r\norigin: {}\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: 500\r\n\r\nemail=",
            app.addr.trim_start_matches("http://"),
            app.addr
        );
        tcp.write_all(head.as_bytes()).await.expect("write");
        let (answer, _) = trickle(tcp, b"a")
            .await
            .expect("the server closed the connection");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    })
    .await;
}

#[tokio::test]
async fn at_the_connection_cap_new_connections_are_refused_but_healthz_answers() {
    each_app_with(
        |mut s| {
            s.max_connections = 2;
            s
        },
        |app| async move {
            let mut held = Vec::new();
            for _ in 0..2 {
                let mut tcp = connect(&app).await;
                healthz_kept_alive(&mut tcp).await;
                held.push(tcp);
            }
            let refused = one_request(&app, "/v1/models").await;
            assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
            assert!(refused.to_ascii_lowercase().contains("retry-after: 1"));
            assert!(refused.contains("overloaded"), "{refused}");
            let page = one_request(&app, "/").await;
            assert!(page.starts_with("HTTP/1.1 503"), "{page}");
            let health = one_request(&app, "/healthz").await;
            assert!(health.starts_with("HTTP/1.1 200"), "{health}");

            drop(held);
            let started = Instant::now();
            loop {
                let answer = one_request(&app, "/v1/models").await;
                if answer.starts_with("HTTP/1.1 401") {
                    break;
                }
                assert!(started.elapsed() < PATIENCE, "still refused: {answer}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_stream_longer_than_every_timeout_is_not_cut() {
    let (ollama, _handle) = fake_ollama::spawn_local(fake_ollama::Config {
        token_delay_ms: 100,
        default_tokens: 25,
        ..fake_ollama::Config::default()
    })
    .await
    .expect("fake ollama");
    let ollama_url = format!("http://{ollama}");
    each_app_with(
        |s| {
            let mut s = quick(s);
            s.ollama_url = ollama_url.clone();
            s
        },
        |app| async move {
            let key = api_key(&app, &["--plan", "enterprise", "--credits", "10"]).await;
            let started = Instant::now();
            let res = app
                .client
                .post(app.url("/v1/chat/completions"))
                .bearer_auth(&key)
                .json(&serde_json::json!({"model": "llama3.2:3b", "stream": true,
                    "messages": [{"role": "user", "content": "Say hello"}]}))
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), 200);
            let text = res.text().await.expect("the whole stream");
            assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
            assert!(started.elapsed() >= Duration::from_secs(2));
        },
    )
    .await;
}

/// The server hands `POST /v1/chat/completions` to the gateway itself, without the router
/// (`serve::serve`): the answers are those of the router's route — admission's refusals and
/// headers, the answer — and any other method or path under `/v1` still goes
/// through the router.
#[tokio::test]
async fn chat_completions_beside_the_router_are_answered_as_through_it() {
    each_app_with_ollama(std::convert::identity, |app| async move {
        let key = api_key(&app, &["--plan", "enterprise", "--credits", "1000"]).await;
        let body = serde_json::json!({"model": "llama3.2:3b",
                "messages": [{"role": "user", "content": "Say hello"}]});
        let post = |path: &str| {
            app.client
                .post(app.url(path))
                .bearer_auth(&key)
                .json(&body)
                .send()
        };
        // The path the server dispatches: answered, with the request id and the
        // rate-limit headers, usage in the answer.
        let res = post("/v1/chat/completions").await.expect("request");
        assert_eq!(res.status(), 200);
        for h in [
            "x-request-id",
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ] {
            assert!(res.headers().contains_key(h), "{h} missing");
        }
        let answer: serde_json::Value = res.json().await.expect("json");
        assert!(
            answer["usage"]["total_tokens"].as_u64().unwrap_or(0) > 0,
            "{answer}"
        );
        // Refused by the same admission: no key, a wrong key.
        let res = app
            .client
            .post(app.url("/v1/chat/completions"))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 401);
        assert!(res.headers().contains_key("x-request-id"));
        let res = app
            .client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth("rsk_wrong")
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 401);
        let err: serde_json::Value = res.json().await.expect("json");
        assert_eq!(err["error"]["code"], "invalid_api_key", "{err}");
        // Another method on that path, and the path with one more slash: the router's
        // answers, after the same admission.
        let res = app
            .client
            .get(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 405);
        assert!(res.headers().contains_key("x-request-id"));
        let res = post("/v1/chat/completions/").await.expect("request");
        assert_eq!(res.status(), 404);
        assert!(res.headers().contains_key("x-request-id"));
        let err: serde_json::Value = res.json().await.expect("json");
        assert!(err["error"]["message"].is_string(), "{err}");
    })
    .await;
}
