//! The customer's own changes on `/account`: name and preferred language; e-mail and
//! phone (the current password required; a new phone must be verified again with a
//! WhatsApp code); password (the current one required; the other sessions end).
//! Bad input changes nothing and names its field.
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};

use crate::accounts::{self, Account};
use crate::codes::Purpose;
use crate::entities::account;
use crate::events::{self, Kind};
use crate::validate::{Email, Name, Password};
use crate::{Error, ErrorCode, Services};

/// Name (empty clears it) and preferred language (`ar` or `en`: messages, and the page
/// language after signing in).
pub async fn update_profile(
    svc: &Services,
    account_id: i64,
    name: &str,
    lang: &str,
) -> Result<Account, Error> {
    let name = Name::parse(name)?.into_inner();
    if !matches!(lang, "ar" | "en") {
        return Err(Error::invalid("lang", ErrorCode::Required));
    }
    account::Entity::update_many()
        .col_expr(account::Column::Name, Expr::value(name))
        .col_expr(account::Column::Lang, Expr::value(lang))
        .filter(account::Column::Id.eq(account_id))
        .exec(&svc.db)
        .await?;
    accounts::find(&svc.db, account_id).await
}

/// Checks the current password as a login would (same throttle, same log line for
/// fail2ban); a wrong one is refused on the field `current_password`.
async fn check_current(svc: &Services, a: &Account, current: &str, ip: &str) -> Result<(), Error> {
    if current.is_empty() {
        return Err(Error::invalid("current_password", ErrorCode::Required));
    }
    accounts::authenticate(svc, &a.email, current, ip)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            Error::Invalid { code, .. } => Error::invalid("current_password", code),
            other => other,
        })
}

/// What [`change_contact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactChange {
    pub email_changed: bool,
    /// The phone changed: it is unverified and a code is on its way to it.
    pub phone_changed: bool,
}

