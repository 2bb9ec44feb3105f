//! What a paid order does, inside the transaction that moved it to paid: the credits
//! through the ledger, a plan's new expiry, and the notification events (NOTIF-02, -05,
//! -10), deduplicated per order.
use crate::entities::order;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::orders::clip;
use super::ItemKind;
use crate::entities::account;
use crate::{events, ledger, time, Error, Services};

/// Inside the confirming transaction: the credits through the ledger, the plan's new
/// expiry, and the notification events (deduplicated per order).
pub(crate) async fn credit<C: ConnectionTrait>(
    conn: &C,
    svc: &Services,
    order: &order::Model,
    reason: &str,
) -> Result<(), Error> {
    let reference = format!("order:{}", order.id);
    // The ledger's UPDATE of the account row comes first: it locks the row, so the plan
    // read below cannot interleave with another confirmation for the same account.
    let balance = ledger::apply(
        conn,
        ledger::Entry {
            account_id: order.account_id,
            delta: order.credits,
            kind: ledger::Kind::Purchase,
            reason: Some(&clip(reason, 256)),
            reference: Some(&reference),
        },
    )
    .await?;
    match order.kind {
        ItemKind::Pack => {
            let payload = json!({
                "order_id": order.id, "pack": order.item, "credits": order.credits,
                "balance": balance, "amount_fils": order.amount_fils,
            });
            events::record(
                conn,
                events::Kind::TopupConfirmed,
                Some(order.account_id),
                &reference,
                payload,
            )
            .await?;
        }
        ItemKind::Plan => activate_plan(conn, svc, order, balance, &reference).await?,
    }
    Ok(())
}

/// A renewal of the active plan extends from its current expiry; any other plan starts
/// now and replaces the old one.
async fn activate_plan<C: ConnectionTrait>(
    conn: &C,
    svc: &Services,
    order: &order::Model,
    balance: i64,
    reference: &str,
) -> Result<(), Error> {
    let acc = account::Entity::find_by_id(order.account_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let plan = svc.catalog.plan(&order.item);
    let period = plan.map_or(30, |p| p.period_days) * 86_400;
    let now = time::now();
    let base = match (acc.plan.as_deref(), acc.plan_expires_at) {
        (Some(p), Some(t)) if p == order.item && t > now => t,
        _ => now,
    };
    let expires = base + period;
    account::Entity::update_many()
        .col_expr(account::Column::Plan, Some(order.item.clone()).into())
        .col_expr(account::Column::PlanExpiresAt, Some(expires).into())
        .filter(account::Column::Id.eq(order.account_id))
        .exec(conn)
        .await?;
    let payload = json!({
        "order_id": order.id, "plan": order.item, "expires_at": expires,
        "credits": order.credits, "balance": balance, "amount_fils": order.amount_fils,
    });
    events::record(
        conn,
        events::Kind::SubscriptionActivated,
        Some(order.account_id),
        reference,
        payload.clone(),
    )
    .await?;
    let top = svc.catalog.plans.iter().map(|p| p.priority).max();
    if plan.is_some_and(|p| Some(p.priority) == top) {
        // NOTIF-10: once per account, on its first activation of the highest plan.
        let key = format!("enterprise_customer:{}", order.account_id);
        events::record(
            conn,
            events::Kind::EnterpriseCustomer,
            Some(order.account_id),
            &key,
            payload,
        )
        .await?;
    }
    Ok(())
}
