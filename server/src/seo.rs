//! What search engines and tools read besides the pages: `robots.txt`, `sitemap.xml`
//! (each public page in both languages, with its `hreflang` alternates) and the `/v1`
//! OpenAPI spec at `/openapi.json` (generated from the gateway's types, `gateway::openapi`).
use axum::{extract::State, response::IntoResponse, routing::get, Router};
use domain::Services;
use http::{header, HeaderValue};

/// The public pages, in the sitemap in both languages.
const PUBLIC_PAGES: &[&str] = &["/", "/docs", "/register", "/login"];

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/robots.txt", get(robots))
        .route("/sitemap.xml", get(sitemap))
        .route("/openapi.json", get(openapi))
        .with_state(services)
}

fn base(svc: &Services) -> &str {
    svc.settings.public_base_url.trim_end_matches('/')
}

async fn robots(State(svc): State<Services>) -> impl IntoResponse {
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /v1/\nDisallow: /dashboard\nDisallow: /keys\nDisallow: /billing\nDisallow: /admin\nSitemap: {}/sitemap.xml\n",
        base(&svc)
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
}

async fn sitemap(State(svc): State<Services>) -> impl IntoResponse {
    let base = xml_escape(base(&svc));
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for page in PUBLIC_PAGES {
        for lang in ["ar", "en"] {
            out.push_str(&format!(
                "  <url>\n    <loc>{base}{page}?lang={lang}</loc>\n"
            ));
            for alt in ["ar", "en"] {
                out.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{alt}\" href=\"{base}{page}?lang={alt}\"/>\n"
                ));
            }
            out.push_str(&format!(
                "    <xhtml:link rel=\"alternate\" hreflang=\"x-default\" href=\"{base}{page}\"/>\n  </url>\n"
            ));
        }
    }
    out.push_str("</urlset>\n");
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        )],
        out,
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `/v1` spec (OpenAPI 3.1) with `PUBLIC_BASE_URL` as its server. Built from the
/// gateway's types; the only model ids it names are the examples of the `model` fields: a
/// local chat model and an embedding model of the lowest plan, read from the catalog tables
/// (never a restricted one), so clients and schema-driven testers can make a real call.
async fn openapi(State(svc): State<Services>) -> impl IntoResponse {
    let mut doc =
        serde_json::to_value(gateway::openapi::spec(base(&svc))).unwrap_or(serde_json::Value::Null);
    if let Ok(catalog) = domain::catalog::Catalog::load(&svc.db).await {
        let models = catalog.models_for_plan(catalog.lowest_plan());
        let chat = models
            .iter()
            .find(|m| !m.embedding && m.kind == domain::catalog::ModelKind::Local);
        let embedding = models.iter().find(|m| m.embedding);
        for (schema, model) in [
            ("ChatCompletionRequest", chat),
            ("EmbeddingRequest", embedding),
        ] {
            let field = doc
                .pointer_mut(&format!("/components/schemas/{schema}/properties/model"))
                .and_then(serde_json::Value::as_object_mut);
            if let (Some(m), Some(field)) = (model, field) {
                field.insert("examples".into(), serde_json::json!([m.id]));
            }
        }
    }
    let body = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
}
