//! Findings of the security review (issue 9) that the portal answers: each test is the
//! attack, replayed.
use crate::helpers::{each_app, each_app_with, unique_email, unique_phone, TestApp};

fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn login_with_next(
    app: &TestApp,
    email: &str,
    next: &str,
    accept: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/login"))
        .header("origin", &app.addr)
        .header("accept", accept)
        .form(&[
            ("email", email),
            ("password", "password123"),
            ("next", next),
        ])
        .send()
        .await
        .expect("login")
}

#[tokio::test]
async fn next_never_sends_the_browser_off_site_and_never_breaks_the_answer() {
    each_app(|app| async move {
        let email = app.signed_in_user().await;
        for accept in ["application/json", "text/html"] {
            for (next, expected) in [
                ("/keys", "/keys"),
                ("/\t/evil.example/phish", "/dashboard"),
                ("/\\evil.example", "/dashboard"),
                ("//evil.example", "/dashboard"),
                ("https://evil.example/", "/dashboard"),
                ("/dashboard\r\nSet-Cookie: pwned=1", "/dashboard"),
                ("/\n/evil.example", "/dashboard"),
            ] {
                let res = login_with_next(&app, &email, next, accept).await;
                assert!(
                    res.status().is_success() || res.status().is_redirection(),
                    "{next:?}: {}",
                    res.status()
                );
                assert_eq!(location(&res), expected, "{next:?}");
                assert!(res
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .all(|c| !c.to_str().unwrap_or("").contains("pwned")));
            }
        }
        // Registration takes the same path.
        let res = app
            .call(
                "register",
                &[
                    ("email", &unique_email()),
                    ("phone", &unique_phone()),
                    ("password", "password123"),
                    ("next", "/\t/evil.example/phish"),
                ],
            )
            .await;
        assert_eq!(location(&res), "/dashboard");
    })
    .await;
}

#[tokio::test]
async fn without_myfatoorah_or_test_mode_checkout_refuses_and_writes_no_order() {
    each_app_with(
        |mut s| {
            s.payments_test_mode = false;
            s
        },
        |app| async move {
            app.signed_in_user().await;
            let res = app
                .call(
                    "billing/checkout",
                    &[("item", "pack-5k"), ("method", "knet")],
                )
                .await;
            assert_eq!(res.status(), 503);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["Refused"], "PaymentsDisabled", "{body}");
            let view: serde_json::Value = app.call("billing", &[]).await.json().await.unwrap();
            assert_eq!(
                view["orders"],
                serde_json::json!([]),
                "no order was written"
            );
            assert_eq!(view["payments_unavailable"], true);
            assert_eq!(view["test_gateway"], false);
            // The test gateway's routes are closed.
            for success in ["true", "false"] {
                let res = app
                    .call(
                        "billing/test-pay",
                        &[("order_id", "1"), ("success", success)],
                    )
                    .await;
                assert_eq!(res.status(), 401);
            }
            // The billing page says so, in both languages.
            let en = app.get("/billing?lang=en").await.text().await.unwrap();
            assert!(en.contains("Online payments are not available yet"), "{en}");
            let ar = app.get("/billing?lang=ar").await.text().await.unwrap();
            assert!(ar.contains("الدفع الإلكتروني غير متاح بعد"));
            let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
            assert_eq!(me["credits"], 100);
        },
    )
    .await;
}

#[tokio::test]
async fn registrations_are_limited_per_address_and_to_the_allowed_countries() {
    each_app_with(
        |mut s| {
            s.registrations_per_ip_per_hour = 2;
            s
        },
        |app| async move {
            let res = app
                .register(&unique_email(), "+14155550123", "password123")
                .await;
            assert_eq!(res.status(), 422);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["Field"]["field"], "phone");
            assert_eq!(body["Field"]["code"], "PhoneCountryNotAllowed");
            let refused = app.get("/register?lang=en").await.text().await.unwrap();
            assert!(refused.contains("<form"), "the form renders");

            for _ in 0..2 {
                let res = app
                    .register(&unique_email(), &unique_phone(), "password123")
                    .await;
                assert!(res.status().is_success() || res.status().is_redirection());
            }
            let email = unique_email();
            let res = app.register(&email, &unique_phone(), "password123").await;
            assert_eq!(res.status(), 429);
            assert!(res.headers().contains_key("retry-after"));
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["Refused"], "TooManyRequests");
            assert_eq!(
                app.login(&email, "password123").await.status(),
                422,
                "not created"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn strangers_failing_from_other_addresses_do_not_lock_the_owner_out() {
    each_app_with(
        |mut s| {
            s.trusted_proxies = "127.0.0.1".into();
            s
        },
        |app| async move {
            let email = app.signed_in_user().await;
            app.call("logout", &[]).await;
            let login_from = |ip: String, password: &'static str| {
                let (app, email) = (&app, email.clone());
                async move {
                    app.client
                        .post(app.url("/api/login"))
                        .header("origin", &app.addr)
                        .header("accept", "application/json")
                        .header("x-forwarded-for", ip)
                        .form(&[("email", email.as_str()), ("password", password)])
                        .send()
                        .await
                        .expect("login")
                }
            };
            // Ten failures on one account locked it before, whatever their addresses.
            for n in 0..11 {
                let res = login_from(format!("198.51.100.{n}"), "guess-guess").await;
                let body: serde_json::Value = res.json().await.unwrap();
                assert_eq!(body["Field"]["code"], "InvalidCredentials");
            }
            // The owner, from their own address, is not locked out.
            let res = login_from("203.0.113.50".into(), "password123").await;
            assert!(
                res.status().is_success() || res.status().is_redirection(),
                "{}",
                res.status()
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_client_cannot_pick_its_address_with_x_forwarded_for() {
    // No proxy is trusted (the default): the header is ignored, so rotating it does not
    // escape the throttle.
    each_app(|app| async move {
        let email = app.signed_in_user().await;
        app.call("logout", &[]).await;
        let mut last = serde_json::Value::Null;
        for n in 0..8 {
            last = app
                .client
                .post(app.url("/api/login"))
                .header("origin", &app.addr)
                .header("accept", "application/json")
                .header("x-forwarded-for", format!("192.0.2.{n}"))
                .form(&[("email", email.as_str()), ("password", "guess-guess")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        }
        assert_eq!(last["Field"]["code"], "TooManyAttempts");
    })
    .await;
}

#[tokio::test]
async fn private_answers_are_not_stored_and_https_sites_ask_for_https() {
    each_app(|app| async move {
        app.signed_in_user().await;
        for res in [
            app.get("/dashboard").await,
            app.call("dashboard", &[]).await,
        ] {
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["cache-control"], "no-store");
        }
        let public = app.get("/login").await;
        assert_ne!(
            public.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        assert!(!public.headers().contains_key("strict-transport-security"));
    })
    .await;
    each_app_with(
        |mut s| {
            s.public_base_url = "https://portal.example".into();
            s
        },
        |app| async move {
            let res = app.get("/login").await;
            assert_eq!(
                res.headers()["strict-transport-security"],
                "max-age=31536000"
            );
        },
    )
    .await;
}
