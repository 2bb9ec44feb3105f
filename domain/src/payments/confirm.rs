//! Confirmation: what MyFatoorah says about a payment, checked against the order, applied
//! in one transaction. The guarded `UPDATE orders … WHERE status IN ('pending','failed')`
//! is the lock: of any number of concurrent confirmations (callback, webhook, job, admin)
//! exactly one moves the order to paid and credits it; the others change nothing.
use crate::entities::order;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::credit::credit;
use super::money::{iso_currency, parse_fils};
use super::myfatoorah::{CallError, KeyType, MyFatoorah, Status};
use super::orders::{self, clip};
use super::{OrderInfo, OrderOutcome, OrderStatus};
use crate::{time, Error, Services};

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
fn mismatch(order: &order::Model, seen: &Observed) -> Option<String> {
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
    order: &order::Model,
    seen: &Observed,
) -> Result<OrderOutcome, Error> {
    match seen.status {
        Reported::Paid => {
            if let Some(why) = mismatch(order, seen) {
                return flag(svc, order, &why).await;
            }
            let txn = crate::db::begin_write(&svc.db).await?;
            let now = time::now();
            let moved = order::Entity::update_many()
                .col_expr(order::Column::Status, Expr::value(OrderStatus::Paid))
                .col_expr(order::Column::PaymentId, seen.payment_id.clone().into())
                .col_expr(order::Column::PaidAt, Some(now).into())
                .col_expr(order::Column::UpdatedAt, now.into())
                .filter(order::Column::Id.eq(order.id))
                .filter(order::Column::Status.is_in(creditable()))
                .exec(&txn)
                .await?
                .rows_affected
                == 1;
            if moved {
                let reason = format!("{} {}", order.kind.as_str(), order.item);
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
fn mismatch_of_identity(order: &order::Model, seen: &Observed) -> bool {
    order.invoice_id != seen.invoice_id
        || seen
            .customer_reference
            .as_ref()
            .is_some_and(|r| *r != order.id.to_string())
}

/// States from which a payment can still be credited: a failed attempt may be followed
/// by a successful one on the same invoice, and a success is final.
fn creditable() -> [OrderStatus; 2] {
    [OrderStatus::Pending, OrderStatus::Failed]
}

/// Flags an order whose reported payment does not match it; nothing is credited.
async fn flag(svc: &Services, order: &order::Model, why: &str) -> Result<OrderOutcome, Error> {
    tracing::warn!(
        order = order.id,
        reason = why,
        "payment does not match its order"
    );
    order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Mismatch))
        .col_expr(order::Column::Note, clip(why, 256).into())
        .col_expr(order::Column::UpdatedAt, time::now().into())
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::Status.is_in(creditable()))
        .exec(&svc.db)
        .await?;
    current(svc, order.id, false).await
}

pub(crate) async fn current(
    svc: &Services,
    order_id: i64,
    credited_now: bool,
) -> Result<OrderOutcome, Error> {
    let order: OrderInfo = orders::find(&svc.db, order_id).await?.into();
    Ok(OrderOutcome::of(order, credited_now))
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
