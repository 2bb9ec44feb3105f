//! Account self-service over HTTP (issue 15): `/forgot` never tells accounts apart, code
//! requests are throttled, a reset with the code from WhatsApp ends every other session,
//! and the operator commands set passwords and end sessions.
use std::time::{Duration, Instant};

use reqwest::Client;

use crate::helpers::{
    each_app, each_app_with, resayil, resayil_with_input, test_settings, unique_email,
    unique_phone, TestApp,
};

/// Status, body and `Location` (without the echoed `to=`) of a server-function answer.
async fn answer(res: reqwest::Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(|l| l.split("?to=").next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, res.text().await.unwrap_or_default(), location)
}

#[tokio::test]
async fn forgot_and_reset_answer_the_same_for_known_and_unknown_accounts() {
    each_app(|app| async move {
        let email = unique_email();
        let phone = unique_phone();
        app.register(&email, &phone, "password123").await;
        let stranger = Client::new();
        let forgot = |who: String| {
            let url = app.url("/api/forgot");
            let origin = app.addr.clone();
            let client = stranger.clone();
            async move {
                client
                    .post(url)
                    .header("origin", origin)
                    .header("accept", "application/json")
                    .form(&[("identifier", who.as_str())])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let known = answer(forgot(email.clone()).await).await;
        let unknown = answer(forgot(unique_email()).await).await;
        let known_phone = answer(forgot(phone.clone()).await).await;
        let unknown_phone = answer(forgot(unique_phone()).await).await;
        assert!(known.0 < 400, "{known:?}");
        assert_eq!(known, unknown);
        assert_eq!(known_phone, unknown_phone);
        assert_eq!(known, known_phone);
        assert_eq!(known.2, "/reset");

        // A wrong code: one answer whoever it is for.
        let reset = |who: String| {
            let url = app.url("/api/reset");
            let origin = app.addr.clone();
            let client = stranger.clone();
            async move {
                client
                    .post(url)
                    .header("origin", origin)
                    .header("accept", "application/json")
                    .form(&[
                        ("identifier", who.as_str()),
                        ("code", "123456"),
                        ("password", "new password 1"),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let known = answer(reset(email.clone()).await).await;
        let unknown = answer(reset(unique_email()).await).await;
        assert_eq!(known.0, 422);
        assert_eq!(known, unknown);
        let body: serde_json::Value = serde_json::from_str(&known.1).unwrap();
        assert_eq!(body["Field"]["code"], "InvalidCode", "{body}");
        // Malformed input is a field error, not a 500.
        let res = stranger
            .post(app.url("/api/forgot"))
            .header("origin", &app.addr)
            .header("accept", "application/json")
            .form(&[("identifier", "nope")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
    })
    .await;
}

#[tokio::test]
async fn code_requests_are_throttled_per_identifier_and_per_ip() {
    each_app_with(
        |mut s| {
            s.codes_per_account_per_hour = 2;
            s.codes_per_ip_per_hour = 5;
            s
        },
        |app| async move {
            let email = unique_email();
            app.register(&email, &unique_phone(), "password123").await;
            for who in [email.clone(), unique_email()] {
                for _ in 0..2 {
                    let res = app.call("forgot", &[("identifier", &who)]).await;
                    assert!(res.status().as_u16() < 400, "{}", res.status());
                }
                let res = app.call("forgot", &[("identifier", &who)]).await;
                assert_eq!(res.status(), 429, "{who}");
                assert!(res.headers().contains_key("retry-after"));
            }
            // The address has sent 4 codes (a refused request sends none); 5 are allowed:
            // after one more, even a new identifier waits.
            let res = app.call("forgot", &[("identifier", &unique_email())]).await;
            assert!(res.status().as_u16() < 400, "{}", res.status());
            let res = app.call("forgot", &[("identifier", &unique_email())]).await;
            assert_eq!(res.status(), 429);
            app.clock.advance(Duration::from_secs(3600));
            let res = app.call("forgot", &[("identifier", &email)]).await;
            assert!(res.status().as_u16() < 400, "{}", res.status());
        },
    )
    .await;
}

/// The code's text as the fake WhatsApp received it.
async fn code_sent_to(fake: &fake_whatsapp::Handle, phone: &str, after: usize) -> String {
    let start = Instant::now();
    loop {
        let got = fake.received_by(phone);
        if let Some(text) = got.iter().skip(after).find_map(|m| m.text.clone()) {
            let chars: Vec<char> = text.chars().collect();
            if let Some(code) = chars
                .windows(6)
                .find(|w| w.iter().all(char::is_ascii_digit))
                .map(|w| w.iter().collect())
            {
                return code;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no code: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn post(app: &TestApp, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> u16 {
    client
        .post(app.url(&format!("/api/{endpoint}")))
        .header("origin", &app.addr)
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_reset_with_the_whatsapp_code_ends_every_other_session() {
    let (base, fake) = fake_whatsapp::spawn(fake_whatsapp::Config::default())
        .await
        .expect("fake whatsapp");
    let token = fake.config().http_token;
    each_app_with(
        |mut s| {
            s.whatsapp_provider = "http".into();
            s.whatsapp_http_url = Some(format!("{base}/send"));
            s.whatsapp_http_token = Some(secrecy::SecretString::from(token.clone()));
            s
        },
        |app| {
            let fake = fake.clone();
            async move {
                let email = unique_email();
                let phone = unique_phone();
                // Signed in on two devices.
                let laptop = browser();
                assert!(
                    post(
                        &app,
                        &laptop,
                        "register",
                        &[
                            ("email", &email),
                            ("phone", &phone),
                            ("password", "password123")
                        ]
                    )
                    .await
                        < 400
                );
                let mobile = browser();
                assert!(
                    post(
                        &app,
                        &mobile,
                        "login",
                        &[("email", &email), ("password", "password123")]
                    )
                    .await
                        < 400
                );
                code_sent_to(&fake, &phone, 0).await; // the welcome (with its own code)
                let welcomes = fake.received_by(&phone).len();

                let stranger = browser();
                assert!(post(&app, &stranger, "forgot", &[("identifier", &email)]).await < 400);
                let code = code_sent_to(&fake, &phone, welcomes).await;
                assert!(
                    post(
                        &app,
                        &stranger,
                        "reset",
                        &[
                            ("identifier", &email),
                            ("code", &code),
                            ("password", "brand new pw")
                        ]
                    )
                    .await
                        < 400
                );
                for old in [&laptop, &mobile] {
                    assert_eq!(post(&app, old, "dashboard", &[]).await, 401);
                }
                assert_eq!(post(&app, &stranger, "dashboard", &[]).await, 200);
                // The same code again: refused.
                let again = browser();
                assert_eq!(
                    post(
                        &app,
                        &again,
                        "reset",
                        &[
                            ("identifier", &email),
                            ("code", &code),
                            ("password", "another pw 1")
                        ]
                    )
                    .await,
                    422
                );
                assert!(
                    post(
                        &app,
                        &again,
                        "login",
                        &[("email", &email), ("password", "brand new pw")]
                    )
                    .await
                        < 400
                );
            }
        },
    )
    .await;
}

#[tokio::test]
async fn operators_set_a_password_and_end_sessions_from_the_cli() {
    each_app(|app| async move {
        let email = app.signed_in_user().await;
        assert_eq!(app.call("dashboard", &[]).await.status(), 200);
        let out = resayil_with_input(
            &app,
            &["user", "set-password", "--email", &email],
            "set by ops 1\n",
        )
        .await;
        assert!(out.contains("1 session(s) ended"), "{out}");
        assert_eq!(app.call("dashboard", &[]).await.status(), 401);
        assert!(app.login(&email, "set by ops 1").await.status().as_u16() < 400);
        assert_eq!(app.call("dashboard", &[]).await.status(), 200);
        let out = resayil(&app, &["user", "sessions", "revoke", "--email", &email]).await;
        assert_eq!(out, format!("1 session(s) of {email} ended"));
        assert_eq!(app.call("dashboard", &[]).await.status(), 401);
        let _ = test_settings();
    })
    .await;
}

/// The pages work without JavaScript: server-rendered, no wasm; a refused form comes back
/// to its page with the error; the account page shows the profile and this device.
#[tokio::test]
async fn the_self_service_pages_work_without_javascript() {
    each_app(|app| async move {
        for (path, text) in [
            ("/forgot?lang=en", "Forgot your password"),
            ("/reset?to=a%40b.com&lang=en", "Set a new password"),
            ("/forgot?lang=ar", "نسيت كلمة المرور"),
        ] {
            let res = app.get(path).await;
            assert_eq!(res.status(), 200, "{path}");
            let html = res.text().await.unwrap();
            assert!(html.contains(text), "{path}");
            assert!(!html.contains(".wasm"), "{path} loads wasm");
        }
        let reset = app
            .get("/reset?to=a%40b.com&lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            reset.contains("value=\"a@b.com\""),
            "the identifier is filled in"
        );

        let res = app
            .client
            .post(app.url("/api/reset"))
            .header("origin", &app.addr)
            .header("accept", "text/html")
            .header("referer", app.url("/reset?to=a%40b.com&lang=en"))
            .form(&[
                ("identifier", "a@b.com"),
                ("code", "000000"),
                ("password", "long enough"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let page = app
            .client
            .get(&location)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("That code is wrong or no longer valid"),
            "{location}"
        );

        // Signed in: the account page, behind the login wall.
        assert!(app.get("/account").await.status().is_redirection());
        let email = app.signed_in_user().await;
        let res = app.get("/account?lang=en").await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains(&email));
        assert!(html.contains("This device"));
        assert!(html.contains("Signed-in devices"));
        let dash = app.get("/dashboard?lang=en").await.text().await.unwrap();
        assert!(dash.contains("Verify your phone"), "the banner");
    })
    .await;
}
