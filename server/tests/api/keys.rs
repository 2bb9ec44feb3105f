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

/// The dashboard's key list is rendered on the server only (no island): its "Yes, delete"
/// posts a plain form to the delete server function, which sends the browser back to the
/// dashboard; the key is gone from the list and refused by the API at once, and an error
/// comes back in the query and is shown above the list.
#[tokio::test]
async fn the_dashboard_deletes_a_key_without_javascript() {
    each_app(|app| async move {
        app.signed_in_user().await;
        let created: serde_json::Value = app
            .call("keys/create", &[("label", "dash")])
            .await
            .json()
            .await
            .unwrap();
        let secret = created["secret"].as_str().unwrap().to_owned();
        let id = created["row"]["id"].to_string();
        let models = || async {
            reqwest::Client::new()
                .get(app.url("/v1/models"))
                .bearer_auth(&secret)
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(models().await, 200);
        let page = app.get("/dashboard?lang=en").await.text().await.unwrap();
        assert!(page.contains(&secret[..12]), "the key is listed");
        assert!(
            page.contains(&format!("id=\"delete-key-{id}\"")),
            "its confirmation step"
        );
        assert!(page.contains("action=\"/api/keys/delete\""), "a plain form");
        assert!(
            !page.contains("KeyManager"),
            "no island for the dashboard's key list"
        );

        let post = |id: String| {
            let app = &app;
            async move {
                app.client
                    .post(app.url("/api/keys/delete"))
                    .header("origin", &app.addr)
                    .header("accept", "text/html")
                    .header("referer", app.url("/dashboard?lang=en"))
                    .form(&[("id", id.as_str())])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let res = post(id.clone()).await;
        assert!(
            res.status().is_redirection(),
            "a redirect the browser follows: {}",
            res.status()
        );
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, app.url("/dashboard?lang=en"));
        let page = app.get("/dashboard?lang=en").await.text().await.unwrap();
        assert!(!page.contains(&secret[..12]), "the key is gone");
        assert!(page.contains("data-testid=\"no-keys\""));
        assert_eq!(models().await, 401, "and refused at once");

        // Deleting it again: not found, shown on the dashboard it came back to.
        let res = post(id).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("__err="), "{location}");
        let page = app.client.get(&location).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Not found."));
    })
    .await;
}
