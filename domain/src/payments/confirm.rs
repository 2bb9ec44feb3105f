//! Confirmation: what MyFatoorah says about a payment, checked against the order, applied
//! in one transaction. The guarded `UPDATE orders … WHERE status IN ('pending','failed')`
//! is the lock: of any number of concurrent confirmations (callback, webhook, job, admin)
//! exactly one moves the order to paid and credits it; the others change nothing.
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::json;

use super::money::{iso_currency, parse_fils};
use super::myfatoorah::{CallError, KeyType, MyFatoorah, Status};
use super::orders::{self, clip};
use super::{row, Gateway, ItemKind, OrderInfo, OrderOutcome, OrderStatus, OutcomeStatus};
use crate::accounts::{Account, Role};
use crate::entities::account;
use crate::{accounts, events, ledger, time, Error, FieldCode, Services};

/// Pending orders older than this are no longer asked about by [`retry_pending`]
/// (MyFatoorah invoices expire long before); admins still see them.
const RETRY_WINDOW_SECS: i64 = 3 * 86_400;

/// What the payment provider reports about an order's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reported {
    Paid,
    Pending,
    Failed,
    Canceled,
}

/// A payment as observed at the provider, to be checked against the order.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub status: Reported,
    pub invoice_id: Option<i64>,
    pub customer_reference: Option<String>,
    pub amount_fils: Option<i64>,
    pub currency: Option<String>,
    pub payment_id: Option<String>,
}

