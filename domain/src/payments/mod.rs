//! Payments (SUB, TOP in PRODUCT.md): a customer chooses a plan or a top-up pack, a
//! pending order is written, MyFatoorah takes the money, and the order is confirmed only by
//! asking MyFatoorah (GetPaymentStatus) — from the browser callback, the signed webhook or
//! the retry job, whichever comes first. Crediting happens in the one transaction that moves
//! the order from pending to paid, so every other confirmation of the same payment is a
//! no-op. Without MyFatoorah credentials nothing can be bought, unless the operator opens
//! the local test gateway (`PAYMENTS_TEST_MODE=true`), which walks the same path.
//!
//! Layout:
//! - [`checkout()`]: item → pending order → InitiatePayment + ExecutePayment → PaymentURL
//!   (or the test gateway's page).
//! - [`confirm_payment`] (callback), [`handle_webhook`] (v2 webhook, signature checked),
//!   [`retry_pending`] (job), [`test_gateway_complete`], [`admin_mark_paid`]: the ways an
//!   order is confirmed; all end in `confirm::settle` and `credit::credit`.
//! - [`expire_plans`] (daily job) and [`subscription`] (what the dashboard shows).
//! - [`list_orders`], [`list_all_orders`], [`order_for_account`]: payment history.
//! - `myfatoorah`: the v2 HTTP client. `money`: fils ↔ text. `row`: the `orders` table.
//!
//! Routes the web layer serves: `GET /billing/callback?paymentId=…` (MyFatoorah's
//! CallBackUrl and ErrorUrl, built from `PUBLIC_BASE_URL`), `POST /webhooks/myfatoorah`,
//! and `/billing/test-pay/{order_id}` for the test gateway.
use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};

mod admin;
mod checkout;
mod confirm;
mod credit;
mod expiry;
mod money;
mod myfatoorah;
mod orders;
mod retry;
use crate::entities::order;
mod test_gateway;
mod webhook;

#[cfg(test)]
mod tests;

pub use admin::{admin_mark_paid, admin_mark_paid_from};
pub use checkout::{checkout, checkout_with_method};
pub use confirm::confirm_payment;
pub use expiry::{expire_plans, subscription, Subscription, SubscriptionStatus};
pub use myfatoorah::http_client;
pub use orders::{count_all_orders, list_all_orders, list_orders, order_for_account};
pub use retry::retry_pending;
pub use test_gateway::test_gateway_complete;
pub use webhook::handle_webhook;

/// Every order is in Kuwaiti dinars.
pub const CURRENCY: &str = "KWD";

/// What an order buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ItemKind {
    /// A plan for its period (30 days), with its credits.
    #[sea_orm(string_value = "plan")]
    Plan,
    /// Credits that never expire.
    #[sea_orm(string_value = "pack")]
    Pack,
}

impl ItemKind {
    /// The name the billing pages use: the stored value (a test keeps them equal).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Plan => "plan",
            ItemKind::Pack => "pack",
        }
    }
}

/// Where an order stands. Only `Pending` (and `Failed`, for a retried payment on the same
/// invoice) can still become `Paid`; `Paid` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrderStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "paid")]
    Paid,
    /// The payment attempt failed (declined, 3-D Secure, …) or could not be started.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// The invoice was canceled at MyFatoorah.
    #[sea_orm(string_value = "canceled")]
    Canceled,
    /// MyFatoorah reported a payment whose invoice, reference, amount or currency did not
    /// match the order: nothing was credited; an admin looks at it.
    #[sea_orm(string_value = "mismatch")]
    Mismatch,
}

impl OrderStatus {
    /// The name the billing pages use: the stored value (a test keeps them equal).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Mismatch => "mismatch",
        }
    }
}

/// Who takes the money for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Gateway {
    #[sea_orm(string_value = "myfatoorah")]
    MyFatoorah,
    /// The local test gateway (no MyFatoorah credentials): no money moves.
    #[sea_orm(string_value = "test")]
    Test,
}

/// One order, as the billing page and the admin list show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInfo {
    pub id: i64,
    pub account_id: i64,
    pub kind: ItemKind,
    /// The catalog id of the plan or pack.
    pub item: String,
    pub amount_fils: i64,
    pub currency: String,
    pub credits: i64,
    pub status: OrderStatus,
    pub gateway: Gateway,
    /// MyFatoorah's InvoiceId, once the payment was started.
    pub invoice_id: Option<i64>,
    pub payment_id: Option<String>,
    /// Why it failed or was flagged, or who marked it paid (for admins).
    pub note: Option<String>,
    pub created_at: i64,
    pub paid_at: Option<i64>,
}

