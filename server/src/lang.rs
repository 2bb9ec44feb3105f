//! Chooses the page language for each request (`locale::Lang::negotiate`: `?lang=`, else
//! the `lang` cookie, else `Accept-Language`) and remembers a `?lang=` choice in the cookie.
use app::Lang;
use axum::{extract::Request, middleware::Next, response::Response};
use http::{header, HeaderValue};

pub async fn choose(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(Lang::from_query);
    let lang = Lang::negotiate(
        req.uri().query(),
        app::server::cookie_in(req.headers(), Lang::COOKIE),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if let Some(l) = from_query {
        let cookie = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            Lang::COOKIE,
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
