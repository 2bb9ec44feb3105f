use crate::helpers::{each_app, user_id, ErrorLog, TestApp, ADMIN_PAGES};

#[tokio::test]
async fn private_pages_send_visitors_to_login_and_back() {
    each_app(|app| async move {
        for page in ["/dashboard", "/keys"] {
            let res = app.get(page).await;
            assert_eq!(res.status(), 303, "{page}");
            assert_eq!(res.headers()["location"], format!("/login?next={page}"));
        }
    })
    .await;
}

#[tokio::test]
async fn pages_carry_security_headers() {
    each_app(|app| async move {
        let res = app.get("/login").await;
        assert_eq!(res.status(), 200);
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("referrer-policy"));
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_owned();
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!("nonce=\"{nonce}\"")),
            "the hydration script carries the nonce"
        );
    })
    .await;
}

#[tokio::test]
async fn arabic_is_the_default_and_lang_switches_and_sticks() {
    each_app(|app| async move {
        let body = app.get("/register").await.text().await.unwrap();
        assert!(
            body.contains("<html lang=\"ar\" dir=\"rtl\""),
            "{}",
            &body[..200]
        );
        assert!(body.contains("البريد الإلكتروني"));

        let res = app
            .client
            .get(app.url("/register"))
            .header("accept-language", "en-US,en;q=0.9")
            .send()
            .await
            .unwrap();
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("<html lang=\"en\" dir=\"ltr\""));

        let body = app.get("/register?lang=en").await.text().await.unwrap();
        assert!(body.contains("<html lang=\"en\" dir=\"ltr\""));
        for label in [">Email<", ">Phone<", ">Password<"] {
            assert!(body.contains(label), "{label}");
        }
        // The cookie keeps the choice on the next page.
        let body = app.get("/login").await.text().await.unwrap();
        assert!(body.contains("<html lang=\"en\""));
        let body = app.get("/login?lang=ar").await.text().await.unwrap();
        assert!(body.contains("<html lang=\"ar\" dir=\"rtl\""));
    })
    .await;
}

#[tokio::test]
async fn unknown_pages_are_404_and_health_is_ok() {
    each_app(|app| async move {
        assert_eq!(app.get("/no-such-page").await.status(), 404);
        assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok");
    })
    .await;
}

#[tokio::test]
async fn only_pages_with_islands_load_scripts_and_wasm() {
    each_app(|app| async move {
        for page in ["/", "/no-such-page"] {
            let body = app.get(page).await.text().await.unwrap();
            assert!(!body.contains("<leptos-island"), "{page}");
            assert!(!body.contains(".wasm"), "{page} loads no wasm");
            assert!(!body.contains("modulepreload"), "{page} loads no script");
        }
        let body = app.get("/login").await.text().await.unwrap();
        assert!(
            body.contains("<leptos-island"),
            "the login form is an island"
        );
        assert!(
            body.contains(".wasm"),
            "and the page loads the islands' wasm"
        );
    })
    .await;
}

#[tokio::test]
async fn a_form_posted_without_javascript_comes_back_with_its_error() {
    each_app(|app| async move {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("origin", &app.addr)
            .header("accept", "text/html")
            .header("referer", app.url("/login?lang=en"))
            .form(&[
                ("email", "nobody@example.com"),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "a redirect the browser follows");
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&app.url("/login?lang=en")),
            "{location}"
        );
        let page = app.client.get(&location).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("Wrong email or password."));
    })
    .await;
}

/// Every signed-in page, a user's and an admin's, renders whole, and rendering it logs no
/// error.
#[tokio::test]
async fn signed_in_pages_render_without_an_error_logged() {
    each_app(|app| async move {
        let log = ErrorLog::capture();
        let user = app.signed_in_user().await;
        render_whole(&app, &USER_PAGES).await;
        let dashboard = app.get("/dashboard").await.text().await.unwrap();
        let (local, _) = user.split_once('@').unwrap();
        assert!(dashboard.contains(local), "the welcome names the account");
        assert!(dashboard.contains("data-testid=\"dashboard-keys\""));

        app.call("logout", &[]).await;
        app.signed_in_admin().await;
        render_whole(&app, &ADMIN_PAGES).await;
        let detail = format!("/admin/users/{}", user_id(&app, &user).await);
        render_whole(&app, &[detail.as_str()]).await;
        assert_eq!(log.errors(), Vec::<String>::new());
    })
    .await;
}

/// A visitor who leaves while a page renders (a tab closed, a navigation on before the
/// page arrived) drops the page's owner; the server functions its resources started still
/// run to their end, and must not lose the request's context on the way (they used to log
/// "domain::Services missing from the Leptos context" after their first database read).
#[tokio::test]
async fn a_page_left_while_it_renders_logs_no_error() {
    each_app(|app| async move {
        let log = ErrorLog::capture();
        app.signed_in_user().await;
        leave_each_early(&app, &USER_PAGES).await;
        leave_each_early(&app, &["/"]).await;
        app.call("logout", &[]).await;
        app.signed_in_admin().await;
        leave_each_early(&app, &ADMIN_PAGES).await;
        // What the dropped pages started finishes meanwhile.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(app.get("/dashboard").await.status(), 200);
        assert_eq!(log.errors(), Vec::<String>::new());
    })
    .await;
}

/// The pages of a signed-in customer.
const USER_PAGES: [&str; 7] = [
    "/dashboard",
    "/keys",
    "/usage",
    "/billing",
    "/account",
    "/team",
    "/playground",
];

/// Each page answers 200 with a whole document.
async fn render_whole(app: &TestApp, pages: &[&str]) {
    for page in pages {
        let res = app.get(page).await;
        assert_eq!(res.status(), 200, "{page}");
        assert!(res.text().await.unwrap().contains("</html>"), "{page}");
    }
}

/// Requests each page and drops the request at 40 moments of its render, from at once
/// to 10 ms in.
async fn leave_each_early(app: &TestApp, pages: &[&str]) {
    for page in pages {
        for wait_us in (0..40).map(|n| n * 250) {
            let wait = std::time::Duration::from_micros(wait_us);
            let _ = tokio::time::timeout(wait, app.get(page)).await;
        }
    }
}
