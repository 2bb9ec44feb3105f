//! v2 webhooks: the `PAYMENT_STATUS_CHANGED` body and its `MyFatoorah-Signature`.
use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};

use crate::{decimal, Invoice, InvoiceStatus, TransactionStatus};

/// A webhook ready to post: the raw body and the signature header's value.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    /// The value of the `MyFatoorah-Signature` header.
    pub signature: String,
    pub body: Vec<u8>,
}

impl SignedWebhook {
    /// Posts the webhook to `url` (`Content-Type: application/json`); returns the status.
    pub async fn send(&self, url: &str) -> Result<u16, String> {
        let res = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("MyFatoorah-Signature", &self.signature)
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(res.status().as_u16())
    }
}

/// Base64(HMAC-SHA256(secret, message)), as MyFatoorah signs webhooks.
pub fn sign(secret: &str, message: &str) -> String {
    let mut mac = match hmac::Hmac::<sha2_11::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook for the invoice's latest transaction (or the invoice alone when nobody
/// has tried to pay yet).
pub(crate) fn build(inv: &Invoice, secret: &str) -> SignedWebhook {
    let invoice_status = match inv.status {
        InvoiceStatus::Paid => "PAID",
        InvoiceStatus::Pending => "PENDING",
        InvoiceStatus::Canceled => "CANCELED",
    };
    let last = inv.transactions.last();
    let tx_status = match last.map(|t| t.status) {
        Some(TransactionStatus::Succss) => "SUCCESS",
        Some(TransactionStatus::Failed) => "FAILED",
        Some(TransactionStatus::Canceled) => "CANCELED",
        Some(TransactionStatus::InProgress) | None => "",
    };
    let payment_id = last.map(|t| t.payment_id.clone()).unwrap_or_default();
    let id = inv.id.to_string();
    let value = decimal(inv.value_fils);
    let body = json!({
        "Event": {
            "Code": 1,
            "Name": "PAYMENT_STATUS_CHANGED",
            "CountryIsoCode": "KWT",
            "CreationDate": "2026-11-26T07:00:00Z",
            "Reference": format!("WH-{}{}", inv.id, inv.transactions.len()),
        },
        "Data": {
            "Invoice": {
                "Id": id,
                "Status": invoice_status,
                "Reference": format!("2026{:09}", inv.id % 1_000_000_000),
                "CreationDate": "2026-11-26T07:00:00Z",
                "ExpirationDate": "2026-12-26T07:00:00Z",
                "UserDefinedField": inv.user_defined_field,
                "ExternalIdentifier": inv.customer_reference,
                "MetaData": null,
            },
            "Transaction": {
                "Id": format!("{}{}", inv.id, inv.transactions.len()),
                "Status": tx_status,
                "PaymentMethod": last.map(|t| t.gateway.clone()).unwrap_or_default(),
                "PaymentId": payment_id,
                "ReferenceId": "",
                "TrackId": "",
                "AuthorizationId": "",
                "TransactionDate": "2026-11-26T07:00:00Z",
                "ECI": "",
                "IP": {"Address": "127.0.0.1", "Country": "Kuwait"},
                "Error": {"Code": last.and_then(|t| t.error_code.clone()).unwrap_or_default(), "Message": ""},
                "Card": null,
            },
            "Customer": {"Name": "", "Mobile": "", "Email": inv.customer_email},
            "Amount": {
                "BaseCurrency": inv.currency,
                "ValueInBaseCurrency": value,
                "ServiceCharge": "0.000",
                "ServiceChargeVAT": "0.000",
                "ReceivableAmount": value,
                "DisplayCurrency": inv.currency,
                "ValueInDisplayCurrency": value,
                "PayCurrency": inv.currency,
                "ValueInPayCurrency": value,
            },
            "Suppliers": [],
        }
    });
    // The documented field list, in this order; values verbatim, null as "".
    let message = format!(
        "Invoice.Id={id},Invoice.Status={invoice_status},Transaction.Status={tx_status},\
         Transaction.PaymentId={payment_id},Invoice.ExternalIdentifier={}",
        inv.customer_reference
    );
    SignedWebhook {
        signature: sign(secret, &message),
        body: serde_json::to_vec(&body).unwrap_or_else(|_| Value::Null.to_string().into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_base64_of_hmac_sha256() {
        // Computed independently with:
        // printf '%s' 'Invoice.Id=1,Invoice.Status=PAID' | openssl dgst -sha256 -hmac s -binary | base64
        assert_eq!(
            sign("s", "Invoice.Id=1,Invoice.Status=PAID"),
            "Bf5qgFCFpNojXznEI6gGtJ5hGo+Hg0FM/wpsPNhnjLo="
        );
    }
}