/// New e-mail and phone (either may be unchanged), with the current password. A new
/// phone must be of an allowed country and not taken; it starts unverified and gets a
/// code (within the hourly code allowance). All or nothing.
pub async fn change_contact(
    svc: &Services,
    a: &Account,
    email: &str,
    phone: &str,
    current_password: &str,
    ip: &str,
) -> Result<ContactChange, Error> {
    let email = Email::parse(email)?;
    let phone = accounts::allowed_phone(svc, phone)?;
    let change = ContactChange {
        email_changed: email.as_str() != a.email,
        phone_changed: phone.as_str() != a.phone,
    };
    if !change.email_changed && !change.phone_changed {
        return Ok(change);
    }
    for (changed, col, value, field, code) in [
        (
            change.email_changed,
            account::Column::Email,
            email.as_str(),
            "email",
            ErrorCode::EmailTaken,
        ),
        (
            change.phone_changed,
            account::Column::Phone,
            phone.as_str(),
            "phone",
            ErrorCode::PhoneTaken,
        ),
    ] {
        if changed
            && account::Entity::find()
                .filter(col.eq(value))
                .one(&svc.db)
                .await?
                .is_some()
        {
            return Err(Error::invalid(field, code));
        }
    }
    check_current(svc, a, current_password, ip).await?;
    if change.phone_changed {
        svc.hourly
            .take_all(
                &[
                    (
                        &format!("code-to:account:{}", a.id),
                        svc.settings.codes_per_account_per_hour,
                    ),
                    (&format!("code-ip:{ip}"), svc.settings.codes_per_ip_per_hour),
                ],
                svc.clock.instant(),
            )
            .map_err(Error::rate_limited)?;
    }
    let txn = crate::db::begin_write(&svc.db).await?;
    let mut update = account::Entity::update_many()
        .col_expr(account::Column::Email, Expr::value(email.as_str()))
        .col_expr(account::Column::Phone, Expr::value(phone.as_str()))
        .filter(account::Column::Id.eq(a.id));
    if change.phone_changed {
        update = update.col_expr(
            account::Column::PhoneVerifiedAt,
            Expr::value(Option::<i64>::None),
        );
    }
    match update.exec(&txn).await {
        Ok(_) => {}
        // Taken by someone else between the check and the update.
        Err(e) if accounts::is_unique_violation(&e) => {
            drop(txn);
            let field = if change.phone_changed && !change.email_changed {
                ("phone", ErrorCode::PhoneTaken)
            } else {
                ("email", ErrorCode::EmailTaken)
            };
            return Err(Error::invalid(field.0, field.1));
        }
        Err(e) => return Err(e.into()),
    }
    if change.phone_changed {
        crate::recovery::queue_code(
            svc,
            &txn,
            a.id,
            Purpose::PhoneVerification,
            phone.as_str(),
            "phone_code",
        )
        .await?;
    }
    events::record(
        &txn,
        Kind::ContactChanged,
        Some(a.id),
        &format!("contact_changed:{}:{}", a.id, crate::keys::random_token(12)),
        serde_json::json!({
            "ip": ip,
            "old_email": a.email, "new_email": email.as_str(),
            "old_phone": a.phone, "new_phone": phone.as_str(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(change)
}

/// A new password, with the current one; every other session of the account ends
/// (`keep` is the session of the request). Returns how many sessions were ended.
pub async fn change_password(
    svc: &Services,
    a: &Account,
    current: &str,
    new: &str,
    keep: Option<i64>,
    ip: &str,
) -> Result<u64, Error> {
    let new = Password::parse(new).map_err(|e| match e {
        Error::Invalid { code, .. } => Error::invalid("new_password", code),
        other => other,
    })?;
    check_current(svc, a, current, ip).await?;
    let hash = svc.hasher.hash(new.as_str().to_owned()).await?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let ended = crate::recovery::set_password_hash(&txn, a.id, hash, keep).await?;
    events::record(
        &txn,
        Kind::PasswordChanged,
        Some(a.id),
        &format!(
            "password_changed:{}:{}",
            a.id,
            crate::keys::random_token(12)
        ),
        serde_json::json!({ "ip": ip, "sessions_ended": ended }),
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

/// `resayil user set-password`: a new password set by an operator; every session of the
/// account ends. Recorded in the audit log (as the CLI, `operator` as the reason's
/// author) and as an event, in the same transaction.
pub async fn operator_set_password(
    svc: &Services,
    account_id: i64,
    new: &str,
    operator: &str,
) -> Result<u64, Error> {
    let new = Password::parse(new)?;
    let hash = svc.hasher.hash(new.as_str().to_owned()).await?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let ended = crate::recovery::set_password_hash(&txn, account_id, hash, None).await?;
    operator_audit(
        &txn,
        crate::audit::actions::ACCOUNT_PASSWORD_SET,
        account_id,
        ended,
        operator,
    )
    .await?;
    events::record(
        &txn,
        Kind::PasswordSetByOperator,
        Some(account_id),
        &format!(
            "password_set_by_operator:{account_id}:{}",
            crate::keys::random_token(12)
        ),
        serde_json::json!({ "operator": operator, "sessions_ended": ended }),
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

/// The audit row of an operator's action on an account's password or sessions.
async fn operator_audit<C: sea_orm::ConnectionTrait>(
    txn: &C,
    action: &str,
    account_id: i64,
    ended: u64,
    operator: &str,
) -> Result<(), Error> {
    let reason = format!("{action} by {operator}");
    crate::audit::record(
        txn,
        &crate::audit::Actor::cli(),
        crate::audit::Change {
            action,
            target_account: Some(account_id),
            after: Some(serde_json::json!({ "sessions_ended": ended })),
            reason: Some(&reason),
            ..Default::default()
        },
    )
    .await
    .map(|_| ())
}

/// `resayil user sessions revoke`: ends every session of the account; recorded in the
/// audit log and as an event.
pub async fn operator_revoke_sessions(
    svc: &Services,
    account_id: i64,
    operator: &str,
) -> Result<u64, Error> {
    let txn = crate::db::begin_write(&svc.db).await?;
    let ended = crate::sessions::revoke_all_except(&txn, account_id, None).await?;
    operator_audit(
        &txn,
        crate::audit::actions::ACCOUNT_SESSIONS_REVOKE,
        account_id,
        ended,
        operator,
    )
    .await?;
    events::record(
        &txn,
        Kind::SessionsRevokedByOperator,
        Some(account_id),
        &format!(
            "sessions_revoked_by_operator:{account_id}:{}",
            crate::keys::random_token(12)
        ),
        serde_json::json!({ "operator": operator, "sessions_ended": ended }),
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

#[cfg(test)]
mod tests;
