//! API keys: a high-entropy secret shown once, stored only as its SHA-256 (indexed).
use base64::Engine;
use rand::RngCore;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::accounts::Account;
use crate::entities::{account, api_key};
use crate::validate::Label;
use crate::{time, Error, ErrorCode, Services};

/// Every key starts with this, so leaked keys are easy to recognise (secret scanners).
pub const KEY_PREFIX: &str = "rsl_";
/// How many leading characters of a key the list shows (KEY-02).
pub const SHOWN_CHARS: usize = 12;

/// A key as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub id: i64,
    pub label: String,
    /// The first [`SHOWN_CHARS`] characters of the key.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// A team key's team and member (see [`crate::teams`]); `None` for personal keys.
    pub team_id: Option<i64>,
    pub member_id: Option<i64>,
}

impl From<api_key::Model> for KeyInfo {
    fn from(m: api_key::Model) -> Self {
        Self {
            id: m.id,
            label: m.label,
            prefix: m.prefix,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            team_id: m.team_id,
            member_id: m.member_id,
        }
    }
}

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    to_hex(&sha256(s))
}

/// The SHA-256 digest of `s`: what [`sha256_hex`] writes in hex (the gateway's key cache
/// is keyed by it, without the hex string).
pub fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Lower-case hex, two digits per byte.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Creates a key for the account, within its plan's key limit. Returns the listing and the
/// full key, which is not stored anywhere and cannot be shown again.
pub async fn create(
    svc: &Services,
    owner: &Account,
    label: &str,
) -> Result<(KeyInfo, String), Error> {
    let label = Label::parse(label)?;
    let plan =
        svc.catalog
            .effective_plan(owner.plan.as_deref(), owner.plan_expires_at, time::now());
    let live = api_key::Entity::find()
        .filter(api_key::Column::AccountId.eq(owner.id))
        .filter(api_key::Column::TeamId.is_null())
        .filter(api_key::Column::RevokedAt.is_null())
        .count(&svc.db)
        .await?;
    if live >= u64::from(plan.max_keys) {
        return Err(Error::invalid("label", ErrorCode::KeyLimitReached));
    }
    insert(&svc.db, owner.id, None, &label).await
}

/// Writes a new key spending `account_id`'s credits; `team` = (team, member) for a team
/// key. Returns the listing and the secret (shown once, stored only as its hash).
pub(crate) async fn insert<C: sea_orm::ConnectionTrait>(
    db: &C,
    account_id: i64,
    team: Option<(i64, i64)>,
    label: &Label,
) -> Result<(KeyInfo, String), Error> {
    let key = format!("{KEY_PREFIX}{}", random_token(32));
    let model = api_key::ActiveModel {
        account_id: Set(account_id),
        label: Set(label.as_str().to_owned()),
        prefix: Set(key.chars().take(SHOWN_CHARS).collect()),
        key_hash: Set(sha256_hex(&key)),
        created_at: Set(time::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        team_id: Set(team.map(|t| t.0)),
        member_id: Set(team.map(|t| t.1)),
        ..Default::default()
    };
    let inserted = api_key::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    Ok((inserted.into(), key))
}

/// The account's live personal keys, newest first (team keys are listed on `/team`).
pub async fn list(db: &DatabaseConnection, account_id: i64) -> Result<Vec<KeyInfo>, Error> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::AccountId.eq(account_id))
        .filter(api_key::Column::TeamId.is_null())
        .filter(api_key::Column::RevokedAt.is_null())
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(KeyInfo::from)
        .collect())
}

/// Keys revoked in this process, as they are revoked: the gateway drops them from its
/// cache at once and fans them out to the other instances (Redis).
static REVOKED: std::sync::LazyLock<tokio::sync::broadcast::Sender<i64>> =
    std::sync::LazyLock::new(|| tokio::sync::broadcast::channel(1024).0);

/// Every key id revoked in this process from now on.
pub fn revocations() -> tokio::sync::broadcast::Receiver<i64> {
    REVOKED.subscribe()
}

/// Revokes one of the account's own personal keys; someone else's key (or a team key,
/// revoked on `/team`) is `NotFound`.
pub async fn revoke(db: &DatabaseConnection, account_id: i64, key_id: i64) -> Result<(), Error> {
    let res = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(time::now()))
        .filter(api_key::Column::Id.eq(key_id))
        .filter(api_key::Column::AccountId.eq(account_id))
        .filter(api_key::Column::TeamId.is_null())
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        // Nobody listening (no gateway in this process) is fine.
        let _ = REVOKED.send(key_id);
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The live key and its account for a presented secret (one indexed lookup each).
pub async fn authenticate(
    db: &DatabaseConnection,
    presented: &str,
) -> Result<(KeyInfo, Account), Error> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
        return Err(Error::Unauthorized);
    }
    let key = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(sha256_hex(presented)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(Error::Unauthorized)?;
    let owner = account::Entity::find_by_id(key.account_id)
        .one(db)
        .await?
        .ok_or(Error::Unauthorized)?;
    if owner.suspended_at.is_some() {
        return Err(Error::Suspended);
    }
    // A team key spends its owner's credits but belongs to a member: the member's own
    // suspension stops it too (the owner's account, which it lives on, is not suspended).
    if let Some(member) = key.member_id.filter(|m| *m != owner.id) {
        let suspended = account::Entity::find_by_id(member)
            .one(db)
            .await?
            .is_none_or(|m| m.suspended_at.is_some());
        if suspended {
            return Err(Error::Suspended);
        }
    }
    Ok((key.into(), owner.into()))
}

