//! Request guards and response headers for the browser-facing site.
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use domain::Services;
use http::{header, HeaderValue, Method, StatusCode};

/// Paths that are not reached by browsers with our cookies: they carry their own
/// authentication (API keys, signatures, shared tokens).
const CROSS_SITE_ALLOWED: &[&str] = &["/v1/", "/webhooks/", "/internal/"];

/// Pages that need a session; visitors are sent to `/login?next=…` and come back after.
const PRIVATE_PAGES: &[&str] = &[
    "/dashboard",
    "/keys",
    "/billing",
    "/admin",
    "/usage",
    "/account",
    "/playground",
    "/team",
];

/// Refuses state-changing requests that a browser marks as coming from another site
/// (`Sec-Fetch-Site: cross-site`) or whose `Origin` is not this site (CSRF defence on top
/// of SameSite=Lax cookies).
pub async fn same_origin(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    if unsafe_method && !CROSS_SITE_ALLOWED.iter().any(|p| path.starts_with(p)) {
        let headers = req.headers();
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site");
        let origin_mismatch = match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
            (Some(origin), Some(host)) => {
                let origin = origin.to_str().unwrap_or("");
                let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
                origin == "null" || origin_host != host.to_str().unwrap_or("")
            }
            (Some(_), None) => true,
            _ => false,
        };
        if cross_site || origin_mismatch {
            tracing::warn!(path, "refused a cross-site request");
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

/// Gives the playground's chat (`gateway::Gateway::playground_router`) the signed-in
/// account of the session cookie; without a live session the gateway answers 401. Runs
/// behind [`same_origin`], so another site cannot make a signed-in browser spend credits.
pub async fn playground_session(
    State(svc): State<Services>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = app::server::cookie_in(req.headers(), domain::sessions::COOKIE).map(str::to_owned);
    if let Some(token) = token {
        match domain::sessions::account(&svc.db, &token).await {
            Ok(a) => {
                req.extensions_mut().insert(gateway::SessionAccount {
                    account_id: a.id,
                    plan: a.plan,
                    plan_expires_at: a.plan_expires_at,
                });
            }
            Err(domain::Error::Unauthorized) => {}
            Err(e) => {
                tracing::error!(error = %e, "playground: session not read");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
            }
        }
    }
    next.run(req).await
}

/// Sends visitors without a live session from private pages to the login page.
pub async fn login_wall(State(svc): State<Services>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let private = req.method() == Method::GET && is_private_page(path);
    if private {
        let token = app::server::cookie_in(req.headers(), domain::sessions::COOKIE);
        let live = match token {
            Some(t) => domain::sessions::account(&svc.db, t).await.is_ok(),
            None => false,
        };
        if !live {
            let target = req
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or(path);
            return Redirect::to(&format!("/login?next={}", encode(target))).into_response();
        }
    }
    next.run(req).await
}

/// Headers every response carries. Pages set their own Content-Security-Policy (with the
/// nonce of their hydration script); everything else gets a locked-down one. Answers that
/// belong to one signed-in user (private pages, every server function under `/api/`) are
/// `Cache-Control: no-store`, so no shared or back-button cache keeps them; over https
/// (`PUBLIC_BASE_URL`), `Strict-Transport-Security` keeps browsers on https.
pub async fn headers(State(svc): State<Services>, mut req: Request, next: Next) -> Response {
    let private = is_private(req.uri().path());
    let page_csp = app::PageCsp::default();
    req.extensions_mut().insert(page_csp.clone());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "referrer-policy",
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            page_csp.get().unwrap_or(HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'",
            )),
        );
    }
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if svc.settings.public_base_url.starts_with("https://") {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Private pages and every server function (their answers are the caller's data).
fn is_private(path: &str) -> bool {
    path.starts_with("/api/") || is_private_page(path)
}

fn is_private_page(path: &str) -> bool {
    PRIVATE_PAGES
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
