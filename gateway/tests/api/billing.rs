use serde_json::json;

use crate::helpers::{spawn_app_with, Options};

/// 200 requests at once on an account whose credits cover 10 (each costs 1).
async fn two_hundred_concurrent_requests(database_url: Option<String>) {
    let app = spawn_app_with(Options {
        database_url,
        // Enough requests per minute and open at once that credits, not the rate or
        // concurrency limits, are the limit.
        catalog: |c| {
            for p in &mut c.plans {
                p.requests_per_minute = 10_000;
                p.concurrent_requests = Some(1_000);
            }
            c.gateway.local_parallel = 256;
        },
        ..Options::default()
    })
    .await;
    let (a, key) = app.account(Some("enterprise"), 10).await;
    let mut tasks = Vec::new();
    for n in 0..200 {
        let body = json!({"model": "llama3.2:3b", "max_tokens": 20, "stream": n % 2 == 0,
                          "messages": [{"role": "user", "content": "hi"}]});
        let request = app.chat_later(&key, body);
        tasks.push(tokio::spawn(async move {
            let res = request.await;
            let status = res.status().as_u16();
            let _ = res.bytes().await;
            status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    app.settled().await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 402).count();
    assert_eq!((ok, refused), (10, 190), "{statuses:?}");
    assert_eq!(app.balance(a.id).await, 0);
    assert_eq!(app.ledger_sum(a.id).await, 0);
    let rows = app.usage(a.id).await;
    assert_eq!(rows.len(), 200);
    assert_eq!(rows.iter().map(|r| r.credits).sum::<i64>(), 10);
    let kinds: Vec<String> = domain::events::since(&app.svc.db, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.account_id == Some(a.id))
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"credit_warning".to_string()), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| *k == "credits_exhausted").count(),
        1,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn concurrent_requests_never_take_the_balance_below_zero_on_sqlite() {
    two_hundred_concurrent_requests(None).await;
}

#[tokio::test]
async fn concurrent_requests_never_take_the_balance_below_zero_on_postgres() {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => two_hundred_concurrent_requests(Some(url)).await,
        _ => eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped"),
    }
}
