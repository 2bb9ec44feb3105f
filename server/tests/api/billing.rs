use crate::helpers::each_app;

#[tokio::test]
async fn a_webhook_with_a_missing_or_forged_signature_is_refused() {
    each_app(|app| async move {
        let body = r#"{"Event":{"Code":1,"Name":"PAYMENT_STATUS_CHANGED","CountryIsoCode":"KWT","CreationDate":"2026-11-25T10:00:00Z","Reference":"WH-1"},"Data":{"Invoice":{"Id":"1","Status":"PAID","ExternalIdentifier":"1"},"Transaction":{"Status":"SUCCESS","PaymentId":"0707"}}}"#;
        let res = app
            .client
            .post(app.url("/webhooks/myfatoorah"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = app
            .client
            .post(app.url("/webhooks/myfatoorah"))
            .header("content-type", "application/json")
            .header("myfatoorah-signature", "bm90LXRoZS1zaWduYXR1cmU=")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn the_test_gateway_credits_a_pack_once_and_shows_it_in_the_history() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let res = app
            .call(
                "billing/checkout",
                &[("item", "pack-5k"), ("method", "knet")],
            )
            .await;
        assert_eq!(res.status(), 200);
        let url: String = res.json().await.unwrap();
        let order: String = url.rsplit('/').next().unwrap().to_owned();
        assert!(url.starts_with("/billing/test-pay/"), "{url}");
        for _ in 0..3 {
            let res = app
                .call(
                    "billing/test-pay",
                    &[("order_id", &order), ("success", "true")],
                )
                .await;
            assert!(
                res.status().is_success() || res.status().is_redirection(),
                "{}",
                res.status()
            );
        }
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["credits"], 5100, "credited exactly once");
        let view: serde_json::Value = app.call("billing", &[]).await.json().await.unwrap();
        assert_eq!(view["orders"][0]["status"], "paid");
        assert_eq!(
            view["orders"][0]["amount"], "٥٫٠٠٠ د.ك",
            "Arabic is the default language"
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_items_and_other_peoples_orders_are_refused() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let res = app
            .call("billing/checkout", &[("item", "free-credits")])
            .await;
        assert_eq!(res.status(), 422);
        let (_, order) = app.checkout("pro").await;
        app.call("logout", &[]).await;
        app.signed_in_user().await;
        let res = app
            .call(
                "billing/test-pay",
                &[("order_id", &order), ("success", "true")],
            )
            .await;
        assert_eq!(res.status(), 404);
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["plan"], serde_json::Value::Null);
    })
    .await;
}

#[tokio::test]
async fn only_admins_see_every_order() {
    each_app(|app| async move {
        app.signed_in_user().await;
        assert_eq!(
            app.call("admin/orders", &[("page", "0")]).await.status(),
            403
        );
        // Admin pages render once their data is known, so the status is the refusal's.
        let page = app.get("/admin").await;
        assert_eq!(page.status(), 403);
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("هذا الإجراء للمسؤولين فقط"));
        assert_eq!(
            app.get("/admin/notifications").await.status(),
            403,
            "the outbox page too"
        );
    })
    .await;
}

#[tokio::test]
async fn after_a_pro_purchase_the_gateway_serves_pro_models_and_30_requests_a_minute() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let created: serde_json::Value = app
            .call("keys/create", &[("label", "api")])
            .await
            .json()
            .await
            .unwrap();
        let key = created["secret"].as_str().unwrap().to_owned();
        let api = reqwest::Client::new();
        let models = |key: String| {
            let api = api.clone();
            let url = app.url("/v1/models");
            async move { api.get(url).bearer_auth(key).send().await.unwrap() }
        };
        let ids = |v: &serde_json::Value| -> Vec<String> {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect()
        };
        // Used on Basic first, so any cache of the key has seen the old plan.
        let before: serde_json::Value = models(key.clone()).await.json().await.unwrap();
        assert!(!ids(&before).contains(&"deepseek-v3.2:cloud".to_owned()));

        let (_, order) = app.checkout("pro").await;
        app.call(
            "billing/test-pay",
            &[("order_id", &order), ("success", "true")],
        )
        .await;

        // The new plan applies within seconds on the API.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let res = models(key.clone()).await;
            let v: serde_json::Value = res.json().await.unwrap();
            if ids(&v).contains(&"deepseek-v3.2:cloud".to_owned()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Pro models never appeared"
            );
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        // The limit counts in one-minute windows: the burst starts a fresh one.
        app.clock.advance(std::time::Duration::from_secs(60));
        let first = models(key.clone()).await;
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["x-ratelimit-limit-requests"], "30");
        let remaining: u32 = first.headers()["x-ratelimit-remaining-requests"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        for _ in 0..remaining {
            assert_eq!(models(key.clone()).await.status(), 200);
        }
        let last = models(key.clone()).await.status();
        assert_eq!(last, 429, "the 31st request of the minute is refused");
    })
    .await;
}

