//! Server functions of account self-service: forgotten password (`/forgot`, `/reset`),
//! the account page (`/account`: profile, e-mail and phone, phone verification, password,
//! signed-in devices). The pages post their forms without JavaScript: on success each
//! function redirects (to the next page, or back with `?done=…`), an error goes back to
//! the form (`crate::server`).
use leptos::prelude::*;

use crate::dto::{AccountView, AppError};
#[cfg(feature = "ssr")]
use crate::server::*;

/// Percent-encodes a query value.
#[cfg(feature = "ssr")]
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/forgot`: asks for a reset code by e-mail or phone. The answer is the same for every
/// well-formed identifier, known or not: the code is sent (if there is an account) in the
/// background, and the browser goes on to `/reset`.
#[server(prefix = "/api", endpoint = "forgot")]
pub async fn forgot(identifier: String) -> Result<(), AppError> {
    let svc = services()?;
    let ip = client_ip(&svc);
    let request = domain::recovery::request_reset(&svc, &identifier, &ip)
        .await
        .map_err(fail)?;
    let bg = svc.clone();
    tokio::spawn(async move {
        if let Err(e) = request.send(&bg).await {
            tracing::error!(error = %e, "password reset code not queued");
        }
    });
    leptos_axum::redirect(&format!("/reset?to={}", encode(identifier.trim())));
    Ok(())
}

/// `/reset`: the code from WhatsApp and a new password. Every other session ends; this
/// browser is signed in anew.
#[server(prefix = "/api", endpoint = "reset")]
pub async fn reset(identifier: String, code: String, password: String) -> Result<(), AppError> {
    let svc = services()?;
    let ip = client_ip(&svc);
    let account = domain::recovery::reset_password(&svc, &identifier, &code, &password, &ip)
        .await
        .map_err(fail)?;
    super::auth::sign_in(&svc, &account, Some("/dashboard?done=reset".into())).await
}

/// The account page's data; 401 without a session.
#[server(prefix = "/api", endpoint = "account")]
pub async fn my_account() -> Result<AccountView, AppError> {
    let (svc, session, a) = signed_in_session().await?;
    let sessions = domain::sessions::list(&svc.db, a.id, Some(session.id))
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| crate::dto::SessionRow {
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ip: s.ip.unwrap_or_default(),
            browser: s.browser,
            current: s.current,
        })
        .collect();
    Ok(AccountView {
        name: a.name.unwrap_or_default(),
        email: a.email,
        phone: a.phone,
        phone_verified: a.phone_verified,
        lang: a.lang,
        sessions,
    })
}

/// Name and preferred language (also this browser's page language from now on).
#[server(prefix = "/api", endpoint = "account/profile")]
pub async fn update_profile(name: String, lang: String) -> Result<(), AppError> {
    let (svc, a) = signed_in().await?;
    let a = domain::profile::update_profile(&svc, a.id, &name, &lang)
        .await
        .map_err(fail)?;
    if let Some(l) = crate::Lang::from_code(&a.lang) {
        set_lang_cookie(l);
        leptos_axum::redirect(&format!("/account?done=profile&lang={}", l.code()));
    }
    Ok(())
}

/// E-mail and phone, with the current password; a new phone gets a code.
#[server(prefix = "/api", endpoint = "account/contact")]
pub async fn change_contact(
    email: String,
    phone: String,
    current_password: String,
) -> Result<(), AppError> {
    let (svc, a) = signed_in().await?;
    let ip = client_ip(&svc);
    let done = domain::profile::change_contact(&svc, &a, &email, &phone, &current_password, &ip)
        .await
        .map_err(fail)?;
    let to = if done.phone_changed {
        "/account?done=code_sent#phone"
    } else {
        "/account?done=contact"
    };
    leptos_axum::redirect(to);
    Ok(())
}

/// A new phone verification code.
#[server(prefix = "/api", endpoint = "account/phone-code")]
pub async fn send_phone_code() -> Result<(), AppError> {
    let (svc, a) = signed_in().await?;
    let ip = client_ip(&svc);
    domain::recovery::send_phone_code(&svc, a.id, &ip)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/account?done=code_sent#phone");
    Ok(())
}

/// Confirms the phone with the code from WhatsApp.
#[server(prefix = "/api", endpoint = "account/verify-phone")]
pub async fn verify_phone(code: String) -> Result<(), AppError> {
    let (svc, a) = signed_in().await?;
    domain::recovery::verify_phone(&svc, a.id, &code)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/account?done=phone_verified");
    Ok(())
}

/// A new password, with the current one; the other sessions end.
#[server(prefix = "/api", endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let (svc, session, a) = signed_in_session().await?;
    let ip = client_ip(&svc);
    domain::profile::change_password(
        &svc,
        &a,
        &current_password,
        &new_password,
        Some(session.id),
        &ip,
    )
    .await
    .map_err(fail)?;
    leptos_axum::redirect("/account?done=password");
    Ok(())
}

/// Signs one device out (this one too, if asked: then to the login page).
#[server(prefix = "/api", endpoint = "account/sessions/end")]
pub async fn end_session(id: i64) -> Result<(), AppError> {
    let (svc, session, a) = signed_in_session().await?;
    domain::sessions::revoke_one(&svc.db, a.id, id)
        .await
        .map_err(fail)?;
    if id == session.id {
        set_session_cookie(&svc, None);
        leptos_axum::redirect("/login");
    } else {
        leptos_axum::redirect("/account?done=session_ended#sessions");
    }
    Ok(())
}

/// Signs every other device out.
#[server(prefix = "/api", endpoint = "account/sessions/end-others")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    let (svc, session, a) = signed_in_session().await?;
    domain::sessions::revoke_all_except(&svc.db, a.id, Some(session.id))
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/account?done=sessions_ended#sessions");
    Ok(())
}
