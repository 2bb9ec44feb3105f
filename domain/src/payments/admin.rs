//! Admins confirm a payment by hand, after checking it in the MyFatoorah portal.
use crate::entities::order;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::confirm::current;
use super::credit::credit;
use super::orders::{self, clip};
use super::{OrderOutcome, OrderStatus};
use crate::accounts::{Account, Role};
use crate::{accounts, time, Error, ErrorCode, Services};

/// An admin marks a pending order paid after checking with MyFatoorah: the order is
/// credited like a confirmed payment, and the ledger row names the admin and the reason.
pub async fn admin_mark_paid(
    svc: &Services,
    admin: &Account,
    order_id: i64,
    reason: &str,
) -> Result<OrderOutcome, Error> {
    admin_mark_paid_from(svc, admin, "unknown", order_id, reason).await
}

/// [`admin_mark_paid`] by an admin at `ip` (the audit log's row names it).
pub async fn admin_mark_paid_from(
    svc: &Services,
    admin: &Account,
    ip: &str,
    order_id: i64,
    reason: &str,
) -> Result<OrderOutcome, Error> {
    // The role is read again: a demoted admin's old session object is not enough.
    let admin = accounts::find(&svc.db, admin.id).await?;
    if admin.role != Role::Admin {
        return Err(Error::Unauthorized);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("reason", ErrorCode::Required));
    }
    if reason.chars().count() > 200 {
        return Err(Error::invalid("reason", ErrorCode::TooLong));
    }
    let order = orders::find(&svc.db, order_id).await?;
    let note = format!("marked paid by {}: {reason}", admin.email);
    let txn = crate::db::begin_write(&svc.db).await?;
    let now = time::now();
    let moved = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Paid))
        .col_expr(order::Column::Note, clip(&note, 256).into())
        .col_expr(order::Column::PaidAt, Some(now).into())
        .col_expr(order::Column::UpdatedAt, now.into())
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !moved {
        txn.rollback().await?;
        return Err(Error::Conflict("only a pending order can be marked paid"));
    }
    let ledger_reason = format!("admin {} marked order paid: {reason}", admin.email);
    credit(&txn, svc, &order, &ledger_reason).await?;
    crate::audit::record(
        &txn,
        &crate::audit::Actor::admin(&admin, ip),
        crate::audit::Change {
            action: crate::audit::actions::ORDER_MARK_PAID,
            target_account: Some(order.account_id),
            target: Some(&format!("order {}", order.id)),
            before: Some(serde_json::json!({ "status": "pending" })),
            after: Some(serde_json::json!({ "status": "paid" })),
            reason: Some(reason),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        order = order.id,
        admin = admin.id,
        "order marked paid by an admin"
    );
    current(svc, order.id, true).await
}
