use crate::helpers::each_app;

#[tokio::test]
async fn a_key_is_shown_once_then_listed_by_its_first_12_characters() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let res = app.call("keys/create", &[("label", "production")]).await;
        assert_eq!(res.status(), 200);
        let created: serde_json::Value = res.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("rsl_"));
        let list: serde_json::Value = app.call("keys", &[]).await.json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["prefix"], secret[..12]);
        assert_eq!(list[0]["label"], "production");
        assert!(
            !list.to_string().contains(&secret[12..]),
            "the list leaks the secret"
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_a_key_removes_it_and_others_keys_are_out_of_reach() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let created: serde_json::Value = app
            .call("keys/create", &[("label", "ci")])
            .await
            .json()
            .await
            .unwrap();
        let id = created["row"]["id"].to_string();
        app.call("logout", &[]).await;
        app.signed_in_user().await;
        assert_eq!(app.call("keys/delete", &[("id", &id)]).await.status(), 404);
        assert_eq!(
            app.call("keys/delete", &[("id", "not-a-number")])
                .await
                .status()
                .as_u16()
                / 100,
            4
        );
        app.call("logout", &[]).await;
        assert_eq!(app.call("keys/delete", &[("id", &id)]).await.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn labels_are_validated() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let res = app.call("keys/create", &[("label", "   ")]).await;
        assert_eq!(res.status(), 422);
        let long = "x".repeat(100);
        let body: serde_json::Value = app
            .call("keys/create", &[("label", &long)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["Field"]["code"], "TooLong");
        let html = "<img src=x onerror=alert(1)>";
        let created: serde_json::Value = app
            .call("keys/create", &[("label", html)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            created["row"]["label"], html,
            "stored as text; the page escapes it"
        );
        let page = app.get("/keys").await.text().await.unwrap();
        assert!(
            !page.contains("<img src=x"),
            "labels must be escaped in the page"
        );
    })
    .await;
}

#[tokio::test]
async fn private_server_functions_answer_401_without_a_session() {
    each_app(|app| async move {
        for endpoint in ["dashboard", "keys", "keys/create", "keys/delete"] {
            let res = app.call(endpoint, &[("label", "x"), ("id", "1")]).await;
            assert_eq!(res.status(), 401, "{endpoint}");
        }
    })
    .await;
}
