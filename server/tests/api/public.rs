//! The public pages (landing page, docs), what search engines read (robots.txt, sitemap,
//! hreflang), and the `/v1` OpenAPI spec checked against real answers.
use domain::catalog::{Catalog, Model, ModelKind};

use crate::helpers::{api_key, each_app, each_app_with, each_app_with_ollama};

const BASE: &str = "https://llm.example.test";

fn denied() -> Vec<String> {
    Catalog::builtin().denied_models
}

async fn page(app: &crate::helpers::TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.expect("body")
}

/// The text of the element with `id`, HTML entities undone (what a visitor copies).
fn code_of(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    let rest = &rest[rest.find('>').map(|i| i + 1).unwrap_or(0)..];
    let end = rest.find("</code>").expect("end of code");
    rest[..end]
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn the_landing_page_shows_the_catalog_of_the_database_at_each_request() {
    each_app_with(
        |mut s| {
            s.public_base_url = format!("{BASE}/");
            s
        },
        |app| async move {
            let en = page(&app, "/?lang=en").await;
            assert!(en.contains("<html lang=\"en\" dir=\"ltr\""), "{en}");
            for text in [
                "5.000 KWD",
                "15.000 KWD",
                "45.000 KWD",
                "12.000 KWD",
                "35.000 KWD",
            ] {
                assert!(en.contains(text), "{text}");
            }
            for model in ["llama3.2:3b", "qwen3.5:cloud", "all-minilm"] {
                assert!(en.contains(model), "{model}");
            }
            let ar = page(&app, "/?lang=ar").await;
            assert!(ar.contains("<html lang=\"ar\" dir=\"rtl\""));
            assert!(ar.contains("١٥٫٠٠٠ د.ك"), "Arabic prices");
            // Code examples use PUBLIC_BASE_URL.
            for id in ["ex-curl", "ex-python", "ex-js"] {
                assert!(code_of(&en, id).contains(&format!("{BASE}/v1")), "{id}");
            }
            // Findable: canonical, alternates that switch language, Open Graph; no wasm.
            for tag in [
                format!("<link href=\"{BASE}/?lang=en\" rel=\"canonical\">"),
                format!("<link href=\"{BASE}/?lang=ar\" hreflang=\"ar\" rel=\"alternate\">"),
                format!("<link href=\"{BASE}/\" hreflang=\"x-default\" rel=\"alternate\">"),
                "property=\"og:title\"".to_owned(),
                "name=\"description\"".to_owned(),
            ] {
                assert!(en.contains(&tag), "{tag}");
            }
            assert!(!en.contains(".wasm") && !en.contains("/pkg/resayil.js"));

            if app.database_url.starts_with("sqlite") {
                // An admin changes a price, adds a model and (wrongly) puts a restricted
                // model into a plan: the next request shows the first two, never the third.
                let db = domain::db::connect(&app.database_url).await.expect("db");
                let mut c = Catalog::builtin();
                c.plans[1].price_fils = 17_250;
                for id in ["brand-new:7b", "bge-m3"] {
                    c.plans[0].models.push(id.into());
                    c.models.push(Model {
                        id: id.into(),
                        kind: ModelKind::Local,
                        multiplier: Some(1.5),
                        cloud_fallback: None,
                        embedding: false,
                        context_tokens: None,
                        max_output_tokens: None,
                    });
                }
                domain::catalog::sync(&db, &c).await.expect("sync");
                let en = page(&app, "/?lang=en").await;
                assert!(en.contains("17.250 KWD") && !en.contains("15.000 KWD"));
                assert!(en.contains("brand-new:7b"));
                assert!(en.contains("×1.5"), "multiplier shown");
                let docs = page(&app, "/docs?lang=en").await;
                assert!(docs.contains("brand-new:7b") && docs.contains("17.250 KWD"));
                for body in [&en, &docs] {
                    assert!(!body.contains("bge-m3"));
                }
            }
            let spec = page(&app, "/openapi.json").await;
            for path in ["/", "/?lang=en", "/docs", "/docs?lang=en"] {
                let body = page(&app, path).await;
                for id in denied() {
                    assert!(!body.contains(&id), "{id} on {path}");
                    assert!(!spec.contains(&id), "{id} in the spec");
                }
            }
        },
    )
    .await;
}

#[tokio::test]
async fn the_call_to_action_keeps_the_language_and_a_signed_in_visitor_goes_to_the_dashboard() {
    each_app(|app| async move {
        for lang in ["ar", "en"] {
            let html = page(&app, &format!("/?lang={lang}")).await;
            let href = format!("href=\"/register?lang={lang}\"");
            assert!(html.contains(&href), "{href}");
            let register = page(&app, &format!("/register?lang={lang}")).await;
            assert!(register.contains(&format!("<html lang=\"{lang}\"")));
        }
        app.signed_in_user().await;
        let html = page(&app, "/?lang=en").await;
        assert!(html.contains("Go to dashboard"));
        assert!(!html.contains("href=\"/register?lang=en\" class=\"button\""));
    })
    .await;
}

#[tokio::test]
async fn robots_sitemap_and_docs_are_served() {
    each_app_with(
        |mut s| {
            s.public_base_url = BASE.into();
            s
        },
        |app| async move {
            let robots = page(&app, "/robots.txt").await;
            assert!(robots.contains(&format!("Sitemap: {BASE}/sitemap.xml")));
            assert!(robots.contains("Disallow: /api/"));
            let sitemap = page(&app, "/sitemap.xml").await;
            assert!(sitemap.contains(&format!("<loc>{BASE}/docs?lang=ar</loc>")));
            assert!(sitemap.contains("hreflang=\"en\""));
            for lang in ["ar", "en"] {
                let docs = page(&app, &format!("/docs?lang={lang}")).await;
                assert!(docs.contains("href=\"/openapi.json\""));
                for code in [
                    "insufficient_credits",
                    "model_not_in_plan",
                    "cloud_budget_exhausted",
                    "x-ratelimit-remaining-requests",
                ] {
                    assert!(docs.contains(code), "{code} in /docs?lang={lang}");
                }
            }
            for path in ["/favicon.svg", "/copy.js", "/fonts/plex-arabic-400.woff2"] {
                // Served by the site's file handler (present after `cargo leptos build`);
                // the API tests run without the site folder, so only a non-5xx is checked.
                assert!(app.get(path).await.status().as_u16() < 500, "{path}");
            }
        },
    )
    .await;
}

fn python() -> String {
    std::env::var("RESAYIL_SDK_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn real_answers_match_the_openapi_spec_and_the_page_examples_run() {
    each_app_with_ollama(
        |mut s| {
            s.public_base_url = BASE.into();
            s
        },
        |app| async move {
            let enterprise = api_key(&app, &["--plan", "enterprise", "--credits", "1000"]).await;
            let basic = api_key(&app, &["--plan", "basic"]).await;
            let broke = api_key(&app, &["--credits", "0"]).await;
            let html = page(&app, "/?lang=en").await;
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join("curl.sh"), code_of(&html, "ex-curl")).unwrap();
            std::fs::write(dir.path().join("python.py"), code_of(&html, "ex-python")).unwrap();
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/openapi_check.py");
            let out = tokio::process::Command::new(python())
                .arg(script)
                .env("RESAYIL_ADDR", &app.addr)
                .env("PUBLIC_BASE_URL", BASE)
                .env("KEY_ENTERPRISE", &enterprise)
                .env("KEY_BASIC", &basic)
                .env("KEY_BROKE", &broke)
                .env("EXAMPLES_DIR", dir.path())
                .output()
                .await
                .expect("run python (make test creates the virtualenv with jsonschema)");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "spec checks failed:\n{stdout}\n{stderr}"
            );
            assert!(stdout.contains("answers match the spec"), "{stdout}");
        },
    )
    .await;
}

/// The gateway's routes are merged into the site's router (not nested): through the whole
/// server, any other path under `/v1` is still the API's JSON 404 after the key check,
/// never the site's HTML page, and the site keeps its own 404 page.
#[tokio::test]
async fn unknown_paths_under_v1_are_api_404s_and_elsewhere_the_site_page() {
    each_app(|app| async move {
        let key = api_key(&app, &["--plan", "basic", "--credits", "10"]).await;
        let api = reqwest::Client::new();
        for path in [
            "/v1",
            "/v1/",
            "/v1/completions",
            "/v1/models-x",
            "/v1/a/b/c",
        ] {
            let res = api
                .get(app.url(path))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{path}");
            assert!(res.headers().contains_key("x-request-id"), "{path}");
            let body: serde_json::Value = res.json().await.expect(path);
            assert_eq!(body["error"]["code"], "unknown_url", "{path}");
            let res = api.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 401, "{path}");
        }
        let page = api.get(app.url("/no-such-page")).send().await.unwrap();
        assert_eq!(page.status(), 404);
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    })
    .await;
}
