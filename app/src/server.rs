//! Server-side helpers for server functions: reach the domain services, the caller's
//! session and IP, and turn domain errors into `AppError` with the right HTTP status.
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use domain::{accounts::Account, sessions, Services};
use http::{header, request::Parts, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::dto::{AppError, ErrorCode, KeyRow, Me};

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("domain::Services missing from the Leptos context");
        fail_status(StatusCode::INTERNAL_SERVER_ERROR);
        AppError::Server
    })
}

fn fail_status(status: StatusCode) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(if plain_form_post() {
            StatusCode::SEE_OTHER
        } else {
            status
        });
    }
}

/// A form posted by the browser itself (no JavaScript: the pages without islands, or an
/// island not yet hydrated). Its error goes back to the page it came from: the
/// server-function layer points `Location` there with the error in the query (which
/// `ServerAction` shows), and a redirect status makes the browser follow it — an error
/// status would leave the visitor on an empty page.
fn plain_form_post() -> bool {
    parts().is_some_and(|p| {
        p.method == http::Method::POST
            && p.headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
    })
}

/// Maps a domain error to what the caller may see, setting the response status.
/// Internal causes are logged here, once, and never sent.
pub fn fail(err: domain::Error) -> AppError {
    use domain::Error as E;
    let (status, app) = match err {
        E::Invalid { field, code } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Field {
                field: field.to_owned(),
                code,
            },
        ),
        E::Unauthorized => (StatusCode::UNAUTHORIZED, AppError::Unauthorized),
        E::Suspended => (
            StatusCode::FORBIDDEN,
            AppError::Refused(ErrorCode::AccountSuspended),
        ),
        E::NotFound => (StatusCode::NOT_FOUND, AppError::NotFound),
        E::PaymentProvider(cause) => {
            tracing::warn!(%cause, "payment provider refused or unreachable");
            (
                StatusCode::BAD_GATEWAY,
                AppError::Refused(ErrorCode::PaymentUnavailable),
            )
        }
        E::RateLimited { retry_after_secs } => {
            if let (Some(res), Ok(v)) = (
                use_context::<ResponseOptions>(),
                HeaderValue::from_str(&retry_after_secs.to_string()),
            ) {
                res.insert_header(header::RETRY_AFTER, v);
            }
            (
                StatusCode::TOO_MANY_REQUESTS,
                AppError::Refused(ErrorCode::TooManyRequests),
            )
        }
        E::PaymentsDisabled => (
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::Refused(ErrorCode::PaymentsDisabled),
        ),
        E::Refused(code) => {
            let status = match code {
                ErrorCode::InvitationExpired
                | ErrorCode::InvitationClosed
                | ErrorCode::AlreadyInTeam
                | ErrorCode::AlreadyInvited => StatusCode::CONFLICT,
                ErrorCode::TooManyInviteCodes => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::FORBIDDEN,
            };
            (status, AppError::Refused(code))
        }
        E::Conflict(what) => {
            tracing::info!(%what, "refused in the current state");
            (StatusCode::CONFLICT, AppError::Refused(ErrorCode::Conflict))
        }
        other => {
            tracing::error!(error = %other, "server function failed");
            (StatusCode::INTERNAL_SERVER_ERROR, AppError::Server)
        }
    };
    fail_status(status);
    app
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Option<String> {
    cookie(&parts()?, sessions::COOKIE)
}

/// Reads one cookie from the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name).map(str::to_owned)
}

/// Reads one cookie from request headers (also used by the server's middleware).
pub fn cookie_in<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The services and the signed-in account, or `Unauthorized` (HTTP 401).
///
/// Server functions take the request's context from here, before their first await. A
/// page's resources run their server functions in tasks of their own: when the visitor
/// leaves while the page renders, the page's owner and its context are dropped, and a
/// server function still running would find nothing after its next await
/// (`pages::a_page_left_while_it_renders_logs_no_error` in the server's API tests).
pub async fn signed_in() -> Result<(Services, Account), AppError> {
    let svc = services()?;
    let token = signed_in_token()?;
    let account = sessions::account(&svc.db, &token).await.map_err(fail)?;
    Ok((svc, account))
}

