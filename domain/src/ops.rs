//! Queries for the operator's tools: the counts `/metrics` exports, the SQLite backup, the
//! retention of raw usage rows.
use std::time::Duration;

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::{api_usage, order, outbox};
use crate::notify::Status;
use crate::payments::OrderStatus;
use crate::Error;

/// Outbox messages per status, every status listed (0 when none).
pub async fn outbox_by_status<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(&'static str, i64)>, Error> {
    let found: Vec<(String, i64)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(Expr::expr(Func::count(Expr::col(outbox::Column::Id))), "n")
        .group_by(outbox::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Status::iter()
        .map(|s| (s.as_str(), count_of(&found, s.as_str())))
        .collect())
}

/// Orders per status, every status listed (0 when none).
pub async fn orders_by_status<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(&'static str, i64)>, Error> {
    let found: Vec<(String, i64)> = order::Entity::find()
        .select_only()
        .column(order::Column::Status)
        .column_as(Expr::expr(Func::count(Expr::col(order::Column::Id))), "n")
        .group_by(order::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(OrderStatus::iter()
        .map(|s| (s.as_str(), count_of(&found, s.as_str())))
        .collect())
}

fn count_of(found: &[(String, i64)], status: &str) -> i64 {
    found
        .iter()
        .find(|(s, _)| s == status)
        .map_or(0, |(_, n)| *n)
}

/// Writes a consistent copy of a SQLite database to `to` while it is in use: `VACUUM
/// INTO` reads one snapshot (in WAL mode writers go on meanwhile) and writes a compacted,
/// self-contained database file.
pub async fn sqlite_backup(db: &sea_orm::DatabaseConnection, to: &str) -> Result<(), Error> {
    let quoted = to.replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
        .await?;
    Ok(())
}

/// Raw usage rows deleted per statement by [`prune_usage`].
pub const PRUNE_BATCH: u64 = 1000;
/// The pause between two batches: the metering writer gets the database in between.
pub const PRUNE_PAUSE: Duration = Duration::from_millis(50);

/// Deletes the raw usage rows (`api_usage`) created before `before` (unix seconds), in
/// batches of `batch` rows — each its own short statement, with `pause` between them, so
/// the metering writer is never held up for long — until none is left; how many were
/// deleted. The ledger and the hourly rollups are not touched: balances, statements and
/// usage charts stay whole.
pub async fn prune_usage<C: ConnectionTrait>(
    db: &C,
    before: i64,
    batch: u64,
    pause: Duration,
) -> Result<u64, Error> {
    prune_usage_of(db, None, before, batch, pause).await
}

/// [`prune_usage`], limited to one account's rows when `account` is given (tests share
/// one PostgreSQL database and must not delete each other's rows).
async fn prune_usage_of<C: ConnectionTrait>(
    db: &C,
    account: Option<i64>,
    before: i64,
    batch: u64,
    pause: Duration,
) -> Result<u64, Error> {
    let mut total = 0;
    loop {
        let mut find = api_usage::Entity::find()
            .select_only()
            .column(api_usage::Column::Id)
            .filter(api_usage::Column::CreatedAt.lt(before));
        if let Some(id) = account {
            find = find.filter(api_usage::Column::AccountId.eq(id));
        }
        let ids: Vec<i64> = find
            .order_by_asc(api_usage::Column::Id)
            .limit(batch)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(total);
        }
        total += api_usage::Entity::delete_many()
            .filter(api_usage::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, enterprise_account};
    use crate::usage::{insert_batch, UsageRecord};

    #[tokio::test]
    async fn pruning_deletes_only_raw_usage_rows_older_than_the_cut_in_batches() {
        each_db(|svc| async move {
            let a = enterprise_account(&svc, 500).await;
            let now = crate::time::now();
            let row = |age_days: i64, n: usize| UsageRecord {
                request_id: format!("req-prune-{}-{age_days}-{n}", a.id),
                account_id: Some(a.id),
                endpoint: "chat",
                status: 200,
                credits: 1,
                created_at: now - age_days * 86_400,
                ..UsageRecord::default()
            };
            let mut rows = Vec::new();
            for n in 0..25 {
                rows.push(row(40, n));
                rows.push(row(1, n));
            }
            insert_batch(&svc.db, &rows).await.unwrap();
            let ledger_before = crate::ledger::sum(&svc.db, a.id).await.unwrap();
            let cut = now - 30 * 86_400;
            let deleted = prune_usage_of(&svc.db, Some(a.id), cut, 7, Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(deleted, 25);
            let left = crate::usage::for_account(&svc.db, a.id).await.unwrap();
            assert_eq!(left.len(), 25);
            assert!(left.iter().all(|r| r.created_at >= cut));
            assert_eq!(
                crate::ledger::sum(&svc.db, a.id).await.unwrap(),
                ledger_before
            );
            let again = prune_usage_of(&svc.db, Some(a.id), cut, 7, Duration::ZERO).await;
            assert_eq!(again.unwrap(), 0);
        })
        .await;
    }
}