#[tokio::test]
async fn a_myfatoorah_payment_is_confirmed_by_callback_and_signed_webhook_exactly_once() {
    crate::helpers::each_app_with_myfatoorah(|app, mf| async move {
        app.signed_in_user().await;
        let url: String = app
            .call(
                "billing/checkout",
                &[("item", "pack-5k"), ("method", "knet")],
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(
            url.contains("/pay/"),
            "redirect to the MyFatoorah payment page: {url}"
        );
        let invoice = mf
            .invoices()
            .into_iter()
            .map(|i| i.id)
            .max()
            .expect("an invoice");
        let payment_id = mf.pay(invoice).expect("paid");

        // The signed webhook and the browser callback both arrive; one credits.
        let hook = app.url("/webhooks/myfatoorah");
        assert_eq!(mf.send_webhook(&hook, invoice).await.unwrap(), 200);
        let res = app
            .call("billing/result", &[("payment_id", &payment_id)])
            .await;
        let view: serde_json::Value = res.json().await.unwrap();
        assert_eq!(view["status"], "paid");
        assert_eq!(
            mf.send_webhook(&hook, invoice).await.unwrap(),
            200,
            "a replay is a no-op"
        );
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["credits"], 5100);

        // With MyFatoorah configured, the local test gateway is closed.
        let (url, _) = app.checkout("pack-5k").await;
        assert!(!url.starts_with("/billing/test-pay/"));
        let order = app
            .call("billing", &[])
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["orders"][0]["id"]
            .to_string();
        let res = app
            .call(
                "billing/test-pay",
                &[("order_id", &order), ("success", "true")],
            )
            .await;
        assert!(res.status().is_client_error(), "{}", res.status());
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["credits"], 5100);
    })
    .await;
}

#[tokio::test]
async fn while_myfatoorah_is_down_the_customer_is_told_we_are_confirming_and_nothing_is_lost() {
    crate::helpers::each_app_with_myfatoorah(|app, mf| async move {
        app.signed_in_user().await;
        app.checkout("pack-5k").await;
        let invoice = mf
            .invoices()
            .into_iter()
            .map(|i| i.id)
            .max()
            .expect("an invoice");
        let payment_id = mf.pay(invoice).expect("paid");

        mf.set_status_mode(fake_myfatoorah::Mode::ServerError);
        let view: serde_json::Value = app
            .call("billing/result", &[("payment_id", &payment_id)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["status"], "confirming");
        let page = app
            .get(&format!("/billing/callback?paymentId={payment_id}&lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("We are confirming your payment"),
            "the page says so"
        );
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["credits"], 100, "nothing credited yet");
        let billing: serde_json::Value = app.call("billing", &[]).await.json().await.unwrap();
        assert_eq!(
            billing["orders"][0]["status"], "pending",
            "the order stays pending"
        );

        // MyFatoorah is back: the next confirmation credits the payment.
        mf.set_status_mode(fake_myfatoorah::Mode::Normal);
        let view: serde_json::Value = app
            .call("billing/result", &[("payment_id", &payment_id)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["status"], "paid");
        let me: serde_json::Value = app.call("dashboard", &[]).await.json().await.unwrap();
        assert_eq!(me["credits"], 5100);
    })
    .await;
}
