//! The admin console over HTTP (issue 12): every admin server function and page refuses
//! non-admins with 403 and changes nothing; an adjustment shows in the ledger, the
//! balance, the audit log and `resayil user show`; bad input gets a clear field error.
use serde_json::Value;

use crate::helpers::{each_app, resayil, user_id, TestApp, ADMIN_PAGES};

async fn show(app: &TestApp, email: &str) -> Value {
    serde_json::from_str(&resayil(app, &["user", "show", "--email", email, "--json"]).await)
        .unwrap()
}

async fn json(app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> Value {
    let res = app.call(endpoint, form).await;
    assert_eq!(res.status(), 200, "{endpoint}");
    res.json().await.unwrap()
}

/// Every admin server function, with arguments that would change something.
fn calls(target: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let t = target.to_owned();
    vec![
        ("admin/overview", vec![]),
        (
            "admin/users",
            vec![
                ("q", String::new()),
                ("sort", String::new()),
                ("page", "0".into()),
            ],
        ),
        ("admin/user", vec![("id", t.clone())]),
        (
            "admin/users/adjust",
            vec![
                ("id", t.clone()),
                ("amount", "500".into()),
                ("reason", "x".into()),
            ],
        ),
        (
            "admin/users/suspend",
            vec![
                ("id", t.clone()),
                ("suspend", "true".into()),
                ("reason", "x".into()),
            ],
        ),
        (
            "admin/users/role",
            vec![
                ("id", t.clone()),
                ("role", "admin".into()),
                ("reason", "x".into()),
            ],
        ),
        (
            "admin/users/plan",
            vec![
                ("id", t),
                ("plan", "enterprise".into()),
                ("days", "30".into()),
                ("reason", "x".into()),
            ],
        ),
        ("admin/catalog", vec![]),
        (
            "admin/models/update",
            vec![
                ("id", "llama3.2:3b".into()),
                ("tier", "basic".into()),
                ("multiplier", "9".into()),
                ("kind", "local".into()),
                ("fallback", String::new()),
            ],
        ),
        (
            "admin/prices/update",
            vec![
                ("kind", "plan".into()),
                ("id", "pro".into()),
                ("price", "0.001".into()),
                ("credits", "1".into()),
            ],
        ),
        (
            "admin/budget/update",
            vec![("cap", "1".into()), ("warn_percent", "1".into())],
        ),
        (
            "admin/audit",
            vec![
                ("actor", String::new()),
                ("user", String::new()),
                ("action", String::new()),
                ("page", "0".into()),
            ],
        ),
        ("admin/orders", vec![("page", "0".into())]),
        (
            "admin/orders/mark-paid",
            vec![("order_id", "1".into()), ("reason", "x".into())],
        ),
        ("admin/notifications", vec![]),
        ("admin/notifications/resend", vec![("id", "1".into())]),
    ]
}

#[tokio::test]
async fn every_admin_function_and_page_refuses_others_and_changes_nothing() {
    each_app(|app| async move {
        // A customer whose account the calls aim at, and an admin to look afterwards.
        let victim = app.signed_in_user().await;
        app.call("logout", &[]).await;
        let admin = app.signed_in_admin().await;
        let id = user_id(&app, &victim).await;
        let catalog_before = json(&app, "admin/catalog", &[]).await;
        app.call("logout", &[]).await;

        // Nobody signed in: 401 from the functions, the login page for the pages.
        for (endpoint, form) in calls(&id) {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(app.call(endpoint, &form).await.status(), 401, "{endpoint}");
        }
        // A signed-in customer: 403 everywhere.
        let customer = app.signed_in_user().await;
        for (endpoint, form) in calls(&id) {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(app.call(endpoint, &form).await.status(), 403, "{endpoint}");
        }
        for page in ADMIN_PAGES {
            assert_eq!(app.get(page).await.status(), 403, "{page}");
        }
        let user_page = format!("/admin/users/{id}");
        assert_eq!(app.get(&user_page).await.status(), 403);
        // Nothing changed.
        let shown = show(&app, &victim).await;
        assert_eq!(shown["credits"], 100);
        assert_eq!(shown["role"], "user");
        assert_eq!(shown["plan"], Value::Null);
        assert_eq!(shown["suspended"], false);
        assert_eq!(show(&app, &customer).await["role"], "user");
        app.call("logout", &[]).await;
        app.login(&admin, "password123").await;
        assert_eq!(json(&app, "admin/catalog", &[]).await, catalog_before);
        let audit = json(
            &app,
            "admin/audit",
            &[("actor", ""), ("user", &id), ("action", ""), ("page", "0")],
        )
        .await;
        assert_eq!(audit["total"], 0, "{audit}");
        // The admin sees every page.
        for page in ADMIN_PAGES {
            assert_eq!(app.get(page).await.status(), 200, "{page}");
        }
        assert_eq!(app.get(&user_page).await.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn an_adjustment_shows_in_the_ledger_the_balance_the_audit_log_and_user_show() {
    each_app(|app| async move {
        let customer = app.signed_in_user().await;
        app.call("logout", &[]).await;
        let admin = app.signed_in_admin().await;
        let id = user_id(&app, &customer).await;

        // Bad input: a clear field error, nothing changed.
        for (amount, reason, field, code) in [
            ("250", "", "reason", "Required"),
            ("abc", "x", "amount", "NotAnInteger"),
            ("2.5", "x", "amount", "NotAnInteger"),
            ("-101", "x", "amount", "BelowZero"),
        ] {
            let res = app
                .call(
                    "admin/users/adjust",
                    &[("id", &id), ("amount", amount), ("reason", reason)],
                )
                .await;
            assert_eq!(res.status(), 422, "{amount} {reason}");
            let err: Value = res.json().await.unwrap();
            assert_eq!(err["Field"]["field"], field, "{err}");
            assert_eq!(err["Field"]["code"], code, "{err}");
        }
        assert_eq!(show(&app, &customer).await["credits"], 100);

        let res = app
            .call(
                "admin/users/adjust",
                &[("id", &id), ("amount", "+250"), ("reason", "SLA credit")],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap(), 350);
        let detail = json(&app, "admin/user", &[("id", &id)]).await;
        assert_eq!(detail["user"]["credits"], 350);
        assert_eq!(detail["ledger"][0]["delta"], 250);
        assert_eq!(detail["ledger"][0]["kind"], "adjustment");
        assert!(detail["ledger"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("SLA credit"));
        let audit = json(
            &app,
            "admin/audit",
            &[
                ("actor", &admin),
                ("user", &id),
                ("action", "credits.adjust"),
                ("page", "0"),
            ],
        )
        .await;
        assert_eq!(audit["total"], 1, "{audit}");
        assert_eq!(audit["rows"][0]["reason"], "SLA credit");
        assert_eq!(audit["rows"][0]["ip"], "127.0.0.1");
        assert_eq!(audit["rows"][0]["before"], r#"{"credits":100}"#);
        assert_eq!(show(&app, &customer).await["credits"], 350);

        // The same from the operator's command line, audited as `cli`.
        resayil(
            &app,
            &[
                "user",
                "credits",
                "--email",
                &customer,
                "--amount",
                "-50",
                "--reason",
                "refund reversed",
            ],
        )
        .await;
        assert_eq!(show(&app, &customer).await["credits"], 300);
        let audit = json(
            &app,
            "admin/audit",
            &[
                ("actor", "cli"),
                ("user", &id),
                ("action", ""),
                ("page", "0"),
            ],
        )
        .await;
        assert_eq!(audit["total"], 1, "{audit}");

        // The user page shows the balance and the ledger.
        let page = app.get(&format!("/admin/users/{id}?lang=en")).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("SLA credit"),
            "the ledger reason is on the page"
        );

        // A form posted without JavaScript comes back to its page, with the error.
        let res = app
            .client
            .post(app.url("/api/admin/users/adjust"))
            .header("origin", &app.addr)
            .header("accept", "text/html")
            .header("referer", app.url(&format!("/admin/users/{id}")))
            .form(&[("id", id.as_str()), ("amount", "x"), ("reason", "r")])
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        assert_eq!(show(&app, &customer).await["credits"], 300);
    })
    .await;
}

#[tokio::test]
async fn a_suspended_customer_is_signed_out_and_cannot_sign_in_until_reactivated() {
    each_app(|app| async move {
        let customer = app.signed_in_user().await;
        app.call("logout", &[]).await;
        app.signed_in_admin().await;
        let id = user_id(&app, &customer).await;
        let res = app
            .call(
                "admin/users/suspend",
                &[("id", &id), ("suspend", "true"), ("reason", "chargeback")],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(show(&app, &customer).await["suspended"], true);
        app.call("logout", &[]).await;
        let res = app.login(&customer, "password123").await;
        assert_eq!(res.status(), 422);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["Field"]["code"], "AccountSuspended", "{err}");
    })
    .await;
}

/// The overview's charts are the chart island (charming over ECharts, drawn in the
/// browser) with their numbers in a screen-reader table; the page loads ECharts and the
/// islands' wasm, under a CSP that still allows scripts only by nonce.
#[tokio::test]
async fn the_overview_draws_its_charts_with_the_chart_island() {
    each_app(|app| async move {
        app.signed_in_admin().await;
        for (lang, revenue, requests) in [
            (
                "en",
                "Revenue per day (KWD) by plan and pack",
                "Requests per day: local and cloud",
            ),
            (
                "ar",
                "الإيراد اليومي (د.ك) حسب الباقة والرصيد الإضافي",
                "الطلبات اليومية: محلي وسحابي",
            ),
        ] {
            let res = app.get(&format!("/admin?lang={lang}")).await;
            assert_eq!(res.status(), 200);
            let csp = res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
            assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
            let html = res.text().await.unwrap();
            assert_eq!(
                html.matches("<leptos-island").count(),
                2,
                "two chart islands"
            );
            assert!(html.contains("/echarts/echarts.min.js"), "ECharts loads");
            assert!(html.contains("/pkg/resayil.js"), "the islands' wasm loads");
            for (id, caption) in [("revenue-chart", revenue), ("requests-chart", requests)] {
                assert!(
                    html.contains(&format!("data-testid=\"chart-{id}\"")),
                    "{id}"
                );
                assert!(html.contains(&format!("<caption>{caption}")), "{caption}");
                // The section's heading names it; the caption says what is drawn — the
                // same words twice on the screen were the bug.
                assert!(!html.contains(&format!("<h2>{caption}")), "{caption} twice");
            }
            assert!(
                !html.contains("<svg class=\"chart\""),
                "no server-drawn chart"
            );
        }
        // The other admin pages stay without islands or ECharts.
        let html = app.get("/admin/models").await.text().await.unwrap();
        assert!(!html.contains("<leptos-island") && !html.contains("echarts"));
    })
    .await;
}

/// What a browser submits for one model's row of `/admin/models`: the row's controls that
/// belong to its form (a select without a selected option submits its first option; an
/// unchecked or disabled control submits nothing).
fn model_row_form(html: &str, model: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("<tr data-model=\"{model}\""))
        .unwrap_or_else(|| panic!("no row for {model}"));
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    let attr = |tag: &str, name: &str| {
        let key = format!(" {name}=\"");
        tag.find(&key).map(|i| {
            let rest = &tag[i + key.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
    };
    let has = |tag: &str, name: &str| {
        tag.split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .any(|w| w == name || w.starts_with(&format!("{name}=")))
    };
    let mut fields = Vec::new();
    for (i, _) in row.match_indices("<input") {
        let tag = &row[i..i + row[i..].find('>').unwrap()];
        if has(tag, "disabled") {
            continue;
        }
        let name = attr(tag, "name").unwrap();
        if attr(tag, "type").as_deref() == Some("checkbox") {
            if has(tag, "checked") {
                fields.push((name, "on".into()));
            }
        } else {
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
    }
    for (i, _) in row.match_indices("<select") {
        let end = i + row[i..].find("</select>").unwrap();
        let tag = &row[i..i + row[i..].find('>').unwrap()];
        if has(tag, "disabled") {
            continue;
        }
        let options: Vec<&str> = row[i..end]
            .match_indices("<option")
            .map(|(j, _)| &row[i + j..i + j + row[i + j..].find('>').unwrap()])
            .collect();
        let chosen = options
            .iter()
            .find(|o| has(o, "selected"))
            .or(options.first())
            .unwrap();
        fields.push((attr(tag, "name").unwrap(), attr(chosen, "value").unwrap()));
    }
    fields
}

fn tier_of(catalog: &Value, model: &str) -> Value {
    catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == model)
        .unwrap()["tier"]
        .clone()
}

/// Saving a model's row as the page submits it keeps what the admin did not change:
/// a disabled model keeps its tier when its multiplier is edited, and so does an enabled
/// one. (Catalog edits change shared tables: SQLite only, like the domain's tests.)
#[tokio::test]
async fn saving_a_models_row_keeps_the_tier_of_a_disabled_model() {
    each_app(|app| async move {
        if app.database_url.starts_with("postgres") {
            return;
        }
        app.signed_in_admin().await;
        let model = "llama3.2:3b";
        let save = |fields: Vec<(String, String)>| {
            let app = &app;
            async move {
                let form: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let res = app.call("admin/models/update", &form).await;
                assert_eq!(res.status(), 200, "{form:?}");
            }
        };
        for enabled in [false, true] {
            // The admin moves the model to Pro (and switches it off or on) …
            let html = app.get("/admin/models?lang=en").await.text().await.unwrap();
            let mut fields: Vec<(String, String)> = model_row_form(&html, model)
                .into_iter()
                .filter(|(k, _)| k != "tier" && k != "enabled")
                .collect();
            fields.push(("tier".into(), "pro".into()));
            if enabled {
                fields.push(("enabled".into(), "on".into()));
            }
            save(fields).await;
            let catalog = json(&app, "admin/catalog", &[]).await;
            assert_eq!(tier_of(&catalog, model), "pro");
            // … then edits only its multiplier on the page: the tier stays Pro.
            let html = app.get("/admin/models?lang=en").await.text().await.unwrap();
            let fields: Vec<(String, String)> = model_row_form(&html, model)
                .into_iter()
                .map(|(k, v)| {
                    if k == "multiplier" {
                        (k, "2".into())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            assert_eq!(
                fields.iter().any(|(k, _)| k == "enabled"),
                enabled,
                "{fields:?}"
            );
            save(fields).await;
            let catalog = json(&app, "admin/catalog", &[]).await;
            assert_eq!(tier_of(&catalog, model), "pro", "enabled: {enabled}");
            let row = catalog["models"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == model)
                .unwrap();
            assert_eq!(row["multiplier"], 2.0);
            assert_eq!(row["enabled"], enabled);
        }
    })
    .await;
}
