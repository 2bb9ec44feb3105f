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

/// How far behind the rows before it a usage row's time may be: rows are stamped when
/// their request ends and get their ids when the metering writer inserts them, a moment
/// later; a writer that waited out a database outage, or another instance's, inserts
/// older rows after newer ones. A generous bound: it only sets how far past the cut a
/// prune reads before it stops.
pub const PRUNE_SLACK_SECS: i64 = 3600;

/// Deletes the raw usage rows (`api_usage`) created before `before` (unix seconds), in
/// batches of `batch` rows — each its own short statement, with `pause` between them, so
/// the metering writer is never held up for long; how many were deleted. The ledger and
/// the hourly rollups are not touched: balances, statements and usage charts stay whole.
///
/// The rows are walked in id order (the primary key: no index on time alone is kept up
/// for this job) from the oldest, until a whole batch is newer than the cut by more than
/// [`PRUNE_SLACK_SECS`]. A row written later than that (an instance that was cut off from
/// the database for longer) is deleted by a later run, once the cut has passed the rows
/// around it.
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
    use api_usage::Column as Col;
    let mut total = 0;
    let mut after = 0;
    loop {
        let mut find = api_usage::Entity::find()
            .select_only()
            .column(Col::Id)
            .column(Col::CreatedAt)
            .filter(Col::Id.gt(after));
        if let Some(id) = account {
            find = find.filter(Col::AccountId.eq(id));
        }
        let rows: Vec<(i64, i64)> = find
            .order_by_asc(Col::Id)
            .limit(batch)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(total);
        };
        after = last;
        let old: Vec<i64> = rows
            .iter()
            .filter(|(_, at)| *at < before)
            .map(|(id, _)| *id)
            .collect();
        if rows
            .iter()
            .all(|(_, at)| *at >= before.saturating_add(PRUNE_SLACK_SECS))
        {
            return Ok(total);
        }
        if !old.is_empty() {
            total += api_usage::Entity::delete_many()
                .filter(Col::Id.is_in(old))
                .exec(db)
                .await?
                .rows_affected;
            // Only a delete holds the writer up; reading past the cut does not.
            tokio::time::sleep(pause).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, enterprise_account};
    use crate::usage::{insert_batch, UsageRecord};

    /// The `n`-th charged row of `account_id` at `created_at`; `tag` keeps request ids
    /// apart between tests sharing the PostgreSQL database.
    fn usage_row(account_id: i64, tag: &str, created_at: i64, n: usize) -> UsageRecord {
        UsageRecord {
            request_id: format!("req-{tag}-{account_id}-{created_at}-{n}"),
            account_id: Some(account_id),
            endpoint: "chat",
            status: 200,
            credits: 1,
            created_at,
            ..UsageRecord::default()
        }
    }

    #[tokio::test]
    async fn pruning_deletes_only_raw_usage_rows_older_than_the_cut_in_batches() {
        each_db(|svc| async move {
            let a = enterprise_account(&svc, 500).await;
            let now = crate::time::now();
            let cut = now - 30 * 86_400;
            let row = |created_at, n| usage_row(a.id, "prune", created_at, n);
            let mut rows = Vec::new();
            for n in 0..25 {
                rows.push(row(now - 40 * 86_400, n));
                rows.push(row(now - 86_400, n));
            }
            // Just after the cut, then one written late (an old row after newer ones):
            // within the slack, so the walk goes on and takes it.
            rows.push(row(cut + 10, 0));
            rows.push(row(cut - 10, 0));
            // Rows well after the cut: the walk stops in them.
            for n in 0..20 {
                rows.push(row(now, n));
            }
            insert_batch(&svc.db, &rows).await.unwrap();
            let ledger_before = crate::ledger::sum(&svc.db, a.id).await.unwrap();
            let deleted = prune_usage_of(&svc.db, Some(a.id), cut, 7, Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(deleted, 26);
            let left = crate::usage::for_account(&svc.db, a.id).await.unwrap();
            assert_eq!(left.len(), 46);
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

    /// The walk stops a batch after the rows pass the cut by the slack: a row written
    /// later than that is left for a later run, whose cut has passed the rows around it.
    #[tokio::test]
    async fn pruning_stops_once_a_whole_batch_is_well_past_the_cut() {
        each_db(|svc| async move {
            let a = enterprise_account(&svc, 500).await;
            let now = crate::time::now();
            let cut = now - 30 * 86_400;
            let row = |created_at, n| usage_row(a.id, "prune-stop", created_at, n);
            let far_late = cut - 2 * PRUNE_SLACK_SECS;
            let past_slack = cut + 2 * PRUNE_SLACK_SECS;
            let mut rows: Vec<UsageRecord> = (0..5).map(|n| row(past_slack, n)).collect();
            rows.push(row(far_late, 0));
            insert_batch(&svc.db, &rows).await.unwrap();
            let first = prune_usage_of(&svc.db, Some(a.id), cut, 5, Duration::ZERO).await;
            assert_eq!(first.unwrap(), 0);
            // A day later the cut has passed them all.
            let later = prune_usage_of(&svc.db, Some(a.id), cut + 86_400, 5, Duration::ZERO);
            assert_eq!(later.await.unwrap(), 6);
        })
        .await;
    }
}
