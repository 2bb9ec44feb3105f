//! Password reset and phone verification with WhatsApp codes ([`crate::codes`]).
//!
//! Password reset (`/forgot`, `/reset`) never tells whether an account exists:
//! - [`request_reset`] checks only the form (an e-mail or a phone number) and the hourly
//!   allowances — per typed identifier, known or not, and per IP — and hands back a
//!   [`ResetRequest`] whose [`ResetRequest::send`] the web layer runs in the background, so
//!   the answer is the same, as fast, for every well-formed identifier;
//! - [`reset_password`] answers one error (`InvalidCode`) for an unknown account, a wrong
//!   code and a code that is no longer valid alike. A reset ends every session of the
//!   account and is recorded as an event (`password_reset`).
//!
//! Phone verification: registration issues a code that the welcome message carries
//! ([`crate::accounts::create`]); [`send_phone_code`] sends a new one (also after a phone
//! change, `crate::profile`); [`verify_phone`] confirms the number the code was sent to.
//!
//! Code messages go through the outbox like every message (kinds `password_reset_code`
//! and `phone_code`, catalog templates), to the number in the payload.
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::accounts::Account;
use crate::codes::{self, Purpose};
use crate::entities::account;
use crate::events::{self, Kind};
use crate::validate::{Email, Password, Phone};
use crate::{Error, ErrorCode, Services};

/// What `/forgot` and `/reset` accept to find the account: its e-mail or its phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Email(Email),
    Phone(Phone),
}

impl Identifier {
    /// An e-mail when it has an `@`, else a phone number (field `identifier`).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Error::invalid("identifier", ErrorCode::Required));
        }
        if raw.contains('@') {
            Email::parse(raw)
                .map(Identifier::Email)
                .map_err(|_| Error::invalid("identifier", ErrorCode::InvalidEmail))
        } else {
            Phone::parse(raw)
                .map(Identifier::Phone)
                .map_err(|_| Error::invalid("identifier", ErrorCode::InvalidPhone))
        }
    }

    fn key(&self) -> &str {
        match self {
            Identifier::Email(e) => e.as_str(),
            Identifier::Phone(p) => p.as_str(),
        }
    }

    async fn account<C: ConnectionTrait>(&self, db: &C) -> Result<Option<account::Model>, Error> {
        let q = account::Entity::find();
        let q = match self {
            Identifier::Email(e) => q.filter(account::Column::Email.eq(e.as_str())),
            Identifier::Phone(p) => q.filter(account::Column::Phone.eq(p.as_str())),
        };
        Ok(q.one(db).await?)
    }
}

/// Takes one code send from the hourly allowances of `who` (an account or a typed
/// identifier) and of `ip`, or says how long to wait.
fn take_send_allowance(svc: &Services, who: &str, ip: &str) -> Result<(), Error> {
    let s = &svc.settings;
    svc.hourly
        .take_all(
            &[
                (&format!("code-to:{who}"), s.codes_per_account_per_hour),
                (&format!("code-ip:{ip}"), s.codes_per_ip_per_hour),
            ],
            svc.clock.instant(),
        )
        .map_err(|wait| {
            tracing::warn!(%ip, "one-time code refused: hourly allowance used up");
            Error::rate_limited(wait)
        })
}

/// A well-formed, allowed request for a reset code; [`ResetRequest::send`] sends it.
#[derive(Debug)]
pub struct ResetRequest(Identifier);

/// `/forgot`: checks the identifier and the allowances (per identifier, known or not, and
/// per IP). Says nothing about the account.
pub async fn request_reset(svc: &Services, raw: &str, ip: &str) -> Result<ResetRequest, Error> {
    let id = Identifier::parse(raw)?;
    take_send_allowance(svc, id.key(), ip)?;
    Ok(ResetRequest(id))
}

