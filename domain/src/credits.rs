//! Credit reservation and settlement for metered requests (API-02, API-03).
//!
//! A request first *reserves* its estimated cost: a ledger debit that fails, changing
//! nothing, when the balance cannot cover it — so concurrent requests can never take the
//! balance below zero. After the upstream answered, the reservation is *settled* to the
//! actual cost: the unused part comes back, or the missing part is charged as far as the
//! balance allows (an underestimate never creates debt). Every movement is a ledger row
//! written by [`ledger::apply`] with the balance column in the same transaction; a
//! settlement that matches its reservation writes nothing.
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, TransactionTrait,
};

use crate::entities::{account, api_key, ledger as ledger_entity};
use crate::{accounts, ledger, time, Error};

/// Credits held for one request, to be settled exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub account_id: i64,
    pub amount: i64,
    /// The request id, written as the ledger rows' reference.
    pub reference: String,
    /// The balance right after the reservation.
    pub balance_after: i64,
}

/// The outcome of a settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// What the request cost in the end.
    pub charged: i64,
    /// The balance after the settlement.
    pub balance: i64,
}

/// Debits `amount` (> 0) or fails with [`Error::InsufficientCredits`], changing nothing.
pub async fn reserve(
    db: &DatabaseConnection,
    account_id: i64,
    amount: i64,
    reference: &str,
) -> Result<Reservation, Error> {
    if amount <= 0 {
        return Err(Error::Internal(format!("reservation of {amount} credits")));
    }
    let balance_after =
        move_credits(db, account_id, -amount, "reservation", reference, None).await?;
    Ok(Reservation {
        account_id,
        amount,
        reference: reference.to_owned(),
        balance_after,
    })
}

/// Like [`reserve`], for a request made with API key `key_id`: in the same transaction the
/// key must still be live, so a revocation wins over any cache in front of this call
/// ([`Error::Unauthorized`] otherwise).
pub async fn reserve_for_key(
    db: &DatabaseConnection,
    key_id: i64,
    account_id: i64,
    amount: i64,
    reference: &str,
) -> Result<Reservation, Error> {
    if amount <= 0 {
        return Err(Error::Internal(format!("reservation of {amount} credits")));
    }
    let balance_after = debit_for_key(db, key_id, account_id, amount, reference).await?;
    Ok(Reservation {
        account_id,
        amount,
        reference: reference.to_owned(),
        balance_after,
    })
}

/// Settles `r` to `actual` credits (0 = nothing is charged, the whole reservation returns).
pub async fn settle(
    db: &DatabaseConnection,
    r: &Reservation,
    actual: i64,
) -> Result<Settled, Error> {
    let actual = actual.max(0);
    let back = r.amount - actual;
    if back > 0 {
        let balance =
            move_credits(db, r.account_id, back, "settlement", &r.reference, None).await?;
        return Ok(Settled {
            charged: actual,
            balance,
        });
    }
    if back == 0 {
        // Nothing moves; the balance right after the reservation is recent enough for
        // the threshold checks, and saves a query on the hot path.
        return Ok(Settled {
            charged: actual,
            balance: r.balance_after,
        });
    }
    // The request cost more than reserved: charge the rest, as far as the balance goes.
    let mut missing = -back;
    for _ in 0..3 {
        match move_credits(db, r.account_id, -missing, "settlement", &r.reference, None).await {
            Ok(balance) => {
                return Ok(Settled {
                    charged: r.amount + missing,
                    balance,
                })
            }
            Err(Error::InsufficientCredits) => {
                let available = accounts::find(db, r.account_id).await?.credits;
                if available <= 0 {
                    break;
                }
                missing = missing.min(available);
            }
            Err(e) => return Err(e),
        }
    }
    tracing::warn!(
        account = r.account_id,
        reference = %r.reference,
        "settlement beyond the balance written off"
    );
    Ok(Settled {
        charged: r.amount,
        balance: accounts::find(db, r.account_id).await?.credits,
    })
}

