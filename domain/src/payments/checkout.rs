//! Checkout (SUB-02): a pending order first, then the MyFatoorah invoice, then the
//! redirect. Nothing of the payment is kept in the session: the order id travels to
//! MyFatoorah as `CustomerReference` and comes back through GetPaymentStatus.
use crate::entities::order;
use serde_json::{json, Value};

use super::money::kwd_number;
use super::myfatoorah::{CallError, Executed, MyFatoorah};
use super::orders::{self, Item};
use super::{Checkout, Gateway, ItemKind, OrderStatus, PaymentMethod, CURRENCY};
use crate::accounts::Account;
use crate::{Error, Services};

/// Starts paying for `item` (a plan or pack id of the catalog) with KNET.
/// See [`checkout_with_method`].
pub async fn checkout(
    svc: &Services,
    account: &Account,
    item: &str,
    lang: &str,
) -> Result<Checkout, Error> {
    checkout_with_method(svc, account, item, lang, PaymentMethod::Knet).await
}

/// Writes a pending order for `item`, then (with MyFatoorah credentials) creates its
/// invoice with InitiatePayment + ExecutePayment and returns MyFatoorah's PaymentURL;
/// without credentials, returns the local test gateway's page when `PAYMENTS_TEST_MODE`
/// opened it, and otherwise refuses with [`Error::PaymentsDisabled`], writing nothing.
/// An unknown item is `Error::Invalid { field: "item" }`; more than
/// `CHECKOUTS_PER_ACCOUNT_PER_HOUR` checkouts is [`Error::RateLimited`]. When MyFatoorah refuses or cannot be reached the
/// order is marked failed (with the reason in its note) and the error is
/// [`Error::PaymentProvider`]; the customer can simply choose again.
pub async fn checkout_with_method(
    svc: &Services,
    account: &Account,
    item: &str,
    lang: &str,
    method: PaymentMethod,
) -> Result<Checkout, Error> {
    let item = Item::resolve(&svc.catalog, item)?;
    let lang = if lang == "en" { "en" } else { "ar" };
    let client = MyFatoorah::from_services(svc);
    let gateway = match client {
        Some(_) => Gateway::MyFatoorah,
        None if svc.settings.payments_test_mode => Gateway::Test,
        None => return Err(Error::PaymentsDisabled),
    };
    svc.hourly
        .take(
            &format!("checkout:{}", account.id),
            svc.settings.checkouts_per_account_per_hour,
            svc.clock.instant(),
        )
        .map_err(Error::rate_limited)?;
    let order = orders::create_pending(&svc.db, account.id, &item, gateway, lang).await?;
    let Some(client) = client else {
        return Ok(Checkout {
            order_id: order.id,
            redirect_url: format!("/billing/test-pay/{}", order.id),
            test_gateway: true,
        });
    };
    match start(svc, &client, account, &order, method).await {
        Ok(invoice) => {
            orders::store_invoice(&svc.db, order.id, invoice.invoice_id, &invoice.payment_url)
                .await?;
            Ok(Checkout {
                order_id: order.id,
                redirect_url: invoice.payment_url,
                test_gateway: false,
            })
        }
        Err(e) => {
            tracing::warn!(order = order.id, error = %e, "MyFatoorah did not start the payment");
            let note = format!("MyFatoorah: {e}");
            orders::close_pending(&svc.db, order.id, OrderStatus::Failed, &note, None).await?;
            Err(Error::PaymentProvider(e.to_string()))
        }
    }
}

async fn start(
    svc: &Services,
    client: &MyFatoorah<'_>,
    account: &Account,
    order: &order::Model,
    method: PaymentMethod,
) -> Result<Executed, CallError> {
    let amount = kwd_number(order.amount_fils);
    let methods = client.initiate_payment(amount.clone()).await?;
    let wanted = match method {
        PaymentMethod::Knet => "kn",
        PaymentMethod::Card => "vm",
    };
    // Method ids differ between MyFatoorah accounts: always look them up by code.
    let method_id = methods
        .iter()
        .find(|m| m.payment_method_code.eq_ignore_ascii_case(wanted))
        .or_else(|| methods.iter().find(|m| !m.is_direct_payment))
        .map(|m| m.payment_method_id)
        .ok_or_else(|| CallError::Refused("no payment method is enabled".into()))?;
    let callback = format!(
        "{}/billing/callback",
        svc.settings.public_base_url.trim_end_matches('/')
    );
    let mut body = json!({
        "PaymentMethodId": method_id,
        "InvoiceValue": amount,
        "DisplayCurrencyIso": CURRENCY,
        "CustomerReference": order.id.to_string(),
        "UserDefinedField": format!("account:{}", account.id),
        "CustomerEmail": account.email,
        "CallBackUrl": callback,
        "ErrorUrl": callback,
        "Language": order.lang,
        "InvoiceItems": [{
            "ItemName": item_name(svc, order),
            "Quantity": 1,
            "UnitPrice": amount,
        }],
    });
    // MyFatoorah wants the country code and the national number apart, digits only.
    if let Some(national) = account.phone.strip_prefix("+965") {
        if let Value::Object(map) = &mut body {
            map.insert("MobileCountryCode".into(), "+965".into());
            map.insert("CustomerMobile".into(), national.into());
        }
    }
    client.execute_payment(&body).await
}

/// The invoice line the customer sees at MyFatoorah.
fn item_name(svc: &Services, order: &order::Model) -> String {
    let credits = order.credits;
    let days = svc.catalog.plan(&order.item).map_or(30, |p| p.period_days);
    match (order.kind, order.lang.as_str()) {
        (ItemKind::Plan, "en") => format!("Resayil {} plan ({days} days)", order.item),
        (ItemKind::Plan, _) => format!("اشتراك رسائل {} ({days} يوماً)", order.item),
        (ItemKind::Pack, "en") => format!("Resayil {credits} credits"),
        (ItemKind::Pack, _) => format!("رصيد رسائل {credits}"),
    }
}