/// [`signed_in`] with the session (the account page marks "this device").
pub async fn signed_in_session(
) -> Result<(Services, domain::entities::session::Model, Account), AppError> {
    let svc = services()?;
    let token = signed_in_token()?;
    let (session, account) = sessions::current(&svc.db, &token).await.map_err(fail)?;
    Ok((svc, session, account))
}

/// [`signed_in`] for admins only: 401 without a session, 403 for others. The role is
/// read from the database on every call.
pub async fn signed_in_admin() -> Result<(Services, Account), AppError> {
    let (svc, account) = signed_in().await?;
    if account.role == domain::accounts::Role::Admin {
        Ok((svc, account))
    } else {
        fail_status(StatusCode::FORBIDDEN);
        Err(AppError::Refused(ErrorCode::Forbidden))
    }
}

fn signed_in_token() -> Result<String, AppError> {
    session_token().ok_or_else(|| {
        fail_status(StatusCode::UNAUTHORIZED);
        AppError::Unauthorized
    })
}

/// Where this request comes from, for the list of signed-in devices.
pub fn device(svc: &Services) -> sessions::Device {
    sessions::Device {
        ip: client_ip(svc),
        user_agent: parts()
            .and_then(|p| {
                p.headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .unwrap_or_default(),
    }
}

/// Remembers `lang` as this browser's page language (the `lang` cookie, as `?lang=` does).
pub fn set_lang_cookie(lang: crate::Lang) {
    let value = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        crate::Lang::COOKIE,
        lang.code()
    );
    if let (Some(res), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&value),
    ) {
        res.append_header(header::SET_COOKIE, v);
    }
}

/// Whether the request carries a `lang` cookie (an explicit choice on this browser).
pub fn has_lang_cookie() -> bool {
    parts().is_some_and(|p| cookie(&p, crate::Lang::COOKIE).is_some())
}

/// The caller's IP: the socket peer, or behind trusted proxies the address they saw
/// (`domain::throttle::forwarded_for`, `TRUSTED_PROXIES`).
pub fn client_ip(svc: &Services) -> String {
    let Some(parts) = parts() else {
        return "unknown".into();
    };
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
    else {
        return "unknown".into();
    };
    let forwarded = parts.headers.get_all("x-forwarded-for");
    domain::throttle::forwarded_for(
        peer,
        forwarded.iter().map(HeaderValue::as_bytes),
        &svc.proxies,
    )
    .to_string()
}

/// Sets (or with `None`, clears) the session cookie: HttpOnly, SameSite=Lax, Secure on https.
pub fn set_session_cookie(svc: &Services, token: Option<&str>) {
    let secure = if svc.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let value = match token {
        Some(t) => format!(
            "{}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            sessions::COOKIE,
            svc.settings.session_days * 86_400
        ),
        None => format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
            sessions::COOKIE
        ),
    };
    if let (Some(res), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&value),
    ) {
        res.append_header(header::SET_COOKIE, v);
    }
}

/// Where to go after login or registration: `next` when it is a path on this site
/// (`domain::validate::LocalPath`: no open redirect, never an invalid `Location` header),
/// otherwise the dashboard.
pub fn safe_next(next: Option<String>) -> String {
    next.as_deref()
        .and_then(domain::validate::LocalPath::parse)
        .map_or_else(|| "/dashboard".into(), |p| p.as_str().to_owned())
}

pub fn me(a: &Account) -> Me {
    Me {
        email: a.email.clone(),
        is_admin: a.role == domain::accounts::Role::Admin,
        plan: a.plan.clone(),
        plan_expires_at: a.plan_expires_at,
        credits: a.credits,
        phone_verified: a.phone_verified,
    }
}

pub fn key_row(k: domain::keys::KeyInfo) -> KeyRow {
    KeyRow {
        id: k.id,
        label: k.label,
        prefix: k.prefix,
        created_at: k.created_at,
        last_used_at: k.last_used_at,
        requests_30d: 0,
        credits_30d: 0,
    }
}
