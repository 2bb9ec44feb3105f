//! One-time codes sent by WhatsApp: password reset and phone verification.
//!
//! - Six digits, valid [`VALID_SECS`] (10 minutes), single use, at most [`MAX_ATTEMPTS`]
//!   wrong tries; then a new code is needed. Issuing a code retires the account's older
//!   live codes of the same purpose.
//! - Only SHA-256 of a random per-code salt and the code is stored; a guess is compared
//!   with the stored hash in constant time (`subtle`). A code is never logged: [`Code`]
//!   prints as `******`, and the messages that carry one are masked once sent
//!   (`notify::outbox`).
//! - Single use even with several instances: a try is one conditional UPDATE
//!   (`… WHERE used_at IS NULL AND attempts < 5 AND expires_at > now`) whose affected-row
//!   count decides — consuming a right code and counting a wrong one alike — so of two
//!   instances accepting the same code at once exactly one wins, and concurrent wrong
//!   guesses cannot exceed the five tries.
//! - How often codes may be *sent* is the callers' business (`recovery`, `profile`:
//!   hourly allowances per account or typed identifier, and per IP).
use sea_orm::sea_query::{Expr, ExprTrait, StringLen};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DeriveActiveEnum, EntityTrait, EnumIter,
    QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::entities::one_time_code;
use crate::{Error, ErrorCode};

/// How long a code is valid.
pub const VALID_SECS: i64 = 600;
/// Wrong tries allowed per code.
pub const MAX_ATTEMPTS: i32 = 5;

/// What a code is for; a code of one purpose never serves the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Purpose {
    #[sea_orm(string_value = "password_reset")]
    PasswordReset,
    #[sea_orm(string_value = "phone")]
    PhoneVerification,
}

/// A code in clear, only between issuing it and putting it in its message.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(******)")
    }
}

impl Code {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A new code and the id of its row.
#[derive(Debug)]
pub struct Issued {
    pub id: i64,
    pub code: Code,
}

fn hash(salt: &str, code: &str) -> String {
    crate::keys::sha256_hex(&format!("{salt}:{code}"))
}

/// Issues a code for `account_id` sent to `target` (E.164), retiring its older live codes
/// of the same purpose. On the caller's connection, so the code and its message are
/// stored together or not at all.
pub async fn issue<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
    purpose: Purpose,
    target: &str,
    now: i64,
) -> Result<Issued, Error> {
    one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::UsedAt, Expr::value(now))
        .filter(one_time_code::Column::AccountId.eq(account_id))
        .filter(one_time_code::Column::Purpose.eq(purpose))
        .filter(one_time_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    let salt = hex::encode(rand::random::<[u8; 16]>());
    let res = one_time_code::Entity::insert(one_time_code::ActiveModel {
        account_id: Set(account_id),
        purpose: Set(purpose),
        target: Set(target.to_owned()),
        code_hash: Set(hash(&salt, &code)),
        salt: Set(salt),
        attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(now + VALID_SECS),
        used_at: Set(None),
        ..Default::default()
    })
    .exec(conn)
    .await?;
    Ok(Issued {
        id: res.last_insert_id,
        code: Code(code),
    })
}

/// What was typed as six ASCII digits: spaces and dashes are ignored, Arabic-Indic and
/// Persian digits count as digits. `None` for anything else.
pub fn normalize(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(6);
    for c in raw.chars() {
        let d = match c {
            '0'..='9' => c,
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            ' ' | '-' | '\u{00A0}' => continue,
            _ => return None,
        };
        if out.len() == 6 {
            return None;
        }
        out.push(d);
    }
    (out.len() == 6).then_some(out)
}

fn wrong() -> Error {
    Error::invalid("code", ErrorCode::InvalidCode)
}

fn expired() -> Error {
    Error::invalid("code", ErrorCode::CodeExpired)
}