/// The reservation of a metered request, the hot path's only write before the answer:
/// one `UPDATE … RETURNING` that checks the balance and that the key is live, and the
/// ledger row, in one transaction (four statements with BEGIN and COMMIT, where
/// [`ledger::apply`] plus a key check take six).
async fn debit_for_key(
    db: &DatabaseConnection,
    key_id: i64,
    account_id: i64,
    amount: i64,
    reference: &str,
) -> Result<i64, Error> {
    use sea_orm::sea_query::ExprTrait;
    let live_key = Query::select()
        .expr(Expr::val(1))
        .from(api_key::Entity)
        .and_where(Expr::col((api_key::Entity, api_key::Column::Id)).eq(key_id))
        .and_where(
            Expr::col((api_key::Entity, api_key::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        )
        .and_where(Expr::col((api_key::Entity, api_key::Column::RevokedAt)).is_null())
        .to_owned();
    let debit = Query::update()
        .table(account::Entity)
        .value(
            account::Column::Credits,
            Expr::col(account::Column::Credits).sub(amount),
        )
        .and_where(Expr::col(account::Column::Id).eq(account_id))
        .and_where(Expr::col(account::Column::Credits).gte(amount))
        .and_where(Expr::exists(live_key))
        .returning_col(account::Column::Credits)
        .to_owned();
    let txn = db.begin().await?;
    let Some(row) = txn.query_one(&debit).await? else {
        drop(txn);
        // Nothing changed: a revoked key learns nothing about the balance.
        return Err(if key_is_live(db, key_id, account_id).await? {
            Error::InsufficientCredits
        } else {
            Error::Unauthorized
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

async fn move_credits(
    db: &DatabaseConnection,
    account_id: i64,
    delta: i64,
    reason: &str,
    reference: &str,
    live_key: Option<i64>,
) -> Result<i64, Error> {
    let txn = db.begin().await?;
    // The write comes first: on SQLite a transaction that reads before it writes fails at
    // once (SQLITE_BUSY_SNAPSHOT) when another writer committed in between, whereas a
    // first write waits for the lock.
    let applied = ledger::apply(
        &txn,
        ledger::Entry {
            account_id,
            delta,
            kind: ledger::Kind::Usage,
            reason: Some(reason),
            reference: Some(reference),
        },
    )
    .await;
    let balance = match applied {
        Ok(b) => b,
        Err(Error::InsufficientCredits) => {
            drop(txn);
            // A revoked key learns nothing about the balance.
            if let Some(key_id) = live_key {
                if !key_is_live(db, key_id, account_id).await? {
                    return Err(Error::Unauthorized);
                }
            }
            return Err(Error::InsufficientCredits);
        }
        Err(e) => return Err(e),
    };
    if let Some(key_id) = live_key {
        if !key_is_live(&txn, key_id, account_id).await? {
            // Dropping the transaction rolls the debit back.
            return Err(Error::Unauthorized);
        }
    }
    txn.commit().await?;
    Ok(balance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{create, NewAccount, OperatorChoices};
    use crate::testing::{each_db, unique_email, unique_phone};
    use crate::Services;

    async fn account_with(svc: &Services, credits: i64) -> i64 {
        create(
            svc,
            NewAccount {
                email: &unique_email(),
                phone: &unique_phone(),
                password: "password1",
                lang: "en",
            },
            OperatorChoices {
                plan: Some("enterprise".into()),
                credits: Some(credits),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn balance_and_ledger(svc: &Services, id: i64) -> (i64, i64) {
        let balance = accounts::find(&svc.db, id).await.unwrap().credits;
        (balance, ledger::sum(&svc.db, id).await.unwrap())
    }

    #[tokio::test]
    async fn two_hundred_concurrent_reservations_never_take_the_balance_below_zero() {
        each_db(|svc| async move {
            let id = account_with(&svc, 10).await;
            let tasks: Vec<_> = (0..200)
                .map(|n| {
                    let db = svc.db.clone();
                    tokio::spawn(async move {
                        let r = reserve(&db, id, 1, &format!("req-{n}")).await;
                        if let Ok(r) = &r {
                            assert!(r.balance_after >= 0);
                            settle(&db, r, 1).await.unwrap();
                        }
                        r.is_ok()
                    })
                })
                .collect();
            let mut ok = 0;
            for t in tasks {
                ok += usize::from(t.await.unwrap());
            }
            assert_eq!(ok, 10);
            assert_eq!(balance_and_ledger(&svc, id).await, (0, 0));
        })
        .await;
    }

    #[tokio::test]
    async fn a_revoked_key_cannot_reserve_even_past_a_cache() {
        each_db(|svc| async move {
            let id = account_with(&svc, 10).await;
            let owner = accounts::find(&svc.db, id).await.unwrap();
            let (key, _) = crate::keys::create(&svc, &owner, "k").await.unwrap();
            let r = reserve_for_key(&svc.db, key.id, id, 1, "a").await.unwrap();
            settle(&svc.db, &r, 1).await.unwrap();
            crate::keys::revoke(&svc.db, id, key.id).await.unwrap();
            assert!(matches!(
                reserve_for_key(&svc.db, key.id, id, 1, "b").await,
                Err(Error::Unauthorized)
            ));
            assert_eq!(balance_and_ledger(&svc, id).await, (9, 9));
        })
        .await;
    }

    #[tokio::test]
    async fn settlement_returns_the_unused_part_and_charges_at_most_the_balance() {
        each_db(|svc| async move {
            let id = account_with(&svc, 10).await;
            let r = reserve(&svc.db, id, 4, "a").await.unwrap();
            assert_eq!(r.balance_after, 6);
            let s = settle(&svc.db, &r, 1).await.unwrap();
            assert_eq!(
                s,
                Settled {
                    charged: 1,
                    balance: 9
                }
            );

            let r = reserve(&svc.db, id, 2, "b").await.unwrap();
            let s = settle(&svc.db, &r, 0).await.unwrap();
            assert_eq!(
                s,
                Settled {
                    charged: 0,
                    balance: 9
                }
            );

            let r = reserve(&svc.db, id, 2, "c").await.unwrap();
            let s = settle(&svc.db, &r, 50).await.unwrap();
            assert_eq!(
                s,
                Settled {
                    charged: 9,
                    balance: 0
                }
            );
            assert!(matches!(
                reserve(&svc.db, id, 1, "d").await,
                Err(Error::InsufficientCredits)
            ));
            assert_eq!(balance_and_ledger(&svc, id).await, (0, 0));
        })
        .await;
    }
}
