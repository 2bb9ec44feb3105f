//! Endpoints for services on the portal's own machines, not for browsers: under
//! `/internal/` (exempt from the same-origin check), each authenticated by its own shared
//! token.
//!
//! `POST /internal/fail2ban`: fail2ban's action (`deploy/fail2ban/action.d/
//! resayil-portal.conf`) reports a ban or unban. Header `X-Fail2ban-Token` (=
//! `FAIL2BAN_TOKEN`, compared in constant time; 401 otherwise); body JSON or form-encoded
//! `{event: "ban"|"unban", jail, ip, failures, time, bantime, user}`. A ban is stored and
//! queues the admins' WhatsApp alert (NOTIF-09); answers `{"recorded": bool}`.
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use domain::notify::bans::{self, Report};
use domain::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/internal/fail2ban", post(fail2ban))
        .with_state(services)
}

async fn fail2ban(State(svc): State<Services>, req: Request) -> Response {
    let token = req
        .headers()
        .get("x-fail2ban-token")
        .and_then(|v| v.to_str().ok());
    if !bans::token_matches(&svc.settings, token) {
        tracing::warn!("fail2ban report refused: wrong or missing token");
        return (StatusCode::UNAUTHORIZED, "wrong or missing token").into_response();
    }
    let report = match read_report(req).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    match bans::report(&svc.db, report).await {
        Ok(recorded) => Json(serde_json::json!({ "recorded": recorded })).into_response(),
        Err(domain::Error::Invalid { field, .. }) => {
            (StatusCode::BAD_REQUEST, format!("invalid {field}")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "fail2ban report not recorded");
            (StatusCode::INTERNAL_SERVER_ERROR, "not recorded").into_response()
        }
    }
}

/// The body as a form (what the shipped action sends: curl's `--data-urlencode` keeps
/// any user name intact) or as JSON.
async fn read_report(req: Request) -> Result<Report, Response> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        Form::<Report>::from_request(req, &())
            .await
            .map(|Form(r)| r)
            .map_err(IntoResponse::into_response)
    } else {
        Json::<Report>::from_request(req, &())
            .await
            .map(|Json(r)| r)
            .map_err(IntoResponse::into_response)
    }
}
