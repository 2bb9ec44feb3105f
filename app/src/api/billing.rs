//! Server functions of billing (plans, packs, checkout, payment results). The rules live
//! in `domain::payments`; these only authorise, call and map.
use leptos::prelude::*;

use crate::dto::{AppError, BillingView, PaymentView};
#[cfg(feature = "ssr")]
use crate::server::*;

#[cfg(feature = "ssr")]
pub(crate) mod map {
    use domain::payments::{self, OrderInfo};

    use crate::dto::{OrderRow, PackCard, PlanCard};
    use crate::Lang;

    pub fn order(o: &OrderInfo, lang: Lang, email: Option<String>) -> OrderRow {
        OrderRow {
            id: o.id,
            created_at: o.created_at,
            kind: o.kind.as_str().to_owned(),
            item: o.item.clone(),
            credits: o.credits,
            amount: locale::fmt_kwd(lang, o.amount_fils),
            status: o.status.as_str().to_owned(),
            invoice_id: o.invoice_id,
            account_email: email,
            test_gateway: o.gateway == payments::Gateway::Test,
        }
    }

    pub fn plans(svc: &domain::Services, lang: Lang) -> Vec<PlanCard> {
        let top = svc
            .catalog
            .plans
            .iter()
            .map(|p| p.priority)
            .max()
            .unwrap_or(0);
        svc.catalog
            .plans
            .iter()
            .map(|p| PlanCard {
                id: p.id.clone(),
                price: locale::fmt_kwd(lang, p.price_fils),
                credits: p.credits,
                requests_per_minute: p.requests_per_minute,
                models: svc
                    .catalog
                    .models_for_plan(p)
                    .iter()
                    .map(|m| m.id.clone())
                    .collect(),
                priority_and_teams: p.priority == top,
            })
            .collect()
    }

    pub fn packs(svc: &domain::Services, lang: Lang) -> Vec<PackCard> {
        svc.catalog
            .packs
            .iter()
            .map(|p| PackCard {
                id: p.id.clone(),
                price: locale::fmt_kwd(lang, p.price_fils),
                credits: p.credits,
            })
            .collect()
    }
}

#[server(prefix = "/api", endpoint = "billing")]
pub async fn billing_overview() -> Result<BillingView, AppError> {
    use domain::payments::{self, SubscriptionStatus};
    let lang = crate::request_lang();
    let (svc, account) = signed_in().await?;
    let sub = payments::subscription(&svc.catalog, &account, domain::time::now());
    let orders = payments::list_orders(&svc.db, account.id)
        .await
        .map_err(fail)?;
    Ok(BillingView {
        plans: map::plans(&svc, lang),
        packs: map::packs(&svc, lang),
        status: match sub.status {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Expired => "expired",
            SubscriptionStatus::None => "none",
        }
        .to_owned(),
        plan: account.plan.clone(),
        plan_expires_at: account.plan_expires_at,
        orders: orders.iter().map(|o| map::order(o, lang, None)).collect(),
        test_gateway: payments::uses_test_gateway(&svc),
        payments_unavailable: !payments::payments_available(&svc),
    })
}

/// Starts paying for a plan or pack; returns where to send the browser (MyFatoorah's
/// payment page, or the local test gateway).
#[server(prefix = "/api", endpoint = "billing/checkout")]
pub async fn start_checkout(item: String, method: Option<String>) -> Result<String, AppError> {
    use domain::payments::{self, PaymentMethod};
    let lang = crate::request_lang();
    let (svc, account) = signed_in().await?;
    let method = match method.as_deref() {
        Some("card") => PaymentMethod::Card,
        _ => PaymentMethod::Knet,
    };
    let checkout = payments::checkout_with_method(&svc, &account, &item, lang.code(), method)
        .await
        .map_err(fail)?;
    Ok(checkout.redirect_url)
}

/// The order being paid on the local test gateway (the caller's own, test orders only).
#[server(prefix = "/api", endpoint = "billing/order")]
pub async fn order_view(order_id: i64) -> Result<PaymentView, AppError> {
    let lang = crate::request_lang();
    let (svc, account) = signed_in().await?;
    let order = domain::payments::order_for_account(&svc.db, account.id, order_id)
        .await
        .map_err(fail)?;
    let row = map::order(&order, lang, None);
    Ok(PaymentView {
        status: row.status.clone(),
        order: Some(row),
    })
}

/// Pay or fail a test-gateway order, then show its result.
#[server(prefix = "/api", endpoint = "billing/test-pay")]
pub async fn test_pay(order_id: i64, success: bool) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::payments::test_gateway_complete(&svc, order_id, account.id, success)
        .await
        .map_err(fail)?;
    leptos_axum::redirect(&format!("/billing/result?order={order_id}"));
    Ok(())
}

/// Where MyFatoorah sends the customer back (`paymentId`), or the test gateway (`order`):
/// confirms with MyFatoorah — never trusting the redirect itself — and reports.
#[server(prefix = "/api", endpoint = "billing/result")]
pub async fn payment_result(
    payment_id: Option<String>,
    order: Option<i64>,
) -> Result<PaymentView, AppError> {
    use domain::payments::{self, OutcomeStatus};
    let lang = crate::request_lang();
    let (svc, account) = signed_in().await?;
    let (status, info) = match (payment_id.filter(|p| !p.is_empty()), order) {
        (Some(pid), _) => {
            let outcome = payments::confirm_payment(&svc, &pid).await.map_err(fail)?;
            let status = match outcome.status {
                OutcomeStatus::Paid => "paid",
                OutcomeStatus::Pending => "pending",
                OutcomeStatus::Confirming => "confirming",
                OutcomeStatus::Failed => "failed",
                OutcomeStatus::Canceled => "canceled",
                OutcomeStatus::Mismatch => "mismatch",
            };
            (status.to_owned(), outcome.order)
        }
        (None, Some(id)) => {
            let o = payments::order_for_account(&svc.db, account.id, id)
                .await
                .map_err(fail)?;
            (o.status.as_str().to_owned(), Some(o))
        }
        (None, None) => return Err(fail(domain::Error::NotFound)),
    };
    // Someone else's payment reveals nothing.
    if info.as_ref().is_some_and(|o| o.account_id != account.id) {
        return Err(fail(domain::Error::NotFound));
    }
    Ok(PaymentView {
        status,
        order: info.map(|o| map::order(&o, lang, None)),
    })
}
