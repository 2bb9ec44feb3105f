//! The v2 webhook (`POST /webhooks/myfatoorah`). The `MyFatoorah-Signature` header is
//! Base64(HMAC-SHA256(webhook secret, "k1=v1,k2=v2,…")) over a fixed field list per event
//! — not the raw body. The body is only a hint: the payment is confirmed by asking
//! GetPaymentStatus, like the callback does.
use base64::Engine;
use hmac::{KeyInit, Mac};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::confirm::{settle, Observed};
use super::myfatoorah::{CallError, KeyType, MyFatoorah};
use super::{orders, OrderOutcome, WebhookOutcome};
use crate::{Error, Services};

type HmacSha256 = hmac::Hmac<sha2_11::Sha256>;

/// The event code of a payment status change.
const PAYMENT_STATUS_CHANGED: i64 = 1;

/// The signed fields of each documented v2 event, in the documented order.
fn signed_fields(code: i64) -> Option<&'static [&'static str]> {
    Some(match code {
        1 => &[
            "Invoice.Id",
            "Invoice.Status",
            "Transaction.Status",
            "Transaction.PaymentId",
            "Invoice.ExternalIdentifier",
        ],
        2 => &[
            "Refund.Id",
            "Refund.Status",
            "Amount.ValueInBaseCurrency",
            "ReferencedInvoice.Id",
        ],
        3 => &[
            "Deposit.Reference",
            "Deposit.ValueInBaseCurrency",
            "Deposit.NumberOfTransactions",
        ],
        4 => &["Supplier.Code", "KycDecision.Status"],
        _ => return None,
    })
}

/// A field of `Data` as it is signed: strings verbatim, numbers as written, null as "".
fn field(data: &Value, path: &str) -> String {
    let mut v = data;
    for part in path.split('.') {
        v = match v.get(part) {
            Some(x) => x,
            None => return String::new(),
        };
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The string MyFatoorah signs for an event.
fn signed_message(data: &Value, fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("{f}={}", field(data, f)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Constant-time check of the header against the HMAC of `message`.
fn signature_valid(secret: &str, message: &str, header: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(message.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// Handles one webhook delivery. A missing or wrong signature (or no webhook secret
/// configured) is [`Error::Unauthorized`] and changes nothing. A payment event for an
/// unknown invoice is logged and answered [`WebhookOutcome::UnknownInvoice`]; other event
/// types are [`WebhookOutcome::Ignored`]. For our orders, GetPaymentStatus decides; when
/// it cannot be reached the outcome is `Confirming` and the retry job finishes the order.
pub async fn handle_webhook(
    svc: &Services,
    signature_header: Option<&str>,
    body: &[u8],
) -> Result<WebhookOutcome, Error> {
    let Some(secret) = svc
        .settings
        .myfatoorah_webhook_secret
        .as_ref()
        .filter(|s| !s.expose_secret().is_empty())
    else {
        tracing::warn!("MyFatoorah webhook refused: MYFATOORAH_WEBHOOK_SECRET is not set");
        return Err(Error::Unauthorized);
    };
    let json: Value = serde_json::from_slice(body).map_err(|_| Error::Unauthorized)?;
    let code = json.pointer("/Event/Code").and_then(Value::as_i64);
    let Some(fields) = code.and_then(signed_fields) else {
        tracing::info!(
            ?code,
            "MyFatoorah webhook of an unhandled event type ignored"
        );
        return Ok(WebhookOutcome::Ignored);
    };
    let data = json.get("Data").unwrap_or(&Value::Null);
    let message = signed_message(data, fields);
    let valid =
        signature_header.is_some_and(|h| signature_valid(secret.expose_secret(), &message, h));
    if !valid {
        tracing::warn!("MyFatoorah webhook with a missing or wrong signature refused");
        return Err(Error::Unauthorized);
    }
    if code != Some(PAYMENT_STATUS_CHANGED) {
        return Ok(WebhookOutcome::Ignored);
    }
    let invoice = field(data, "Invoice.Id");
    let order = match invoice.trim().parse::<i64>() {
        Ok(id) => orders::find_by_invoice(&svc.db, id).await?,
        Err(_) => None,
    };
    let Some(order) = order else {
        tracing::info!(invoice, "MyFatoorah webhook for an invoice of no order");
        return Ok(WebhookOutcome::UnknownInvoice);
    };
    let Some(client) = MyFatoorah::from_services(svc) else {
        return Err(Error::PaymentProvider(
            "a webhook arrived but MYFATOORAH_API_TOKEN is not set".into(),
        ));
    };
    let key = order.invoice_id.unwrap_or_default().to_string();
    let focus = field(data, "Transaction.PaymentId");
    match client.payment_status(&key, KeyType::InvoiceId).await {
        Ok(status) => {
            let focus = Some(focus.as_str()).filter(|f| !f.is_empty());
            let seen = Observed::from_status(&status, focus);
            Ok(WebhookOutcome::Payment(settle(svc, &order, &seen).await?))
        }
        Err(CallError::Unavailable(e)) => {
            tracing::warn!(order = order.id, error = %e, "GetPaymentStatus unavailable");
            Ok(WebhookOutcome::Payment(OrderOutcome::confirming(Some(
                order.into(),
            ))))
        }
        Err(e) => Err(Error::PaymentProvider(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_signed_string_follows_the_documented_order_with_null_as_empty() {
        let data = json!({
            "Invoice": {"Id": "6409988", "Status": "PAID", "ExternalIdentifier": null},
            "Transaction": {"Status": "SUCCESS", "PaymentId": "07076409988323998875"},
        });
        assert_eq!(
            signed_message(&data, signed_fields(1).unwrap_or_default()),
            "Invoice.Id=6409988,Invoice.Status=PAID,Transaction.Status=SUCCESS,\
             Transaction.PaymentId=07076409988323998875,Invoice.ExternalIdentifier="
        );
    }

    #[test]
    fn a_signature_is_checked_against_an_independent_hmac() {
        // printf '%s' 'Invoice.Id=1,Invoice.Status=PAID' | openssl dgst -sha256 -hmac s -binary | base64
        let good = "Bf5qgFCFpNojXznEI6gGtJ5hGo+Hg0FM/wpsPNhnjLo=";
        assert!(signature_valid(
            "s",
            "Invoice.Id=1,Invoice.Status=PAID",
            good
        ));
        assert!(!signature_valid(
            "s",
            "Invoice.Id=2,Invoice.Status=PAID",
            good
        ));
        assert!(!signature_valid(
            "t",
            "Invoice.Id=1,Invoice.Status=PAID",
            good
        ));
        assert!(!signature_valid(
            "s",
            "Invoice.Id=1,Invoice.Status=PAID",
            "not base64!"
        ));
    }
}
