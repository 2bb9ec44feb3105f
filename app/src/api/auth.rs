//! Server functions of registration, login, logout and "who is signed in".
use leptos::prelude::*;

use crate::dto::{AppError, Me};
#[cfg(feature = "ssr")]
use crate::server::*;

#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    email: String,
    phone: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let svc = services()?;
    let lang = crate::request_lang();
    let ip = client_ip(&svc);
    let account = domain::accounts::register_from(
        &svc,
        domain::accounts::NewAccount {
            email: &email,
            phone: &phone,
            password: &password,
            lang: lang.code(),
        },
        &ip,
    )
    .await
    .map_err(fail)?;
    sign_in(&svc, &account, next).await
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let svc = services()?;
    let ip = client_ip(&svc);
    let account = domain::accounts::authenticate(&svc, &email, &password, &ip)
        .await
        .map_err(fail)?;
    sign_in(&svc, &account, next).await
}

/// Starts a session for `account` (noting this device) and sends the browser on to `next`
/// (this site only). A browser without a language choice of its own gets the account's
/// preferred language.
#[cfg(feature = "ssr")]
pub(crate) async fn sign_in(
    svc: &domain::Services,
    account: &domain::accounts::Account,
    next: Option<String>,
) -> Result<(), AppError> {
    let token =
        domain::sessions::create_on(&svc.db, account.id, svc.settings.session_days, &device(svc))
            .await
            .map_err(fail)?;
    set_session_cookie(svc, Some(&token));
    if !has_lang_cookie() {
        if let Some(lang) = crate::Lang::from_code(&account.lang) {
            set_lang_cookie(lang);
        }
    }
    leptos_axum::redirect(&safe_next(next));
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let svc = services()?;
    if let Some(token) = session_token() {
        domain::sessions::revoke(&svc.db, &token)
            .await
            .map_err(fail)?;
    }
    set_session_cookie(&svc, None);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or `None` for visitors.
#[server(prefix = "/api", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let svc = services()?;
    let Some(token) = session_token() else {
        return Ok(None);
    };
    match domain::sessions::account(&svc.db, &token).await {
        Ok(a) => Ok(Some(me(&a))),
        Err(domain::Error::Unauthorized) => Ok(None),
        Err(e) => Err(fail(e)),
    }
}
