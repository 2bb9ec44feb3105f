//! The local test gateway: with `PAYMENTS_TEST_MODE=true` and without MyFatoorah
//! credentials, the page at
//! `/billing/test-pay/{order_id}` (clearly labelled as a test) offers Pay and Fail, which
//! end here and walk the same settle path as a real confirmation. No money moves.
use super::confirm::{settle, Observed, Reported};
use super::{orders, Gateway, OrderOutcome};
use crate::{Error, Services};

/// Completes a test-gateway order of `account_id` as paid (`success`) or failed. Refused
/// with [`Error::Unauthorized`] unless the test gateway is open (test mode on, MyFatoorah
/// not configured) and the order was started on it; another account's order is
/// [`Error::NotFound`].
pub async fn test_gateway_complete(
    svc: &Services,
    order_id: i64,
    account_id: i64,
    success: bool,
) -> Result<OrderOutcome, Error> {
    if !super::uses_test_gateway(svc) {
        return Err(Error::Unauthorized);
    }
    let order = orders::find(&svc.db, order_id).await?;
    if order.account_id != account_id {
        return Err(Error::NotFound);
    }
    if order.gateway != Gateway::Test {
        return Err(Error::Unauthorized);
    }
    // The test gateway "reports" exactly the order: same checks, same transaction.
    let seen = Observed {
        status: if success {
            Reported::Paid
        } else {
            Reported::Failed
        },
        invoice_id: order.invoice_id,
        customer_reference: Some(order.id.to_string()),
        amount_fils: Some(order.amount_fils),
        currency: Some(order.currency.clone()),
        payment_id: Some(format!("test-{}", order.id)),
    };
    settle(svc, &order, &seen).await
}
