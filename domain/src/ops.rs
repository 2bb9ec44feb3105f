//! Queries for the operator's tools: the counts `/metrics` exports, the SQLite backup.
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ConnectionTrait, EntityTrait, Iterable, QuerySelect};

use crate::entities::{order, outbox};
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
