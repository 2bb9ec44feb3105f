//! Server-side login sessions. The browser holds a random token; the database holds only
//! its SHA-256, so a leaked database does not log anyone in. Revocation is a column.
//! Each session keeps where it started (IP, browser) and when it was last seen (written at
//! most every [`SEEN_EVERY_SECS`]), for the customer's list of signed-in devices.
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::accounts::Account;
use crate::entities::{account, session};
use crate::{time, Error};

/// The cookie that carries the session token.
pub const COOKIE: &str = "resayil_session";

/// `last_seen_at` is written when it is older than this.
pub const SEEN_EVERY_SECS: i64 = 300;

/// Where a session is started from (the list of signed-in devices shows it).
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub ip: String,
    /// The browser's `User-Agent` header (clipped when stored).
    pub user_agent: String,
}

/// A live session as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
    pub ip: Option<String>,
    /// "Chrome on Android", from the User-Agent ([`describe_browser`]).
    pub browser: String,
    /// The session of the request that asked.
    pub current: bool,
}

/// Starts a session and returns the token to put in the cookie.
pub async fn create(db: &DatabaseConnection, account_id: i64, days: i64) -> Result<String, Error> {
    create_on(db, account_id, days, &Device::default()).await
}

/// Starts a session from `device` and returns the token to put in the cookie.
pub async fn create_on(
    db: &DatabaseConnection,
    account_id: i64,
    days: i64,
    device: &Device,
) -> Result<String, Error> {
    let token = crate::keys::random_token(32);
    let now = time::now();
    let clip = |s: &str, n: usize| -> Option<String> {
        let s: String = s.chars().filter(|c| !c.is_control()).take(n).collect();
        (!s.is_empty()).then_some(s)
    };
    session::Entity::insert(session::ActiveModel {
        token_hash: Set(crate::keys::sha256_hex(&token)),
        account_id: Set(account_id),
        created_at: Set(now),
        expires_at: Set(now + days * 86_400),
        revoked_at: Set(None),
        last_seen_at: Set(Some(now)),
        ip: Set(clip(&device.ip, 45)),
        user_agent: Set(clip(&device.user_agent, 256)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(token)
}

/// The account of a live session, or `Unauthorized`.
pub async fn account(db: &DatabaseConnection, token: &str) -> Result<Account, Error> {
    current(db, token).await.map(|(_, a)| a)
}

/// The live session of `token` and its account, or `Unauthorized`. Notes that the session
/// was seen (at most every [`SEEN_EVERY_SECS`]).
pub async fn current(
    db: &DatabaseConnection,
    token: &str,
) -> Result<(session::Model, Account), Error> {
    if token.is_empty() || token.len() > 128 {
        return Err(Error::Unauthorized);
    }
    let now = time::now();
    let s = session::Entity::find()
        .filter(session::Column::TokenHash.eq(crate::keys::sha256_hex(token)))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .ok_or(Error::Unauthorized)?;
    if s.last_seen_at.is_none_or(|t| t < now - SEEN_EVERY_SECS) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(s.id))
            .filter(
                Condition::any()
                    .add(session::Column::LastSeenAt.is_null())
                    .add(session::Column::LastSeenAt.lt(now - SEEN_EVERY_SECS)),
            )
            .exec(db)
            .await?;
    }
    let a = account::Entity::find_by_id(s.account_id)
        .one(db)
        .await?
        // A suspended account's sessions end (they are also revoked when it is suspended).
        .filter(|a| a.suspended_at.is_none())
        .map(Account::from)
        .ok_or(Error::Unauthorized)?;
    Ok((s, a))
}

/// The account's live sessions, most recently seen first; `current` marks session
/// `current_id`.
pub async fn list(
    db: &DatabaseConnection,
    account_id: i64,
    current_id: Option<i64>,
) -> Result<Vec<SessionInfo>, Error> {
    let rows = session::Entity::find()
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(time::now()))
        .order_by_desc(session::Column::LastSeenAt)
        .order_by_desc(session::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| SessionInfo {
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            browser: describe_browser(s.user_agent.as_deref().unwrap_or_default()),
            ip: s.ip,
            current: Some(s.id) == current_id,
        })
        .collect())
}

/// Ends one of the account's sessions; `NotFound` unless it is theirs and live.
pub async fn revoke_one(
    db: &DatabaseConnection,
    account_id: i64,
    session_id: i64,
) -> Result<(), Error> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(time::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Ends every live session of the account except `keep`; returns how many were ended.
pub async fn revoke_all_except<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
    keep: Option<i64>,
) -> Result<u64, Error> {
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(time::now()))
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(id) = keep {
        q = q.filter(session::Column::Id.ne(id));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

/// A short name for the browser and system of a `User-Agent`: "Chrome on Android",
/// "Safari on iPhone", "curl"; "" when nothing is recognised.
pub fn describe_browser(ua: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python", "Python"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => String::new(),
    }
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

    #[test]
    fn browsers_are_named_from_their_user_agent() {
        let cases = [
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36", "Chrome · Android"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari · iPhone"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0", "Edge · Windows"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox · Linux"),
            ("curl/8.5.0", "curl"),
            ("", ""),
        ];
        for (ua, name) in cases {
            assert_eq!(describe_browser(ua), name, "{ua}");
        }
    }

    #[tokio::test]
    async fn the_owner_lists_sessions_and_ends_one_or_all_others() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let phone = Device {
                ip: "203.0.113.7".into(),
                user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"
                    .into(),
            };
            let here = create_on(&svc.db, a.id, 30, &Device::default())
                .await
                .unwrap();
            let there = create_on(&svc.db, a.id, 30, &phone).await.unwrap();
            let third = create(&svc.db, a.id, 30).await.unwrap();
            let (me, _) = current(&svc.db, &here).await.unwrap();
            let list = list(&svc.db, a.id, Some(me.id)).await.unwrap();
            assert_eq!(list.len(), 3);
            assert_eq!(list.iter().filter(|s| s.current).count(), 1);
            let on_phone = list
                .iter()
                .find(|s| s.ip.as_deref() == Some("203.0.113.7"))
                .unwrap();
            assert_eq!(on_phone.browser, "Safari · iPhone");
            // Someone else's session is not found, and nothing changes.
            let b = new_account(&svc).await;
            assert!(matches!(
                revoke_one(&svc.db, b.id, on_phone.id).await,
                Err(Error::NotFound)
            ));
            revoke_one(&svc.db, a.id, on_phone.id).await.unwrap();
            assert!(account(&svc.db, &there).await.is_err());
            assert_eq!(
                revoke_all_except(&svc.db, a.id, Some(me.id)).await.unwrap(),
                1
            );
            assert!(account(&svc.db, &third).await.is_err());
            assert_eq!(account(&svc.db, &here).await.unwrap().id, a.id);
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
