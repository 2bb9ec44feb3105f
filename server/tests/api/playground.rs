//! The playground (`POST /playground/chat`): the signed-in session instead of a key,
//! same-origin only, and metered exactly like `/v1/chat/completions` — the same
//! admission, charge, ledger and usage rows, the rows marked `playground`.
use std::time::Duration;

use crate::helpers::{each_app_with_ollama, TestApp};

const MODEL: &str = "llama3.2:3b";

fn chat_body(model: &str) -> serde_json::Value {
    serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "مرحبا، how are you?"}],
        "max_tokens": 16,
        "stream": true,
        "stream_options": {"include_usage": true},
    })
}

async fn playground(app: &TestApp, body: &serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url("/playground/chat"))
        .header("origin", &app.addr)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn services(app: &TestApp) -> domain::Services {
    domain::Services::build(domain::Settings {
        database_url: app.database_url.clone(),
        ..domain::Settings::default()
    })
    .await
    .expect("services")
}

/// Waits for the meter's batched writer (≤ 200 ms) to write `n` rows of the account.
async fn rows(
    svc: &domain::Services,
    account: i64,
    n: usize,
) -> Vec<domain::entities::api_usage::Model> {
    for _ in 0..100 {
        let rows = domain::usage::for_account(&svc.db, account).await.unwrap();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("usage rows not written");
}

#[tokio::test]
async fn a_playground_stream_is_charged_exactly_like_the_same_api_request() {
    each_app_with_ollama(std::convert::identity, |app| async move {
        let email = app.signed_in_user().await;
        let svc = services(&app).await;
        let account = domain::accounts::find_by_email(&svc.db, &email)
            .await
            .unwrap();
        let before = account.credits;

        let res = playground(&app, &chat_body(MODEL)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let text = res.text().await.unwrap();
        assert!(text.contains("\"delta\""), "{text}");
        assert!(text.contains("\"usage\""), "usage chunk asked for: {text}");
        assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");

        // The same request with a key of the same account, through /v1.
        let key: serde_json::Value = app
            .call("keys/create", &[("label", "same")])
            .await
            .json()
            .await
            .unwrap();
        let key = key["secret"].as_str().unwrap().to_owned();
        let res = app
            .client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&chat_body(MODEL))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let api_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let _ = res.text().await.unwrap();

        let rows = rows(&svc, account.id, 2).await;
        let pg = rows.iter().find(|r| r.request_id == request_id).unwrap();
        let api = rows.iter().find(|r| r.request_id == api_id).unwrap();
        assert!(pg.playground && !api.playground);
        assert_eq!(pg.key_id, None);
        assert!(api.key_id.is_some());
        assert_eq!(pg.endpoint, api.endpoint);
        assert_eq!(pg.status, 200);
        assert_eq!(
            (pg.prompt_tokens, pg.completion_tokens, pg.credits),
            (api.prompt_tokens, api.completion_tokens, api.credits),
            "the same request costs the same from the playground"
        );
        assert!(pg.credits >= 1);

        // The balance moved by exactly the two charges, and the ledger agrees.
        let mut after = 0;
        for _ in 0..100 {
            after = domain::accounts::find(&svc.db, account.id)
                .await
                .unwrap()
                .credits;
            if after == before - pg.credits - api.credits {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(after, before - pg.credits - api.credits);
        assert_eq!(
            domain::ledger::sum(&svc.db, account.id).await.unwrap(),
            after
        );

        // /keys shows the key's use of the last 30 days (the hourly rollups): the API call,
        // not the playground's.
        let keys: serde_json::Value = app.call("keys", &[]).await.json().await.unwrap();
        assert_eq!(keys[0]["requests_30d"], 1);
        assert_eq!(keys[0]["credits_30d"], api.credits);

        // The page's cost lookup finds the caller's own answer, with the balance.
        let cost: serde_json::Value = app
            .call("playground/cost", &[("request_id", &request_id)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(cost["credits"], pg.credits);
        assert_eq!(cost["balance"], after);
        // … and nothing of another account's request.
        app.call("logout", &[]).await;
        app.signed_in_user().await;
        let other: serde_json::Value = app
            .call("playground/cost", &[("request_id", &request_id)])
            .await
            .json()
            .await
            .unwrap();
        assert!(other.is_null(), "{other}");
    })
    .await;
}

#[tokio::test]
async fn the_playground_needs_a_session_and_this_site() {
    each_app_with_ollama(std::convert::identity, |app| async move {
        // No session: 401 in the OpenAI shape, and the page sends visitors to log in.
        let res = playground(&app, &chat_body(MODEL)).await;
        assert_eq!(res.status(), 401);
        assert!(res.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_signed_in");
        let page = app.get("/playground").await;
        assert_eq!(page.status(), 303);
        assert_eq!(page.headers()["location"], "/login?next=/playground");

        let email = app.signed_in_user().await;
        let svc = services(&app).await;
        let account = domain::accounts::find_by_email(&svc.db, &email)
            .await
            .unwrap();
        // Another site's page cannot make the signed-in browser spend credits.
        let cross = app
            .client
            .post(app.url("/playground/chat"))
            .header("origin", "https://evil.example")
            .json(&chat_body(MODEL))
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403);
        let cross = app
            .client
            .post(app.url("/playground/chat"))
            .header("sec-fetch-site", "cross-site")
            .json(&chat_body(MODEL))
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403);
        // A key is not a session: the playground does not take one.
        let key: serde_json::Value = app
            .call("keys/create", &[("label", "k")])
            .await
            .json()
            .await
            .unwrap();
        let anonymous = reqwest::Client::new();
        let res = anonymous
            .post(app.url("/playground/chat"))
            .bearer_auth(key["secret"].as_str().unwrap())
            .json(&chat_body(MODEL))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(domain::usage::for_account(&svc.db, account.id)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            domain::accounts::find(&svc.db, account.id)
                .await
                .unwrap()
                .credits,
            account.credits
        );
        let cost = app.call("playground/cost", &[("request_id", "x")]).await;
        assert_eq!(cost.status(), 200);
        app.call("logout", &[]).await;
        assert_eq!(
            app.call("playground/cost", &[("request_id", "x")])
                .await
                .status(),
            401
        );
        assert_eq!(app.call("playground", &[]).await.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn a_model_outside_the_plan_and_bad_bodies_are_refused_with_nothing_charged() {
    each_app_with_ollama(std::convert::identity, |app| async move {
        let email = app.signed_in_user().await;
        let svc = services(&app).await;
        let account = domain::accounts::find_by_email(&svc.db, &email)
            .await
            .unwrap();

        // The page lists it, marked with the plan it needs.
        let info: serde_json::Value = app.call("playground", &[]).await.json().await.unwrap();
        let pro = info["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "gpt-oss:20b")
            .unwrap();
        assert_eq!(pro["allowed"], false);
        assert_eq!(pro["needs_plan"], "pro");
        assert!(
            info["models"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["id"] != "all-minilm"),
            "no embedding models in a chat"
        );

        let res = playground(&app, &chat_body("gpt-oss:20b")).await;
        assert_eq!(res.status(), 403);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "model_not_in_plan");
        let res = playground(&app, &chat_body("no-such-model")).await;
        assert_eq!(res.status(), 404);
        let mut big = chat_body(MODEL);
        big["messages"][0]["content"] = "x".repeat(5 * 1024 * 1024).into();
        let res = playground(&app, &big).await;
        assert_eq!(res.status(), 413);
        let res = app
            .client
            .post(app.url("/playground/chat"))
            .header("origin", &app.addr)
            .header("content-type", "application/json")
            .body("{\"model\":\"llama3.2:3b\",\"model\":\"gpt-oss:20b\",\"messages\":[]}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);

        let rows = rows(&svc, account.id, 4).await;
        assert!(rows
            .iter()
            .all(|r| r.playground && r.credits == 0 && r.status >= 400));
        assert_eq!(
            domain::accounts::find(&svc.db, account.id)
                .await
                .unwrap()
                .credits,
            account.credits
        );
        assert_eq!(
            domain::ledger::sum(&svc.db, account.id).await.unwrap(),
            account.credits
        );
    })
    .await;
}

/// Credits at a glance: the dashboard's numbers are `resayil user show`'s, the total is
/// the balance after the last grant, and the 20% warning shows once spending reaches it.
#[tokio::test]
async fn the_credits_overview_matches_user_show_and_warns_at_twenty_percent() {
    use crate::helpers::{resayil, resayil_with_input, unique_email, unique_phone};
    each_app_with_ollama(std::convert::identity, |app| async move {
        let email = unique_email();
        let phone = unique_phone();
        resayil_with_input(
            &app,
            &[
                "user",
                "create",
                "--email",
                &email,
                "--phone",
                &phone,
                "--plan",
                "pro",
                "--credits",
                "5",
            ],
            "password123\n",
        )
        .await;
        assert!(app.login(&email, "password123").await.status().is_success());
        let overview = || async {
            let o: serde_json::Value = app.call("credits", &[]).await.json().await.unwrap();
            o
        };
        let shown = || async {
            let s: serde_json::Value = serde_json::from_str(
                &resayil(&app, &["user", "show", "--email", &email, "--json"]).await,
            )
            .unwrap();
            s
        };
        let o = overview().await;
        let s = shown().await;
        assert_eq!(o["credits"], s["credits"]);
        assert_eq!(o["credits"], 5);
        assert_eq!(o["total"], 5);
        assert_eq!(o["state"], "Ok");
        assert_eq!(o["plan"], "pro");
        assert_eq!(o["plan_expires_at"], s["plan_expires_at"]);
        assert_eq!(o["plan_expired"], false);

        // Spend down to 20% of 5 (1 credit) from the playground.
        let svc = services(&app).await;
        let id = domain::accounts::find_by_email(&svc.db, &email)
            .await
            .unwrap()
            .id;
        let mut body = chat_body(MODEL);
        body["max_tokens"] = 1.into();
        for _ in 0..20 {
            let credits = domain::accounts::find(&svc.db, id).await.unwrap().credits;
            if credits <= 1 {
                break;
            }
            let res = playground(&app, &body).await;
            let _ = res.text().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let o = overview().await;
        let s = shown().await;
        assert_eq!(o["credits"], s["credits"]);
        assert_eq!(o["total"], 5);
        let left = o["credits"].as_i64().unwrap();
        assert!(left <= 1, "{o}");
        assert_eq!(o["state"], if left == 0 { "Empty" } else { "Low" });
        let page = app.get("/dashboard?lang=en").await.text().await.unwrap();
        assert!(
            page.contains("data-testid=\"credits-warning\""),
            "the warning is on the page"
        );
        assert!(page.contains("href=\"/billing#packs\""), "top-up button");

        app.call("logout", &[]).await;
        assert_eq!(app.call("credits", &[]).await.status(), 401);
    })
    .await;
}