/// Tries `raw` against the account's live code of `purpose`. A right code is consumed
/// (`used_at`) and its row returned; a wrong one uses one of the code's tries
/// (`InvalidCode`); without a live code — none sent, expired, used, replaced or out of
/// tries — `CodeExpired`. Each outcome is one conditional UPDATE on `db` (committed at
/// once, so a refused try counts whatever the caller does next).
pub async fn consume<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purpose: Purpose,
    raw: &str,
    now: i64,
) -> Result<one_time_code::Model, Error> {
    let typed = normalize(raw).ok_or_else(wrong)?;
    let live = one_time_code::Entity::find()
        .filter(one_time_code::Column::AccountId.eq(account_id))
        .filter(one_time_code::Column::Purpose.eq(purpose))
        .filter(one_time_code::Column::UsedAt.is_null())
        .filter(one_time_code::Column::ExpiresAt.gt(now))
        .filter(one_time_code::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_desc(one_time_code::Column::Id)
        .one(db)
        .await?
        .ok_or_else(expired)?;
    let right: bool = hash(&live.salt, &typed)
        .as_bytes()
        .ct_eq(live.code_hash.as_bytes())
        .into();
    let still_live = || {
        one_time_code::Entity::update_many()
            .filter(one_time_code::Column::Id.eq(live.id))
            .filter(one_time_code::Column::UsedAt.is_null())
            .filter(one_time_code::Column::Attempts.lt(MAX_ATTEMPTS))
            .filter(one_time_code::Column::ExpiresAt.gt(now))
    };
    if right {
        let res = still_live()
            .col_expr(one_time_code::Column::UsedAt, Expr::value(now))
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            return Ok(one_time_code::Model {
                used_at: Some(now),
                ..live
            });
        }
        // Another request consumed it (or used its last try) first.
        return Err(expired());
    }
    let res = still_live()
        .col_expr(
            one_time_code::Column::Attempts,
            Expr::col(one_time_code::Column::Attempts).add(1),
        )
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        Err(wrong())
    } else {
        Err(expired())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};

    fn code_of(e: Error) -> ErrorCode {
        match e {
            Error::Invalid {
                field: "code",
                code,
            } => code,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// A six-digit code that is not `code`.
    fn other_than(code: &Code) -> String {
        let n: u32 = code.expose().parse().unwrap();
        format!("{:06}", (n + 1) % 1_000_000)
    }

    #[test]
    fn typed_codes_are_read_in_any_digits_and_nothing_else() {
        assert_eq!(normalize("123456").as_deref(), Some("123456"));
        assert_eq!(normalize(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize("١٢٣-٤٥٦").as_deref(), Some("123456"));
        assert_eq!(normalize("۱۲۳۴۵۶").as_deref(), Some("123456"));
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "123456\n"] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        assert_eq!(format!("{:?}", Code("123456".into())), "Code(******)");
    }

    #[tokio::test]
    async fn a_code_is_stored_hashed_and_accepted_once() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let now = svc.clock.now();
            let issued = issue(&svc.db, a.id, Purpose::PasswordReset, &a.phone, now)
                .await
                .unwrap();
            let row = one_time_code::Entity::find_by_id(issued.id)
                .one(&svc.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.code_hash.len(), 64);
            assert!(!row.code_hash.contains(issued.code.expose()));
            assert_eq!(row.expires_at, now + VALID_SECS);
            // Not for another account, nor for the other purpose (whose live code, from
            // the registration, is another one: a wrong try).
            let other = new_account(&svc).await;
            let e = consume(
                &svc.db,
                other.id,
                Purpose::PasswordReset,
                issued.code.expose(),
                now,
            )
            .await
            .unwrap_err();
            assert_eq!(code_of(e), ErrorCode::CodeExpired);
            let reg = one_time_code::Entity::find()
                .filter(one_time_code::Column::AccountId.eq(a.id))
                .filter(one_time_code::Column::Purpose.eq(Purpose::PhoneVerification))
                .one(&svc.db)
                .await
                .unwrap()
                .expect("the registration's code");
            if reg.code_hash != hash(&reg.salt, issued.code.expose()) {
                let e = consume(
                    &svc.db,
                    a.id,
                    Purpose::PhoneVerification,
                    issued.code.expose(),
                    now,
                )
                .await
                .unwrap_err();
                assert_eq!(code_of(e), ErrorCode::InvalidCode);
            }
            let used = consume(
                &svc.db,
                a.id,
                Purpose::PasswordReset,
                issued.code.expose(),
                now,
            )
            .await
            .unwrap();
            assert_eq!(used.target, a.phone);
            let again = consume(
                &svc.db,
                a.id,
                Purpose::PasswordReset,
                issued.code.expose(),
                now,
            )
            .await;
            assert_eq!(code_of(again.unwrap_err()), ErrorCode::CodeExpired);
        })
        .await;
    }

    #[tokio::test]
    async fn a_code_lasts_ten_minutes() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let now = svc.clock.now();
            let c = issue(&svc.db, a.id, Purpose::PhoneVerification, &a.phone, now)
                .await
                .unwrap();
            let late = now + VALID_SECS;
            let e = consume(
                &svc.db,
                a.id,
                Purpose::PhoneVerification,
                c.code.expose(),
                late,
            )
            .await
            .unwrap_err();
            assert_eq!(code_of(e), ErrorCode::CodeExpired);
            consume(
                &svc.db,
                a.id,
                Purpose::PhoneVerification,
                c.code.expose(),
                late - 1,
            )
            .await
            .expect("a second before the end it is still valid");
        })
        .await;
    }

    #[tokio::test]
    async fn five_wrong_tries_use_a_code_up_and_a_new_code_replaces_the_old() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let now = svc.clock.now();
            let c = issue(&svc.db, a.id, Purpose::PasswordReset, &a.phone, now)
                .await
                .unwrap();
            let wrong = other_than(&c.code);
            for _ in 0..MAX_ATTEMPTS {
                let e = consume(&svc.db, a.id, Purpose::PasswordReset, &wrong, now)
                    .await
                    .unwrap_err();
                assert_eq!(code_of(e), ErrorCode::InvalidCode);
            }
            let e = consume(&svc.db, a.id, Purpose::PasswordReset, c.code.expose(), now)
                .await
                .unwrap_err();
            assert_eq!(
                code_of(e),
                ErrorCode::CodeExpired,
                "the right code, too late"
            );
            // Malformed input is refused without using a try.
            let fresh = issue(&svc.db, a.id, Purpose::PasswordReset, &a.phone, now)
                .await
                .unwrap();
            let e = consume(&svc.db, a.id, Purpose::PasswordReset, "12ab56", now)
                .await
                .unwrap_err();
            assert_eq!(code_of(e), ErrorCode::InvalidCode);
            // A newer code retires the older one.
            let newer = issue(&svc.db, a.id, Purpose::PasswordReset, &a.phone, now)
                .await
                .unwrap();
            if fresh.code != newer.code {
                let e = consume(
                    &svc.db,
                    a.id,
                    Purpose::PasswordReset,
                    fresh.code.expose(),
                    now,
                )
                .await
                .unwrap_err();
                assert_eq!(code_of(e), ErrorCode::InvalidCode);
            }
            consume(
                &svc.db,
                a.id,
                Purpose::PasswordReset,
                newer.code.expose(),
                now,
            )
            .await
            .unwrap();
            let row = one_time_code::Entity::find_by_id(newer.id)
                .one(&svc.db)
                .await
                .unwrap()
                .unwrap();
            assert!(row.used_at.is_some());
        })
        .await;
    }

    /// Many instances at once (many connections of the pool, on PostgreSQL truly in
    /// parallel): one right code is accepted exactly once, and wrong guesses together
    /// never get more than five tries.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_tries_accept_a_code_once_and_count_every_wrong_one() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let now = svc.clock.now();
            let c = issue(&svc.db, a.id, Purpose::PasswordReset, &a.phone, now)
                .await
                .unwrap();
            let tries = (0..16).map(|_| {
                let db = svc.db.clone();
                let code = c.code.clone();
                tokio::spawn(async move {
                    consume(&db, a.id, Purpose::PasswordReset, code.expose(), now).await
                })
            });
            let results = futures::future::join_all(tries).await;
            let accepted = results
                .into_iter()
                .filter(|r| matches!(r, Ok(Ok(_))))
                .count();
            assert_eq!(accepted, 1);

            let c = issue(&svc.db, a.id, Purpose::PasswordReset, &a.phone, now)
                .await
                .unwrap();
            let wrong = other_than(&c.code);
            let guesses = (0..20).map(|_| {
                let db = svc.db.clone();
                let wrong = wrong.clone();
                tokio::spawn(async move {
                    consume(&db, a.id, Purpose::PasswordReset, &wrong, now).await
                })
            });
            let refused_as_wrong = futures::future::join_all(guesses)
                .await
                .into_iter()
                .filter(|r| {
                    matches!(
                        r,
                        Ok(Err(Error::Invalid {
                            code: ErrorCode::InvalidCode,
                            ..
                        }))
                    )
                })
                .count();
            assert!(
                refused_as_wrong <= MAX_ATTEMPTS as usize,
                "{refused_as_wrong}"
            );
            let row = one_time_code::Entity::find_by_id(c.id)
                .one(&svc.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.attempts, MAX_ATTEMPTS);
        })
        .await;
    }
}
