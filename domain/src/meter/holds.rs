//! Credit holds: this instance's blocks of accounts' credits — taking a reservation from
//! one in memory, growing one in the database, renewing them, giving idle ones back, and
//! sweeping those whose instance stopped renewing them (a crash).
use std::time::Instant;

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter,
};

use super::*;
use crate::entities::{account, credit_hold};
use crate::time;

/// One instance's block of an account's credits.
pub(super) struct Holding {
    pub(super) hold_id: Option<i64>,
    /// Not yet reserved by a request.
    pub(super) free: i64,
    pub(super) in_flight: u32,
    /// Renewed until then (with the safety margin taken off).
    pub(super) usable_until: Instant,
    pub(super) last_used: Instant,
    /// The next block's size and when the last one was taken.
    pub(super) block: i64,
    pub(super) grown_at: Option<Instant>,
    /// Taken by whoever grows the hold, so concurrent requests wait for one round trip.
    pub(super) grower: Arc<tokio::sync::Mutex<()>>,
    /// When growing last failed (too few credits): small balances do not try again on
    /// every request.
    pub(super) refused_at: Option<Instant>,
}

impl Holding {
    pub(super) fn new() -> Self {
        Self {
            hold_id: None,
            free: 0,
            in_flight: 0,
            usable_until: Instant::now(),
            last_used: Instant::now(),
            block: MIN_BLOCK,
            grown_at: None,
            grower: Arc::default(),
            refused_at: None,
        }
    }

    fn usable(&self) -> bool {
        self.hold_id.is_some() && Instant::now() < self.usable_until
    }
}

impl Meter {
    /// The in-memory reservation: no await, one lock.
    pub(super) fn take(
        &self,
        account_id: i64,
        amount: i64,
        reference: &str,
    ) -> Option<Reservation> {
        let map = &mut self.inner.holdings.lock().ok()?;
        let h = map.get_mut(&account_id)?;
        if !h.usable() || h.free < amount {
            return None;
        }
        h.free -= amount;
        h.in_flight += 1;
        h.last_used = Instant::now();
        Some(Reservation {
            account_id,
            amount,
            reference: reference.to_owned(),
            hold: h.hold_id,
            balance_after: None,
            place: None,
        })
    }

    /// Adds a block to this instance's hold on the account (making one if needed). False
    /// when the account's unheld credits do not cover two blocks (the direct path then).
    pub(super) async fn grow(&self, account_id: i64, amount: i64) -> Result<bool, Error> {
        use sea_orm::sea_query::ExprTrait;
        let recently_refused = self.holding(account_id, |h| {
            h.refused_at.is_some_and(|t| t.elapsed() < RETRY_GROW_AFTER)
        });
        if recently_refused {
            return Ok(false);
        }
        let (hold_id, block) = self.holding(account_id, |h| {
            let faster = h.grown_at.is_some_and(|t| t.elapsed() < GROW_FASTER_BELOW);
            if faster {
                h.block = std::cmp::min(h.block * 2, MAX_BLOCK);
            }
            h.block = std::cmp::min(std::cmp::max(h.block, amount.saturating_mul(64)), MAX_BLOCK);
            (h.hold_id, h.block)
        });
        if block < amount {
            return Ok(false);
        }
        // Lock order everywhere: hold rows (ascending id), then account rows (ascending id).
        let db = &self.inner.db;
        let txn = crate::db::begin_write(db).await?;
        let expires = time::now() + HOLD_TTL.as_secs() as i64;
        let mut kept = None;
        if let Some(id) = hold_id {
            let extended = credit_hold::Entity::update_many()
                .col_expr(
                    credit_hold::Column::Amount,
                    Expr::col(credit_hold::Column::Amount).add(block),
                )
                .col_expr(credit_hold::Column::ExpiresAt, Expr::value(expires))
                .filter(credit_hold::Column::Id.eq(id))
                .filter(credit_hold::Column::Instance.eq(self.inner.instance.as_str()))
                .exec(&txn)
                .await?;
            if extended.rows_affected == 1 {
                kept = Some(id);
            }
        }
        let taken = Query::update()
            .table(account::Entity)
            .value(
                account::Column::Held,
                Expr::col(account::Column::Held).add(block),
            )
            .and_where(Expr::col(account::Column::Id).eq(account_id))
            .and_where(
                Expr::col(account::Column::Credits)
                    .sub(Expr::col(account::Column::Held))
                    .gte(block * 2),
            )
            .to_owned();
        if txn.execute(&taken).await?.rows_affected() != 1 {
            // Dropping the transaction undoes the extension.
            self.holding(account_id, |h| h.refused_at = Some(Instant::now()));
            return Ok(false);
        }
        let id = match kept {
            Some(id) => id,
            None => {
                // A new row locks nothing anyone else waits for.
                credit_hold::Entity::insert(credit_hold::ActiveModel {
                    account_id: Set(account_id),
                    instance: Set(self.inner.instance.clone()),
                    amount: Set(block),
                    expires_at: Set(expires),
                    created_at: Set(time::now()),
                    ..Default::default()
                })
                .exec(&txn)
                .await?
                .last_insert_id
            }
        };
        txn.commit().await?;
        self.holding(account_id, |h| {
            if kept.is_none() {
                // A new hold: whatever the old one had left was swept with it.
                h.free = 0;
            }
            h.hold_id = Some(id);
            h.free += block;
            h.usable_until = Instant::now() + HOLD_TTL - SAFETY;
            h.grown_at = Some(Instant::now());
        });
        Ok(true)
    }
}

