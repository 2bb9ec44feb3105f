//! Usage data (issue 11): calls made with the official OpenAI Python SDK are found again in
//! the dashboard chart's series, the usage page (table and per-model summary) and the CSV
//! export; bad filters get a clear message, never a 500; nobody sees another's usage.
use std::time::Duration;

use reqwest::{redirect::Policy, Client, Response};

use crate::helpers::{
    each_app_with_ollama, resayil, resayil_with_input, unique_email, unique_phone, TestApp,
};

/// Another browser on the same app: its own cookies.
struct Visitor {
    addr: String,
    client: Client,
}

impl Visitor {
    fn of(app: &TestApp) -> Self {
        let client = Client::builder()
            .redirect(Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        Self {
            addr: app.addr.clone(),
            client,
        }
    }

    async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.addr))
            .send()
            .await
            .unwrap()
    }

    async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.addr))
            .header("origin", &self.addr)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

fn python() -> String {
    std::env::var("RESAYIL_SDK_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A Kuwait date `days` from today, `YYYY-MM-DD`.
fn kuwait_date(days: i64) -> String {
    let kuwait = domain::time::now() + 3 * 3600 + days * 86_400;
    domain::usage_report::iso8601(kuwait)[..10].to_owned()
}

/// The chart's series for `period` as JSON.
async fn series(app: &TestApp, period: &str) -> serde_json::Value {
    let res = app.call("usage_series", &[("period", period)]).await;
    series_of(res, period).await
}

async fn series_of(res: Response, period: &str) -> serde_json::Value {
    assert_eq!(res.status(), 200, "usage_series {period}");
    res.json().await.unwrap()
}

fn sum(models: &serde_json::Value, field: &str) -> i64 {
    models
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m[field].as_array().unwrap().iter())
        .map(|v| v.as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn sdk_calls_show_up_in_the_chart_the_table_the_summary_and_the_csv() {
    each_app_with_ollama(std::convert::identity, |app| async move {
        let email = unique_email();
        let phone = unique_phone();
        resayil_with_input(
            &app,
            &[
                "user",
                "create",
                "--email",
                &email,
                "--phone",
                &phone,
                "--plan",
                "enterprise",
                "--credits",
                "1000",
            ],
            "password123\n",
        )
        .await;
        let key = resayil(
            &app,
            &["key", "create", "--email", &email, "--label", "مفتاح-sdk"],
        )
        .await;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/usage_calls.py");
        let out = tokio::process::Command::new(python())
            .arg(script)
            .env("RESAYIL_BASE_URL", format!("{}/v1", app.addr))
            .env("KEY", &key)
            .output()
            .await
            .expect("run python (make test creates the virtualenv with the openai SDK)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "SDK calls failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let calls: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        let ok: Vec<String> = serde_json::from_value(calls["ok"].clone()).unwrap();
        let refused: Vec<String> = serde_json::from_value(calls["refused"].clone()).unwrap();
        assert_eq!((ok.len(), refused.len()), (3, 1));

        let login = app.login(&email, "password123").await;
        assert!(login.status().is_success(), "{}", login.status());
        // The rows are written in batches a moment after the answers.
        let mut day = serde_json::Value::Null;
        for _ in 0..100 {
            day = series(&app, "day").await;
            if sum(&day["models"], "requests") >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let show: serde_json::Value = serde_json::from_str(
            &resayil(&app, &["user", "show", "--email", &email, "--json"]).await,
        )
        .unwrap();
        let spent = 1000 - show["credits"].as_i64().unwrap();
        assert!(spent > 0);

        // The chart: every request (the refused one too) and exactly the credits spent.
        assert_eq!(day["period"], "Day");
        assert_eq!(day["starts"].as_array().unwrap().len(), 24);
        assert_eq!(sum(&day["models"], "requests"), 4, "{day}");
        assert_eq!(sum(&day["models"], "credits"), spent, "{day}");
        let models: Vec<&str> = day["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["model"].as_str().unwrap())
            .collect();
        assert!(models.contains(&"llama3.2:3b"), "{models:?}");
        assert!(models.contains(&"no-such-model"), "{models:?}");
        for period in ["week", "month"] {
            let s = series(&app, period).await;
            assert_eq!(sum(&s["models"], "requests"), 4, "{period}");
            assert_eq!(sum(&s["models"], "credits"), spent, "{period}");
        }
        let bad = app.call("usage_series", &[("period", "year")]).await;
        assert!(bad.status().is_client_error(), "{}", bad.status());

        // The usage page: every request as a row, the summary per model.
        let page = app.get("/usage?lang=en").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        for id in ok.iter().chain(&refused) {
            assert!(
                html.contains(&format!("data-request-id=\"{id}\"")),
                "{id} missing"
            );
        }
        assert!(html.contains("مفتاح-sdk"), "the key label");
        assert!(html.contains("data-model=\"llama3.2:3b\""), "summary row");
        assert!(html.contains("data-testid=\"usage-total\">4<"), "total");
        // Filters: status, model, and a page past the end.
        let errors = app
            .get("/usage?lang=en&status=error")
            .await
            .text()
            .await
            .unwrap();
        assert!(errors.contains(&format!("data-request-id=\"{}\"", refused[0])));
        assert!(!errors.contains(&format!("data-request-id=\"{}\"", ok[0])));
        let model = app
            .get("/usage?lang=en&model=llama3.2%3A3b")
            .await
            .text()
            .await
            .unwrap();
        assert!(model.contains("data-testid=\"usage-total\">3<"));
        for bad in [
            "/usage?from=2026-02-30",
            "/usage?from=yesterday",
            "/usage?from=2026-11-29&to=2026-01-01",
            "/usage?from=2000-01-01&to=2026-01-01",
            "/usage?key=999999999",
            "/usage?key=abc",
            "/usage?status=maybe",
            "/usage?page=0",
            "/usage?page=99",
            "/usage?page=-1",
        ] {
            let res = app.get(&format!("{bad}&lang=en")).await;
            assert_eq!(res.status(), 200, "{bad}");
            let body = res.text().await.unwrap();
            assert!(body.contains("data-testid=\"usage-problem\""), "{bad}");
        }

        // The CSV: a header, the four requests, ISO-8601 times, a name with the range.
        let csv = app.get("/usage/export.csv").await;
        assert_eq!(csv.status(), 200);
        assert_eq!(
            csv.headers()["content-type"].to_str().unwrap(),
            "text/csv; charset=utf-8"
        );
        let disposition = csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            disposition,
            format!(
                "attachment; filename=\"resayil-usage-{}_{}.csv\"",
                kuwait_date(-29),
                kuwait_date(0)
            )
        );
        let body = csv.text().await.unwrap();
        let lines: Vec<&str> = body.lines().collect();
        assert!(lines[0].starts_with("time,request_id,key_id,key_label,"));
        assert_eq!(lines.len(), 5, "{body}");
        for id in ok.iter().chain(&refused) {
            assert!(body.contains(id.as_str()), "{id} not in the CSV");
        }
        assert!(body.contains("مفتاح-sdk"));
        let credits: i64 = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(10).unwrap().parse::<i64>().unwrap())
            .sum();
        assert_eq!(credits, spent);
        assert!(lines[1].split(',').next().unwrap().ends_with('Z'));
        let refused_only = app
            .get("/usage/export.csv?status=error")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(refused_only.lines().count(), 2);
        let bad = app.get("/usage/export.csv?from=nope&lang=en").await;
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("not valid"));

        // Someone else sees none of it; nobody signed in gets nothing.
        let other = Visitor::of(&app);
        let res = other
            .call(
                "register",
                &[
                    ("email", unique_email().as_str()),
                    ("phone", unique_phone().as_str()),
                    ("password", "password123"),
                ],
            )
            .await;
        assert!(res.status().is_success() || res.status().is_redirection());
        let theirs = series_of(
            other.call("usage_series", &[("period", "day")]).await,
            "day",
        )
        .await;
        assert_eq!(sum(&theirs["models"], "requests"), 0);
        let their_csv = other.get("/usage/export.csv").await.text().await.unwrap();
        assert_eq!(their_csv.lines().count(), 1);
        let their_page = other.get("/usage").await.text().await.unwrap();
        assert!(!their_page.contains(&ok[0]));
        let anonymous = Visitor::of(&app);
        let res = anonymous.get("/usage/export.csv").await;
        assert!(res.status().is_redirection(), "{}", res.status());
        let res = anonymous.call("usage_series", &[("period", "day")]).await;
        assert_eq!(res.status(), 401);
        let res = anonymous.call("usage_table", &[]).await;
        assert!(res.status().is_client_error(), "{}", res.status());
    })
    .await;
}
