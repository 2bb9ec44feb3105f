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
        assert_eq!(me["credits"], 6000, "credited exactly once");
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
        let url: String = app
            .call("billing/checkout", &[("item", "pro")])
            .await
            .json()
            .await
            .unwrap();
        let order = url.rsplit('/').next().unwrap().to_owned();
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
        assert_eq!(
            app.get("/admin").await.status(),
            200,
            "the page renders its own refusal"
        );
    })
    .await;
}