impl From<order::Model> for OrderInfo {
    fn from(m: order::Model) -> Self {
        Self {
            id: m.id,
            account_id: m.account_id,
            kind: m.kind,
            item: m.item,
            amount_fils: m.amount_fils,
            currency: m.currency,
            credits: m.credits,
            status: m.status,
            gateway: m.gateway,
            invoice_id: m.invoice_id,
            payment_id: m.payment_id,
            note: m.note,
            created_at: m.created_at,
            paid_at: m.paid_at,
        }
    }
}

/// Where to send the customer after choosing a plan or pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    pub order_id: i64,
    /// MyFatoorah's PaymentURL, or `/billing/test-pay/{order_id}` for the test gateway.
    pub redirect_url: String,
    /// True when the redirect goes to the local test gateway (label the page as a test).
    pub test_gateway: bool,
}

/// The payment method to start a MyFatoorah payment with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// KNET debit cards (MyFatoorah code `kn`).
    #[default]
    Knet,
    /// Visa / Mastercard (code `vm`).
    Card,
}

/// What the customer is told after a confirmation attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    Paid,
    /// MyFatoorah says the payment is not finished yet.
    Pending,
    /// MyFatoorah could not be asked (5xx, timeout): "we are confirming your payment";
    /// the order stays pending and [`retry_pending`] confirms it later.
    Confirming,
    Failed,
    Canceled,
    /// Flagged for an admin; nothing was credited.
    Mismatch,
}

impl From<OrderStatus> for OutcomeStatus {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Pending => OutcomeStatus::Pending,
            OrderStatus::Paid => OutcomeStatus::Paid,
            OrderStatus::Failed => OutcomeStatus::Failed,
            OrderStatus::Canceled => OutcomeStatus::Canceled,
            OrderStatus::Mismatch => OutcomeStatus::Mismatch,
        }
    }
}

/// The result of a confirmation. `order` is `None` only when MyFatoorah could not be
/// asked and the payment's order is therefore not known yet. Before showing an order, the
/// web layer checks that `order.account_id` is the caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderOutcome {
    pub status: OutcomeStatus,
    pub order: Option<OrderInfo>,
    /// True only for the one confirmation that credited the order.
    pub credited_now: bool,
}

impl OrderOutcome {
    fn of(order: OrderInfo, credited_now: bool) -> Self {
        Self {
            status: order.status.into(),
            order: Some(order),
            credited_now,
        }
    }

    fn confirming(order: Option<OrderInfo>) -> Self {
        Self {
            status: OutcomeStatus::Confirming,
            order,
            credited_now: false,
        }
    }
}

/// What a verified webhook led to. Every variant is answered 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookOutcome {
    /// A payment status change of one of our orders, confirmed with GetPaymentStatus.
    Payment(OrderOutcome),
    /// A payment event for an invoice no order has (logged, nothing changed).
    UnknownInvoice,
    /// Another event type (refunds, deposits, …): nothing to do.
    Ignored,
}

/// True when checkouts go through the clearly labelled local test gateway: no MyFatoorah
/// credentials, and the operator opened it with `PAYMENTS_TEST_MODE=true` (demos, tests).
pub fn uses_test_gateway(svc: &crate::Services) -> bool {
    svc.settings.payments_test_mode && myfatoorah::MyFatoorah::from_services(svc).is_none()
}

/// True when something can be bought: MyFatoorah is configured, or the test gateway is.
pub fn payments_available(svc: &crate::Services) -> bool {
    myfatoorah::MyFatoorah::from_services(svc).is_some() || uses_test_gateway(svc)
}

/// Says at start-up, loudly, when the site takes no real payments.
pub fn log_mode(svc: &crate::Services) {
    let provider = myfatoorah::MyFatoorah::from_services(svc).is_some();
    match (provider, svc.settings.payments_test_mode) {
        (false, true) => tracing::warn!(
            "PAYMENTS_TEST_MODE is on: checkouts use the local test gateway, where customers \
             mark their own orders paid. Never in production."
        ),
        (true, true) => tracing::warn!(
            "PAYMENTS_TEST_MODE is ignored: MyFatoorah is configured, the test gateway stays closed"
        ),
        (false, false) => tracing::warn!(
            "payments are unavailable: set MYFATOORAH_API_TOKEN (or PAYMENTS_TEST_MODE=true for a demo)"
        ),
        (true, false) => {}
    }
}