impl Observed {
    /// Reads GetPaymentStatus. Paid when the invoice says so or a transaction succeeded
    /// (`Succss`); failed when the attempt in focus (the given PaymentId, else the latest)
    /// failed; MyFatoorah's API has no Failed invoice status of its own.
    pub fn from_status(s: &Status, focus: Option<&str>) -> Self {
        let pid = |t: &super::myfatoorah::Transaction| match &t.payment_id {
            serde_json::Value::String(p) => p.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let success = s
            .invoice_transactions
            .iter()
            .find(|t| t.transaction_status.eq_ignore_ascii_case("Succss"));
        let focused = focus
            .and_then(|f| s.invoice_transactions.iter().find(|t| pid(t) == f))
            .or_else(|| s.invoice_transactions.last());
        let invoice = s.invoice_status.to_ascii_lowercase();
        let status = if success.is_some() || invoice == "paid" || invoice == "duplicatepayment" {
            Reported::Paid
        } else if invoice == "canceled" {
            Reported::Canceled
        } else if focused.is_some_and(|t| {
            let t = t.transaction_status.to_ascii_lowercase();
            t == "failed" || t == "canceled"
        }) {
            Reported::Failed
        } else {
            Reported::Pending
        };
        let currency = success
            .or(focused)
            .and_then(|t| t.currency.clone())
            .or_else(|| {
                // "5.000 KD": the invoice's own currency, when no transaction names one.
                s.invoice_display_value
                    .as_deref()
                    .and_then(|v| v.split_whitespace().last().map(str::to_owned))
            })
            .map(|c| iso_currency(&c));
        Self {
            status,
            invoice_id: Some(s.invoice_id),
            customer_reference: s.customer_reference.clone().filter(|r| !r.is_empty()),
            amount_fils: parse_fils(&s.invoice_value),
            currency,
            payment_id: success.or(focused).map(pid).filter(|p| !p.is_empty()),
        }
    }
}

/// Why a reported payment does not belong to the order, if it does not.
fn mismatch(order: &row::Model, seen: &Observed) -> Option<String> {
    if order.invoice_id != seen.invoice_id {
        return Some(format!(
            "invoice {:?} reported for order with invoice {:?}",
            seen.invoice_id, order.invoice_id
        ));
    }
    if let Some(r) = &seen.customer_reference {
        if *r != order.id.to_string() {
            return Some(format!("customer reference {r} on order {}", order.id));
        }
    }
    if seen.amount_fils != Some(order.amount_fils) {
        return Some(format!(
            "amount {:?} fils reported, order is {} fils",
            seen.amount_fils, order.amount_fils
        ));
    }
    if seen.currency.as_deref() != Some(order.currency.as_str()) {
        return Some(format!(
            "currency {:?} reported, order is {}",
            seen.currency, order.currency
        ));
    }
    None
}

/// Applies what was observed to the order: the one place an order is confirmed.
pub(crate) async fn settle(
    svc: &Services,
    order: &row::Model,
    seen: &Observed,
) -> Result<OrderOutcome, Error> {
    match seen.status {
        Reported::Paid => {
            if let Some(why) = mismatch(order, seen) {
                return flag(svc, order, &why).await;
            }
            let txn = svc.db.begin().await?;
            let now = time::now();
            let moved = row::Entity::update_many()
                .col_expr(row::Column::Status, OrderStatus::Paid.as_str().into())
                .col_expr(row::Column::PaymentId, seen.payment_id.clone().into())
                .col_expr(row::Column::PaidAt, Some(now).into())
                .col_expr(row::Column::UpdatedAt, now.into())
                .filter(row::Column::Id.eq(order.id))
                .filter(row::Column::Status.is_in(creditable()))
                .exec(&txn)
                .await?
                .rows_affected
                == 1;
            if moved {
                let reason = format!("{} {}", order.kind, order.item);
                credit(&txn, svc, order, &reason).await?;
                txn.commit().await?;
                tracing::info!(order = order.id, account = order.account_id, "order paid");
            } else {
                txn.rollback().await?;
            }
            current(svc, order.id, moved).await
        }
        Reported::Failed | Reported::Canceled => {
            if mismatch_of_identity(order, seen) {
                tracing::warn!(order = order.id, "a failure report for another invoice");
                return current(svc, order.id, false).await;
            }
            let status = if seen.status == Reported::Failed {
                OrderStatus::Failed
            } else {
                OrderStatus::Canceled
            };
            let note = format!("MyFatoorah reported the payment {}", status.as_str());
            let pid = seen.payment_id.as_deref();
            orders::close_pending(&svc.db, order.id, status, &note, pid).await?;
            current(svc, order.id, false).await
        }
        Reported::Pending => current(svc, order.id, false).await,
    }
}

/// The invoice or reference of a report belongs to another order.
fn mismatch_of_identity(order: &row::Model, seen: &Observed) -> bool {
    order.invoice_id != seen.invoice_id
        || seen
            .customer_reference
            .as_ref()
            .is_some_and(|r| *r != order.id.to_string())
}

/// States from which a payment can still be credited: a failed attempt may be followed
/// by a successful one on the same invoice, and a success is final.
fn creditable() -> [&'static str; 2] {
    [OrderStatus::Pending.as_str(), OrderStatus::Failed.as_str()]
}

/// Flags an order whose reported payment does not match it; nothing is credited.
async fn flag(svc: &Services, order: &row::Model, why: &str) -> Result<OrderOutcome, Error> {
    tracing::warn!(
        order = order.id,
        reason = why,
        "payment does not match its order"
    );
    row::Entity::update_many()
        .col_expr(row::Column::Status, OrderStatus::Mismatch.as_str().into())
        .col_expr(row::Column::Note, clip(why, 256).into())
        .col_expr(row::Column::UpdatedAt, time::now().into())
        .filter(row::Column::Id.eq(order.id))
        .filter(row::Column::Status.is_in(creditable()))
        .exec(&svc.db)
        .await?;
    current(svc, order.id, false).await
}

async fn current(svc: &Services, order_id: i64, credited_now: bool) -> Result<OrderOutcome, Error> {
    let order: OrderInfo = orders::find(&svc.db, order_id).await?.into();
    Ok(OrderOutcome::of(order, credited_now))
}

/// Inside the confirming transaction: the credits through the ledger, the plan's new
/// expiry, and the notification events (deduplicated per order).
pub(crate) async fn credit<C: ConnectionTrait>(
    conn: &C,
    svc: &Services,
    order: &row::Model,
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
    match ItemKind::from_db(&order.kind) {
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
    order: &row::Model,
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

/// The browser callback (`/billing/callback?paymentId=…`): asks MyFatoorah about the
/// payment (KeyType=PaymentId), finds the order by the invoice it belongs to, and settles
/// it. Unknown payment or invoice → [`Error::NotFound`]; MyFatoorah unreachable →
/// [`OutcomeStatus::Confirming`] (the order stays pending, [`retry_pending`] finishes).
/// A paymentId of an older order only ever concerns that older order.
pub async fn confirm_payment(svc: &Services, payment_id: &str) -> Result<OrderOutcome, Error> {
    let payment_id = payment_id.trim();
    let plausible = !payment_id.is_empty()
        && payment_id.len() <= 64
        && payment_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let Some(client) = MyFatoorah::from_services(svc).filter(|_| plausible) else {
        return Err(Error::NotFound);
    };
    let status = match client.payment_status(payment_id, KeyType::PaymentId).await {
        Ok(s) => s,
        Err(CallError::Unavailable(e)) => {
            tracing::warn!(error = %e, "GetPaymentStatus unavailable; the job will retry");
            return Ok(OrderOutcome::confirming(None));
        }
        Err(CallError::NotFound) => return Err(Error::NotFound),
        Err(CallError::Refused(e)) => return Err(Error::PaymentProvider(e)),
    };
    let Some(order) = orders::find_by_invoice(&svc.db, status.invoice_id).await? else {
        tracing::warn!(
            invoice = status.invoice_id,
            "a payment for an invoice of no order"
        );
        return Err(Error::NotFound);
    };
    settle(
        svc,
        &order,
        &Observed::from_status(&status, Some(payment_id)),
    )
    .await
}

/// The retry job (run it every minute or so): asks MyFatoorah again about the pending
/// orders with an invoice from the last three days, newest first, and settles them. Each
/// order is asked about less often as it ages (every minute at first, every three hours
/// after a day), since most of them are simply abandoned checkouts and GetPaymentStatus is
/// rate-limited. Stops early while MyFatoorah is unavailable. Returns how many orders
/// left pending.
pub async fn retry_pending(svc: &Services) -> Result<usize, Error> {
    retry_pending_at(svc, time::now()).await
}

/// [`retry_pending`] as if the time were `now`.
pub(crate) async fn retry_pending_at(svc: &Services, now: i64) -> Result<usize, Error> {
    let Some(client) = MyFatoorah::from_services(svc) else {
        return Ok(0);
    };
    let pending = row::Entity::find()
        .filter(row::Column::Status.eq(OrderStatus::Pending.as_str()))
        .filter(row::Column::Gateway.eq(Gateway::MyFatoorah.as_str()))
        .filter(row::Column::InvoiceId.is_not_null())
        .filter(row::Column::CreatedAt.gte(now - RETRY_WINDOW_SECS))
        .order_by_desc(row::Column::Id)
        .all(&svc.db)
        .await?;
    let mut settled = 0;
    for order in pending.iter().filter(|o| due(o, now)) {
        let Some(invoice) = order.invoice_id else {
            continue;
        };
        match client
            .payment_status(&invoice.to_string(), KeyType::InvoiceId)
            .await
        {
            Ok(status) => {
                let out = settle(svc, order, &Observed::from_status(&status, None)).await?;
                if out.status != OutcomeStatus::Pending {
                    settled += 1;
                    continue;
                }
            }
            Err(CallError::Unavailable(e)) => {
                tracing::warn!(error = %e, "MyFatoorah unavailable; retrying later");
                break;
            }
            Err(e) => tracing::warn!(order = order.id, error = %e, "order not confirmed"),
        }
        // Asked and still pending: the next question waits (other instances see it too).
        row::Entity::update_many()
            .col_expr(row::Column::UpdatedAt, now.into())
            .filter(row::Column::Id.eq(order.id))
            .filter(row::Column::Status.eq(OrderStatus::Pending.as_str()))
            .exec(&svc.db)
            .await?;
    }
    Ok(settled)
}

/// Whether a pending order is due to be asked about again at `now`.
fn due(order: &row::Model, now: i64) -> bool {
    let every = match now - order.created_at {
        age if age < 600 => 60,
        age if age < 3600 => 300,
        age if age < 86_400 => 1800,
        _ => 3 * 3600,
    };
    // A little slack, so a job ticking every minute does not skip a turn.
    now - order.updated_at >= every - 5
}

/// An admin marks a pending order paid after checking with MyFatoorah: the order is
/// credited like a confirmed payment, and the ledger row names the admin and the reason.
pub async fn admin_mark_paid(
    svc: &Services,
    admin: &Account,
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
        return Err(Error::invalid("reason", FieldCode::Required));
    }
    if reason.chars().count() > 200 {
        return Err(Error::invalid("reason", FieldCode::TooLong));
    }
    let order = orders::find(&svc.db, order_id).await?;
    let note = format!("marked paid by {}: {reason}", admin.email);
    let txn = svc.db.begin().await?;
    let now = time::now();
    let moved = row::Entity::update_many()
        .col_expr(row::Column::Status, OrderStatus::Paid.as_str().into())
        .col_expr(row::Column::Note, clip(&note, 256).into())
        .col_expr(row::Column::PaidAt, Some(now).into())
        .col_expr(row::Column::UpdatedAt, now.into())
        .filter(row::Column::Id.eq(order.id))
        .filter(row::Column::Status.eq(OrderStatus::Pending.as_str()))
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
    txn.commit().await?;
    tracing::info!(
        order = order.id,
        admin = admin.id,
        "order marked paid by an admin"
    );
    current(svc, order.id, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(created_at: i64, updated_at: i64) -> row::Model {
        row::Model {
            id: 1,
            account_id: 1,
            kind: "pack".into(),
            item: "pack-5k".into(),
            amount_fils: 5000,
            currency: "KWD".into(),
            credits: 5000,
            status: "pending".into(),
            gateway: "myfatoorah".into(),
            lang: "ar".into(),
            invoice_id: Some(1),
            payment_url: None,
            payment_id: None,
            note: None,
            created_at,
            updated_at,
            paid_at: None,
        }
    }

    #[test]
    fn pending_orders_are_asked_about_less_often_as_they_age() {
        let now = 1_000_000;
        assert!(!due(&pending(now - 30, now - 30), now));
        assert!(due(&pending(now - 60, now - 60), now));
        assert!(!due(&pending(now - 1200, now - 120), now));
        assert!(due(&pending(now - 1200, now - 300), now));
        assert!(!due(&pending(now - 7200, now - 600), now));
        assert!(due(&pending(now - 7200, now - 1800), now));
        assert!(!due(&pending(now - 2 * 86_400, now - 3600), now));
        assert!(due(&pending(now - 2 * 86_400, now - 3 * 3600), now));
    }
}