/// Renews this instance's holds, gives idle ones back, sweeps expired ones of any
/// instance.
pub(super) async fn keep_holds(inner: std::sync::Weak<Inner>) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let idle: Vec<i64> = match inner.holdings.lock() {
            Ok(mut map) => {
                let mut idle = Vec::new();
                map.retain(|_, h| {
                    let drop = h.in_flight == 0 && h.last_used.elapsed() >= IDLE_RELEASE;
                    if drop {
                        idle.extend(h.hold_id);
                    }
                    !drop
                });
                idle
            }
            Err(_) => Vec::new(),
        };
        for id in idle {
            let _ = inner.tx.send(Msg::Release(id)).await;
        }
        if let Err(e) = renew(&inner).await {
            tracing::warn!("credit holds not renewed: {e}");
        }
        if let Err(e) = sweep(&inner.db).await {
            tracing::warn!("expired credit holds not swept: {e}");
        }
    }
}

async fn renew(inner: &Inner) -> Result<(), Error> {
    let started = Instant::now();
    let mut mine: Vec<i64> = match inner.holdings.lock() {
        Ok(map) => map.values().filter_map(|h| h.hold_id).collect(),
        Err(_) => return Ok(()),
    };
    mine.sort_unstable();
    // One row per statement, so renewing never holds two row locks (no deadlock with the
    // writer, which locks several).
    let expires = time::now() + HOLD_TTL.as_secs() as i64;
    let (mut renewed, mut gone) = (Vec::new(), Vec::new());
    for id in mine {
        let res = credit_hold::Entity::update_many()
            .col_expr(credit_hold::Column::ExpiresAt, Expr::value(expires))
            .filter(credit_hold::Column::Id.eq(id))
            .filter(credit_hold::Column::Instance.eq(inner.instance.as_str()))
            .exec(&inner.db)
            .await?;
        if res.rows_affected == 1 {
            renewed.push(id);
        } else {
            gone.push(id);
        }
    }
    if let Ok(mut map) = inner.holdings.lock() {
        for h in map.values_mut() {
            match h.hold_id {
                Some(id) if renewed.contains(&id) => h.usable_until = started + HOLD_TTL - SAFETY,
                Some(id) if gone.contains(&id) => {
                    // Swept while this instance was not renewing: its credits are free
                    // again, so nothing may be reserved against it any more.
                    h.hold_id = None;
                    h.free = 0;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Deletes holds past their expiry and frees their credits.
pub async fn sweep(db: &DatabaseConnection) -> Result<u64, Error> {
    let expired = credit_hold::Entity::find()
        .filter(credit_hold::Column::ExpiresAt.lt(time::now()))
        .all(db)
        .await?;
    let mut n = 0;
    for h in expired {
        let txn = crate::db::begin_write(db).await?;
        if let Some((account_id, amount)) = delete_hold(&txn, h.id).await? {
            free_held(&txn, account_id, amount).await?;
        }
        txn.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// Deletes hold `id`: the account and what the hold still held, if it existed.
pub(super) async fn delete_hold(
    txn: &DatabaseTransaction,
    id: i64,
) -> Result<Option<(i64, i64)>, Error> {
    let Some(h) = credit_hold::Entity::find_by_id(id).one(txn).await? else {
        return Ok(None);
    };
    let gone = credit_hold::Entity::delete_by_id(id).exec(txn).await?;
    Ok((gone.rows_affected == 1).then_some((h.account_id, h.amount)))
}

async fn free_held(txn: &DatabaseTransaction, account_id: i64, amount: i64) -> Result<(), Error> {
    use sea_orm::sea_query::ExprTrait;
    if amount == 0 {
        return Ok(());
    }
    // Never below zero, whatever happened in between.
    let held = Expr::col(account::Column::Held).sub(amount);
    account::Entity::update_many()
        .col_expr(
            account::Column::Held,
            Into::<Expr>::into(Expr::case(held.clone().lt(0), 0).finally(held)),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(txn)
        .await?;
    Ok(())
}
