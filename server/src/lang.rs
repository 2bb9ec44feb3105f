//! Chooses the page language for each request: `?lang=` (and remember it in the `lang`
//! cookie), else the `lang` cookie, else the browser's `Accept-Language`.
use app::Lang;
use axum::{extract::Request, middleware::Next, response::Response};
use http::{header, HeaderValue};

pub async fn choose(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("lang="))
            .and_then(Lang::from_code)
    });
    let from_cookie = || app::server::cookie_in(req.headers(), "lang").and_then(Lang::from_code);
    let lang = from_query.or_else(from_cookie).unwrap_or_else(|| {
        Lang::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        )
    });
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if let Some(l) = from_query {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", l.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