/// The keys revoked at or after `since` (unix seconds), and the live keys of accounts
/// suspended since then — their own keys and the team keys they use as members (which
/// live on the team owner's account): what the gateway's revocation poll drops from its
/// cache.
pub async fn revoked_since(db: &DatabaseConnection, since: i64) -> Result<Vec<i64>, Error> {
    let mut ids: Vec<i64> = api_key::Entity::find()
        .select_only()
        .column(api_key::Column::Id)
        .filter(api_key::Column::RevokedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?;
    let suspended: Vec<i64> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::SuspendedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?;
    if !suspended.is_empty() {
        ids.extend(live_ids_of(db, &suspended).await?);
    }
    Ok(ids)
}

/// Drops these keys from every gateway cache at once (this process's, and through Redis
/// the other instances'): a revocation, or the keys of an account just suspended. Call
/// after the revoking transaction committed.
pub fn announce_revoked(key_ids: &[i64]) {
    for id in key_ids {
        // Nobody listening (no gateway in this process) is fine.
        let _ = REVOKED.send(*id);
    }
}

/// Every live key id an account uses: its own keys, and the team keys it uses as a
/// member (on the team owner's account). Suspension drops them from the gateway caches.
pub async fn live_ids<C: sea_orm::ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Vec<i64>, Error> {
    live_ids_of(db, &[account_id]).await
}

async fn live_ids_of<C: sea_orm::ConnectionTrait>(
    db: &C,
    account_ids: &[i64],
) -> Result<Vec<i64>, Error> {
    Ok(api_key::Entity::find()
        .select_only()
        .column(api_key::Column::Id)
        .filter(
            sea_orm::Condition::any()
                .add(api_key::Column::AccountId.is_in(account_ids.iter().copied()))
                .add(api_key::Column::MemberId.is_in(account_ids.iter().copied())),
        )
        .filter(api_key::Column::RevokedAt.is_null())
        .into_tuple()
        .all(db)
        .await?)
}

/// Records use of a key, at most once a minute per key.
pub async fn touch(db: &DatabaseConnection, key_id: i64) -> Result<(), Error> {
    let now = time::now();
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(key_id))
        .filter(
            api_key::Column::LastUsedAt
                .is_null()
                .or(api_key::Column::LastUsedAt.lte(now - 60)),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};

    #[test]
    fn hashes_are_lower_case_hex_of_sha256() {
        // FIPS 180-2's example, and every byte value against the `hex` crate.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(to_hex(&sha256("abc")), sha256_hex("abc"));
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(to_hex(&all), hex::encode(&all));
        assert_eq!(to_hex(&[]), "");
    }

    #[tokio::test]
    async fn a_key_is_shown_once_listed_by_prefix_and_stored_as_a_hash() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let (info, key) = create(&svc, &a, "ci").await.unwrap();
            assert!(key.starts_with(KEY_PREFIX) && key.len() > 40);
            assert_eq!(info.prefix, key[..SHOWN_CHARS]);
            let listed = list(&svc.db, a.id).await.unwrap();
            assert_eq!(listed, vec![info.clone()]);
            let row = api_key::Entity::find_by_id(info.id)
                .one(&svc.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.key_hash, sha256_hex(&key));
            assert!(!row.key_hash.contains(&key[SHOWN_CHARS..]));
            let (found, owner) = authenticate(&svc.db, &key).await.unwrap();
            assert_eq!((found.id, owner.id), (info.id, a.id));
        })
        .await;
    }

    #[tokio::test]
    async fn a_revoked_key_stops_working_at_once_and_only_owners_revoke() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let b = new_account(&svc).await;
            let (info, key) = create(&svc, &a, "app").await.unwrap();
            assert!(matches!(
                revoke(&svc.db, b.id, info.id).await,
                Err(Error::NotFound)
            ));
            revoke(&svc.db, a.id, info.id).await.unwrap();
            assert!(matches!(
                authenticate(&svc.db, &key).await,
                Err(Error::Unauthorized)
            ));
            assert!(list(&svc.db, a.id).await.unwrap().is_empty());
        })
        .await;
    }

    #[tokio::test]
    async fn the_plan_limits_how_many_keys_live_at_once() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let max = svc.catalog.lowest_plan().max_keys;
            for n in 0..max {
                create(&svc, &a, &format!("k{n}")).await.unwrap();
            }
            let over = create(&svc, &a, "one too many").await;
            assert!(matches!(
                over,
                Err(Error::Invalid {
                    code: ErrorCode::KeyLimitReached,
                    ..
                })
            ));
        })
        .await;
    }

    #[tokio::test]
    async fn last_used_is_written_at_most_once_a_minute() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let (info, _) = create(&svc, &a, "k").await.unwrap();
            touch(&svc.db, info.id).await.unwrap();
            let first = list(&svc.db, a.id).await.unwrap()[0].last_used_at;
            assert!(first.is_some());
            api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::LastUsedAt,
                    Expr::value(first.unwrap() - 30),
                )
                .filter(api_key::Column::Id.eq(info.id))
                .exec(&svc.db)
                .await
                .unwrap();
            touch(&svc.db, info.id).await.unwrap();
            assert_eq!(
                list(&svc.db, a.id).await.unwrap()[0].last_used_at,
                Some(first.unwrap() - 30)
            );
        })
        .await;
    }
}
