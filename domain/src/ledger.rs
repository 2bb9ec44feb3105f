//! The append-only credit ledger. Every change of credits is a row here, and the cached
//! balance column of `accounts` changes in the same transaction.
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::entities::{account, ledger};
use crate::{time, Error};

/// Why credits moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Grant,
    Purchase,
    Usage,
    Adjustment,
    Refund,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Grant => "grant",
            Kind::Purchase => "purchase",
            Kind::Usage => "usage",
            Kind::Adjustment => "adjustment",
            Kind::Refund => "refund",
        }
    }
}

/// One credit movement to record.
pub struct Entry<'a> {
    pub account_id: i64,
    pub delta: i64,
    pub kind: Kind,
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// Applies `entry` inside the caller's transaction and returns the new balance.
/// A debit that would take the balance below zero changes nothing and fails with
/// [`Error::InsufficientCredits`].
pub async fn apply<C: ConnectionTrait>(conn: &C, entry: Entry<'_>) -> Result<i64, Error> {
    let mut update = account::Entity::update_many()
        .col_expr(
            account::Column::Credits,
            Expr::col(account::Column::Credits).add(entry.delta),
        )
        .filter(account::Column::Id.eq(entry.account_id));
    if entry.delta < 0 {
        update = update.filter(account::Column::Credits.gte(-entry.delta));
    }
    let res = update.exec(conn).await?;
    if res.rows_affected != 1 {
        return Err(if entry.delta < 0 {
            Error::InsufficientCredits
        } else {
            Error::NotFound
        });
    }
    let balance = account::Entity::find_by_id(entry.account_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?
        .credits;
    ledger::Entity::insert(ledger::ActiveModel {
        account_id: Set(entry.account_id),
        delta: Set(entry.delta),
        balance_after: Set(balance),
        kind: Set(entry.kind.as_str().to_owned()),
        reason: Set(entry.reason.map(str::to_owned)),
        reference: Set(entry.reference.map(str::to_owned)),
        created_at: Set(time::now()),
        ..Default::default()
    })
    .exec(conn)
    .await?;
    Ok(balance)
}

/// The sum of an account's ledger rows (what the balance column must equal).
pub async fn sum<C: ConnectionTrait>(conn: &C, account_id: i64) -> Result<i64, Error> {
    let rows = ledger::Entity::find()
        .filter(ledger::Column::AccountId.eq(account_id))
        .order_by_asc(ledger::Column::Id)
        .all(conn)
        .await?;
    Ok(rows.iter().map(|r| r.delta).sum())
}