impl ResetRequest {
    /// Issues a code and queues its message when the account exists; true if it does.
    pub async fn send(self, svc: &Services) -> Result<bool, Error> {
        let Some(a) = self.0.account(&svc.db).await? else {
            return Ok(false);
        };
        let txn = crate::db::begin_write(&svc.db).await?;
        queue_code(
            svc,
            &txn,
            a.id,
            Purpose::PasswordReset,
            &a.phone,
            "password_reset_code",
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}

/// Issues a code for `purpose` and queues its message (kind `kind`) to `phone`, on the
/// caller's connection.
pub(crate) async fn queue_code<C: ConnectionTrait>(
    svc: &Services,
    conn: &C,
    account_id: i64,
    purpose: Purpose,
    phone: &str,
    kind: &str,
) -> Result<(), Error> {
    let issued = codes::issue(conn, account_id, purpose, phone, svc.clock.now()).await?;
    let payload = serde_json::json!({ "code": issued.code.expose(), "to": phone });
    crate::notify::enqueue(
        conn,
        kind,
        Some(account_id),
        &format!("{kind}:{}", issued.id),
        payload.to_string(),
    )
    .await
}

/// `/reset`: the identifier, the code and the new password. Every failure to match an
/// account's live code is `InvalidCode` (unknown account, wrong, expired, used, out of
/// tries), so the form cannot tell accounts apart. On success the password is replaced,
/// every session of the account ended, the phone counted as verified (the code reached
/// it), and a `password_reset` event recorded — in one transaction.
pub async fn reset_password(
    svc: &Services,
    raw: &str,
    code: &str,
    new_password: &str,
    ip: &str,
) -> Result<Account, Error> {
    let id = Identifier::parse(raw)?;
    let password = Password::parse(new_password)?;
    let wrong = || Error::invalid("code", ErrorCode::InvalidCode);
    let Some(a) = id.account(&svc.db).await? else {
        return Err(wrong());
    };
    let now = svc.clock.now();
    let used = codes::consume(&svc.db, a.id, Purpose::PasswordReset, code, now)
        .await
        .map_err(|e| match e {
            Error::Invalid { .. } => wrong(),
            other => other,
        })?;
    let hash = svc.hasher.hash(password.as_str().to_owned()).await?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let mut update = account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash))
        .filter(account::Column::Id.eq(a.id));
    if a.phone_verified_at.is_none() && used.target == a.phone {
        update = update.col_expr(account::Column::PhoneVerifiedAt, Expr::value(now));
    }
    update.exec(&txn).await?;
    let ended = crate::sessions::revoke_all_except(&txn, a.id, None).await?;
    events::record(
        &txn,
        Kind::PasswordReset,
        Some(a.id),
        &format!("password_reset:{}", used.id),
        serde_json::json!({ "ip": ip, "sessions_ended": ended }),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(account = a.id, %ip, sessions_ended = ended, "password reset with a code");
    crate::accounts::find(&svc.db, a.id).await
}

/// Sends a new phone verification code to the account's phone (throttled per account and
/// per IP). `Conflict` when the phone is already verified.
pub async fn send_phone_code(svc: &Services, account_id: i64, ip: &str) -> Result<(), Error> {
    let a = crate::accounts::find(&svc.db, account_id).await?;
    if a.phone_verified {
        return Err(Error::Conflict("the phone is already verified"));
    }
    take_send_allowance(svc, &format!("account:{}", a.id), ip)?;
    let txn = crate::db::begin_write(&svc.db).await?;
    queue_code(
        svc,
        &txn,
        a.id,
        Purpose::PhoneVerification,
        &a.phone,
        "phone_code",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Confirms the phone with `code`: the code must be live and sent to the account's
/// current number (a code sent to a number changed since is refused as expired).
pub async fn verify_phone(svc: &Services, account_id: i64, code: &str) -> Result<(), Error> {
    let now = svc.clock.now();
    let used = codes::consume(&svc.db, account_id, Purpose::PhoneVerification, code, now).await?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let res = account::Entity::update_many()
        .col_expr(account::Column::PhoneVerifiedAt, Expr::value(now))
        .filter(account::Column::Id.eq(account_id))
        .filter(account::Column::Phone.eq(used.target.as_str()))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::invalid("code", ErrorCode::CodeExpired));
    }
    events::record(
        &txn,
        Kind::PhoneVerified,
        Some(account_id),
        &format!("phone_verified:{}", used.id),
        serde_json::json!({ "phone": used.target }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Stores a new password hash and ends every session but `keep` (operator tool and
/// password change).
pub(crate) async fn set_password_hash<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
    hash: String,
    keep: Option<i64>,
) -> Result<u64, Error> {
    account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash))
        .filter(account::Column::Id.eq(account_id))
        .exec(conn)
        .await?;
    crate::sessions::revoke_all_except(conn, account_id, keep).await
}

#[cfg(test)]
mod tests;
