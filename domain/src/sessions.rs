//! Server-side login sessions. The browser holds a random token; the database holds only
//! its SHA-256, so a leaked database does not log anyone in. Revocation is a column.
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::accounts::Account;
use crate::entities::{account, session};
use crate::{time, Error};

/// The cookie that carries the session token.
pub const COOKIE: &str = "resayil_session";

/// Starts a session and returns the token to put in the cookie.
pub async fn create(db: &DatabaseConnection, account_id: i64, days: i64) -> Result<String, Error> {
    let token = crate::keys::random_token(32);
    let now = time::now();
    session::Entity::insert(session::ActiveModel {
        token_hash: Set(crate::keys::sha256_hex(&token)),
        account_id: Set(account_id),
        created_at: Set(now),
        expires_at: Set(now + days * 86_400),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(token)
}

/// The account of a live session, or `Unauthorized`.
pub async fn account(db: &DatabaseConnection, token: &str) -> Result<Account, Error> {
    if token.is_empty() || token.len() > 128 {
        return Err(Error::Unauthorized);
    }
    let s = session::Entity::find()
        .filter(session::Column::TokenHash.eq(crate::keys::sha256_hex(token)))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(time::now()))
        .one(db)
        .await?
        .ok_or(Error::Unauthorized)?;
    account::Entity::find_by_id(s.account_id)
        .one(db)
        .await?
        // A suspended account's sessions end (they are also revoked when it is suspended).
        .filter(|a| a.suspended_at.is_none())
        .map(Account::from)
        .ok_or(Error::Unauthorized)
}

/// Ends every live session of an account (suspension), in the caller's transaction.
pub async fn revoke_all<C: sea_orm::ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<u64, Error> {
    Ok(session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(time::now()))
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Ends the session of `token` (logout). Unknown tokens are ignored.
pub async fn revoke(db: &DatabaseConnection, token: &str) -> Result<(), Error> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(time::now()))
        .filter(session::Column::TokenHash.eq(crate::keys::sha256_hex(token)))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};

    #[tokio::test]
    async fn a_session_finds_its_account_until_revoked() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let token = create(&svc.db, a.id, 30).await.unwrap();
            assert_eq!(account(&svc.db, &token).await.unwrap().id, a.id);
            revoke(&svc.db, &token).await.unwrap();
            assert!(matches!(
                account(&svc.db, &token).await,
                Err(Error::Unauthorized)
            ));
            assert!(matches!(
                account(&svc.db, "forged").await,
                Err(Error::Unauthorized)
            ));
        })
        .await;
    }

    #[tokio::test]
    async fn expired_sessions_do_not_log_in() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let token = create(&svc.db, a.id, -1).await.unwrap();
            assert!(matches!(
                account(&svc.db, &token).await,
                Err(Error::Unauthorized)
            ));
        })
        .await;
    }
}
