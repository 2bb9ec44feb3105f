use crate::helpers::{each_app, resayil, resayil_with_input, unique_email, unique_phone};

/// An admin made with the operator CLI, logged in through the real login endpoint.
async fn admin(app: &crate::helpers::TestApp) -> String {
    let email = app.signed_in_admin().await;
    let shown: serde_json::Value =
        serde_json::from_str(&resayil(app, &["user", "show", "--email", &email, "--json"]).await)
            .unwrap();
    assert_eq!(shown["role"], "admin");
    assert_eq!(shown["credits"], 100);
    email
}

#[tokio::test]
async fn an_admin_marks_a_pending_order_paid_with_a_reason_once() {
    each_app(|app| async move {
        // A customer starts a payment and never finishes it.
        let customer = app.signed_in_user().await;
        let (_, order) = app.checkout("pack-5k").await;
        app.call("logout", &[]).await;

        admin(&app).await;
        let page: serde_json::Value = app
            .call("admin/orders", &[("page", "0")])
            .await
            .json()
            .await
            .unwrap();
        let row = page["orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(order.as_str()))
            .expect("the admin sees the order")
            .clone();
        assert_eq!(row["status"], "pending");
        assert_eq!(row["account_email"], customer);

        let res = app
            .call(
                "admin/orders/mark-paid",
                &[
                    ("order_id", &order),
                    ("reason", "KNET receipt 1234 checked"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200);
        let again = app
            .call(
                "admin/orders/mark-paid",
                &[("order_id", &order), ("reason", "twice")],
            )
            .await;
        assert_eq!(again.status(), 409, "a paid order cannot be marked again");
        let shown: serde_json::Value = serde_json::from_str(
            &resayil(&app, &["user", "show", "--email", &customer, "--json"]).await,
        )
        .unwrap();
        assert_eq!(shown["credits"], 5100);
    })
    .await;
}

#[tokio::test]
async fn admins_see_the_notification_outbox_and_others_do_not() {
    each_app(|app| async move {
        app.signed_in_user().await;
        assert_eq!(app.call("admin/notifications", &[]).await.status(), 403);
        app.call("logout", &[]).await;
        admin(&app).await;
        // The welcome message of the registration above reaches the outbox (the worker
        // expands queued events within a few seconds).
        let phone_of = |v: &serde_json::Value| v["to"].as_str().unwrap_or("").to_owned();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let rows: serde_json::Value = app
                .call("admin/notifications", &[])
                .await
                .json()
                .await
                .unwrap();
            let welcome = rows
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "welcome" && !phone_of(r).is_empty());
            if welcome {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no welcome message in the outbox: {rows}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        let res = app
            .call("admin/notifications/resend", &[("id", "999999999")])
            .await;
        assert_eq!(res.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn the_cli_takes_passwords_on_standard_input_never_on_the_command_line() {
    each_app(|app| async move {
        let email = unique_email();
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_resayil"))
                .args(args)
                .env("DATABASE_URL", &app.database_url)
                .env("RUST_LOG", "warn")
                .output()
                .expect("run resayil")
        };
        let phone = unique_phone();
        let base = ["user", "create", "--email", &email, "--phone", &phone];
        let on_argv = run(&[&base[..], &["--password", "password123"]].concat());
        assert!(
            !on_argv.status.success(),
            "--password is no longer accepted"
        );
        let empty = run(&base);
        assert!(!empty.status.success(), "no password on standard input");
        assert!(String::from_utf8_lossy(&empty.stderr).contains("no password"));
        resayil_with_input(&app, &base, "a long passphrase\n").await;
        let res = app.login(&email, "a long passphrase").await;
        assert!(res.status().is_success() || res.status().is_redirection());
    })
    .await;
}
