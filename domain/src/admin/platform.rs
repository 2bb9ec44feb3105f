//! Platform-wide usage per UTC hour and provider (`usage_platform_hourly`): what the admin
//! overview reads. The per-account rollups (`crate::rollup`) have about one bucket per
//! request when requests come from many accounts, so a platform total over them still
//! walks every bucket; this table has at most a few rows per hour. It is added to in the
//! same transaction as the usage rows (`rollup::add` calls [`add`]).
use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::usage_platform_hourly::{self as row, Column as C};
use crate::usage::UsageRecord;
use crate::Error;

const HOUR: i64 = 3600;

/// Adds `rows` (requests of accounts; keyless refusals are not counted, as in the rollups).
pub async fn add<Db: ConnectionTrait>(db: &Db, rows: &[&UsageRecord]) -> Result<(), Error> {
    let mut sums: BTreeMap<(i64, &str), (i64, i64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.account_id.is_some()) {
        let e = sums
            .entry((
                r.created_at.div_euclid(HOUR) * HOUR,
                r.provider.unwrap_or(""),
            ))
            .or_default();
        e.0 += 1;
        e.1 += r.credits;
    }
    if sums.is_empty() {
        return Ok(());
    }
    // One statement per batch: a batch spans an hour or two.
    for chunk in sums.into_iter().collect::<Vec<_>>().chunks(64) {
        let mut q = Query::insert();
        q.into_table(row::Entity)
            .columns([C::Hour, C::Provider, C::Requests, C::Credits]);
        for ((hour, provider), (requests, credits)) in chunk {
            q.values_panic([
                (*hour).into(),
                (*provider).into(),
                (*requests).into(),
                (*credits).into(),
            ]);
        }
        let mut conflict = OnConflict::columns([C::Hour, C::Provider]);
        for (col, name) in [(C::Requests, "requests"), (C::Credits, "credits")] {
            conflict.value(
                col,
                Expr::cust(format!("usage_platform_hourly.{name} + excluded.{name}")),
            );
        }
        q.on_conflict(conflict);
        db.execute(&q).await?;
    }
    Ok(())
}

/// The rows of the hours in `from..to` (unix seconds).
pub async fn hours<Db: ConnectionTrait>(
    db: &Db,
    from: i64,
    to: i64,
) -> Result<Vec<row::Model>, Error> {
    Ok(row::Entity::find()
        .filter(C::Hour.gte(from))
        .filter(C::Hour.lt(to))
        .all(db)
        .await?)
}
