use crate::helpers::{each_app, unique_email, unique_phone};

#[tokio::test]
async fn registering_logs_the_user_in_with_a_lasting_httponly_cookie() {
    each_app(|app| async move {
        let res = app
            .register(&unique_email(), &unique_phone(), "password123")
            .await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("resayil_session="))
            .expect("session cookie")
            .to_owned();
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Lax"));
        assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["credits"], 100);
    })
    .await;
}

#[tokio::test]
async fn bad_registrations_get_field_errors_and_store_nothing() {
    each_app(|app| async move {
        let email = unique_email();
        let cases: [(&str, &str, &str, &str, &str); 5] = [
            (
                "not-an-email",
                "+96550012345",
                "password123",
                "email",
                "InvalidEmail",
            ),
            (
                &email,
                "+9655001234",
                "password123",
                "phone",
                "InvalidPhone",
            ),
            (
                &email,
                "+96550012345",
                "short",
                "password",
                "PasswordTooShort",
            ),
            (
                "<script>alert(1)</script>@x.com",
                "+96550012345",
                "password123",
                "email",
                "InvalidEmail",
            ),
            (
                "a'; DROP TABLE accounts; --@x.com",
                "+96550012345",
                "password123",
                "email",
                "InvalidEmail",
            ),
        ];
        for (e, p, pw, field, code) in cases {
            let res = app.register(e, p, pw).await;
            assert_eq!(res.status(), 422, "{e} {p}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["Field"]["field"], field);
            assert_eq!(body["Field"]["code"], code);
        }
        let long = format!("{}@x.com", "a".repeat(5000));
        let res = app.register(&long, "+96550012345", "password123").await;
        assert_eq!(res.status(), 422);
        // Nothing was stored: the e-mail is still free.
        let res = app.register(&email, &unique_phone(), "password123").await;
        assert!(res.status().is_success() || res.status().is_redirection());
    })
    .await;
}

#[tokio::test]
async fn duplicate_email_and_phone_are_refused() {
    each_app(|app| async move {
        let email = unique_email();
        let phone = unique_phone();
        app.register(&email, &phone, "password123").await;
        let body: serde_json::Value = app
            .register(&email, &unique_phone(), "password123")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["Field"]["code"], "EmailTaken");
        let body: serde_json::Value = app
            .register(&unique_email(), &phone, "password123")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["Field"]["code"], "PhoneTaken");
    })
    .await;
}

#[tokio::test]
async fn login_logout_and_wrong_passwords() {
    each_app(|app| async move {
        let email = app.signed_in_user().await;
        let res = app.call("logout", &[]).await;
        assert!(res.status().is_success() || res.status().is_redirection());
        assert_eq!(app.call("dashboard", &[]).await.status(), 401);

        let res = app.login(&email, "wrong-password").await;
        assert_eq!(res.status(), 422);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["Field"]["code"], "InvalidCredentials");

        let res = app.login(&email.to_uppercase(), "password123").await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        assert_eq!(app.call("dashboard", &[]).await.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn logout_ends_the_server_side_session_even_if_the_cookie_is_kept() {
    each_app(|app| async move {
        // A client that handles the cookie by hand, as someone who copied it would.
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let post = |path: &str, cookie: Option<&str>| {
            let mut req = plain
                .post(app.url(path))
                .header("origin", &app.addr)
                .header("accept", "application/json");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            req
        };
        let res = post("/api/register", None)
            .form(&[
                ("email", unique_email().as_str()),
                ("phone", unique_phone().as_str()),
                ("password", "password123"),
            ])
            .send()
            .await
            .unwrap();
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("resayil_session="))
            .map(|c| c.split(';').next().unwrap_or("").to_owned())
            .expect("session cookie");
        assert_eq!(
            post("/api/dashboard", Some(&cookie))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        post("/api/logout", Some(&cookie)).send().await.unwrap();
        assert_eq!(
            post("/api/dashboard", Some(&cookie))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    })
    .await;
}

#[tokio::test]
async fn repeated_failed_logins_are_blocked() {
    each_app(|app| async move {
        let email = app.signed_in_user().await;
        app.call("logout", &[]).await;
        let mut last = None;
        for _ in 0..11 {
            let body: serde_json::Value =
                app.login(&email, "nope-nope").await.json().await.unwrap();
            last = Some(body["Field"]["code"].clone());
        }
        assert_eq!(last.unwrap(), "TooManyAttempts");
        // Even the right password is refused while blocked.
        let body: serde_json::Value = app.login(&email, "password123").await.json().await.unwrap();
        assert_eq!(body["Field"]["code"], "TooManyAttempts");
    })
    .await;
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    each_app(|app| async move {
        let res = app
            .client
            .post(app.url("/api/register"))
            .header("origin", "https://evil.example")
            .form(&[
                ("email", unique_email().as_str()),
                ("phone", unique_phone().as_str()),
                ("password", "password123"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("email", "a@b.com"), ("password", "password123")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
    })
    .await;
}
