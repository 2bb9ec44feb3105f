//! The retry job: pending orders whose confirmation did not arrive (MyFatoorah was down,
//! the customer closed the browser, the webhook was lost) are asked about again.
use crate::entities::order;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::confirm::{settle, Observed};
use super::myfatoorah::{CallError, KeyType, MyFatoorah};
use super::{Gateway, OrderStatus, OutcomeStatus};
use crate::{time, Error, Services};

/// Pending orders older than this are no longer asked about by [`retry_pending`]
/// (MyFatoorah invoices expire long before); admins still see them.
const RETRY_WINDOW_SECS: i64 = 3 * 86_400;

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
    let pending = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .filter(order::Column::Gateway.eq(Gateway::MyFatoorah))
        .filter(order::Column::InvoiceId.is_not_null())
        .filter(order::Column::CreatedAt.gte(now - RETRY_WINDOW_SECS))
        .order_by_desc(order::Column::Id)
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
        order::Entity::update_many()
            .col_expr(order::Column::UpdatedAt, now.into())
            .filter(order::Column::Id.eq(order.id))
            .filter(order::Column::Status.eq(OrderStatus::Pending))
            .exec(&svc.db)
            .await?;
    }
    Ok(settled)
}

/// Whether a pending order is due to be asked about again at `now`.
fn due(order: &order::Model, now: i64) -> bool {
    let every = match now - order.created_at {
        age if age < 600 => 60,
        age if age < 3600 => 300,
        age if age < 86_400 => 1800,
        _ => 3 * 3600,
    };
    // A little slack, so a job ticking every minute does not skip a turn.
    now - order.updated_at >= every - 5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(created_at: i64, updated_at: i64) -> order::Model {
        order::Model {
            id: 1,
            account_id: 1,
            kind: crate::payments::ItemKind::Pack,
            item: "pack-5k".into(),
            amount_fils: 5000,
            currency: "KWD".into(),
            credits: 5000,
            status: OrderStatus::Pending,
            gateway: Gateway::MyFatoorah,
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
