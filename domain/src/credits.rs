//! The direct credit reservation of a metered request (API-02, API-03), for accounts
//! whose balance is too small for a gateway hold ([`crate::meter`] decides): a ledger
//! debit that fails, changing nothing, when the unheld balance cannot cover it — so
//! concurrent requests can never take the balance below zero. The meter's writer settles
//! it to the actual cost later.
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::entities::{account, api_key, ledger as ledger_entity};
use crate::{ledger, time, Error};

/// Debits `amount` (> 0) for a request made with API key `key_id`, or fails changing
/// nothing: [`Error::InsufficientCredits`] when the credits not held by gateway instances
/// cannot cover it, [`Error::Unauthorized`] when the key is no longer live (in the same
/// transaction, so a revocation wins over any cache in front of this call). Returns the
/// balance after the debit. [`crate::meter`] settles it.
pub async fn reserve_for_key(
    db: &DatabaseConnection,
    key_id: i64,
    account_id: i64,
    amount: i64,
    reference: &str,
) -> Result<i64, Error> {
    if amount <= 0 {
        return Err(Error::Internal(format!("reservation of {amount} credits")));
    }
    debit_for_key(db, Some(key_id), account_id, amount, reference).await
}

/// As [`reserve_for_key`], for a request the portal already authenticated by its session
/// (the playground): no key to re-check, the same balance rule and ledger row.
pub async fn reserve_for_session(
    db: &DatabaseConnection,
    account_id: i64,
    amount: i64,
    reference: &str,
) -> Result<i64, Error> {
    if amount <= 0 {
        return Err(Error::Internal(format!("reservation of {amount} credits")));
    }
    debit_for_key(db, None, account_id, amount, reference).await
}

/// The reservation of a metered request on a small balance: one `UPDATE … RETURNING` that checks the balance and that the key is live, and the
/// ledger row, in one transaction (four statements with BEGIN and COMMIT, where
/// [`ledger::apply`] plus a key check take six). `key_id` None: a session's request, no
/// key to check.
async fn debit_for_key(
    db: &DatabaseConnection,
    key_id: Option<i64>,
    account_id: i64,
    amount: i64,
    reference: &str,
) -> Result<i64, Error> {
    use sea_orm::sea_query::ExprTrait;
    let live_key = Query::select()
        .expr(Expr::val(1))
        .from(api_key::Entity)
        .and_where(Expr::col((api_key::Entity, api_key::Column::Id)).eq(key_id.unwrap_or(0)))
        .and_where(
            Expr::col((api_key::Entity, api_key::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        )
        .and_where(Expr::col((api_key::Entity, api_key::Column::RevokedAt)).is_null())
        .to_owned();
    let mut debit = Query::update()
        .table(account::Entity)
        .value(
            account::Column::Credits,
            Expr::col(account::Column::Credits).sub(amount),
        )
        .and_where(Expr::col(account::Column::Id).eq(account_id))
        // Credits held by gateway instances (crate::meter) are not available here.
        .and_where(
            Expr::col(account::Column::Credits)
                .sub(Expr::col(account::Column::Held))
                .gte(amount),
        )
        // A suspended account spends nothing (`crate::admin::users::set_suspended`).
        .and_where(Expr::col(account::Column::SuspendedAt).is_null())
        .returning_col(account::Column::Credits)
        .to_owned();
    if key_id.is_some() {
        debit.and_where(Expr::exists(live_key));
    }
    let txn = crate::db::begin_write(db).await?;
    let Some(row) = txn.query_one(&debit).await? else {
        drop(txn);
        // Nothing changed: a revoked key learns nothing about the balance.
        let live = match key_id {
            Some(key_id) => key_is_live(db, key_id, account_id).await?,
            None => true,
        };
        return Err(if !live {
            Error::Unauthorized
        } else if is_suspended(db, account_id).await? {
            Error::Suspended
        } else {
            Error::InsufficientCredits
        });
    };
    let balance: i64 = row.try_get("", "credits")?;
    ledger_entity::Entity::insert(ledger_entity::ActiveModel {
        account_id: Set(account_id),
        delta: Set(-amount),
        balance_after: Set(balance),
        kind: Set(ledger::Kind::Usage.as_str().to_owned()),
        reason: Set(Some("reservation".to_owned())),
        reference: Set(Some(reference.to_owned())),
        created_at: Set(time::now()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(balance)
}

async fn is_suspended<C: ConnectionTrait>(conn: &C, account_id: i64) -> Result<bool, Error> {
    Ok(account::Entity::find_by_id(account_id)
        .one(conn)
        .await?
        .is_some_and(|a| a.suspended_at.is_some()))
}

async fn key_is_live<C: ConnectionTrait>(
    conn: &C,
    key_id: i64,
    account_id: i64,
) -> Result<bool, Error> {
    // By primary key only, the rest checked here: SQLite (built with STAT4) re-prepares a
    // statement on every run when a bound value is compared to an indexed column.
    Ok(api_key::Entity::find_by_id(key_id)
        .one(conn)
        .await?
        .is_some_and(|k| k.revoked_at.is_none() && k.account_id == account_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts;
    use crate::testing::{each_db, enterprise_account};
    use crate::Services;

    async fn balance_and_ledger(svc: &Services, id: i64) -> (i64, i64) {
        let balance = accounts::find(&svc.db, id).await.unwrap().credits;
        (balance, ledger::sum(&svc.db, id).await.unwrap())
    }

    #[tokio::test]
    async fn a_revoked_key_cannot_reserve_even_past_a_cache() {
        each_db(|svc| async move {
            let owner = enterprise_account(&svc, 10).await;
            let id = owner.id;
            let (key, _) = crate::keys::create(&svc, &owner, "k").await.unwrap();
            assert_eq!(
                reserve_for_key(&svc.db, key.id, id, 1, "a").await.unwrap(),
                9
            );
            crate::keys::revoke(&svc.db, id, key.id).await.unwrap();
            assert!(matches!(
                reserve_for_key(&svc.db, key.id, id, 1, "b").await,
                Err(Error::Unauthorized)
            ));
            assert_eq!(balance_and_ledger(&svc, id).await, (9, 9));
        })
        .await;
    }
}
