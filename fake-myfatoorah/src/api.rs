//! The v2 endpoints: `POST /v2/InitiatePayment`, `/v2/ExecutePayment`, `/v2/GetPaymentStatus`.
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::{decimal, short_currency, Handle, Invoice, InvoiceStatus, Mode, METHODS};

/// The v2 envelope of a success.
fn ok(data: Value) -> Response {
    Json(json!({
        "IsSuccess": true,
        "Message": "",
        "ValidationErrors": null,
        "Data": data,
    }))
    .into_response()
}

/// The v2 envelope of a refusal.
fn refused(status: StatusCode, message: &str, errors: Vec<(&str, &str)>) -> Response {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(name, error)| json!({"Name": name, "Error": error}))
        .collect();
    (
        status,
        Json(json!({
            "IsSuccess": false,
            "Message": message,
            "ValidationErrors": if errors.is_empty() { Value::Null } else { Value::Array(errors) },
            "Data": null,
        })),
    )
        .into_response()
}

fn invalid(name: &str, error: &str) -> Response {
    refused(StatusCode::BAD_REQUEST, "Invalid data", vec![(name, error)])
}

/// Counts the call, applies the endpoint's failure mode and checks the bearer token.
/// `Err` carries the response to send instead of the real answer.
async fn gate(
    h: &Handle,
    headers: &HeaderMap,
    mode_of: fn(&crate::Config) -> Mode,
    count: fn(&mut crate::Calls),
) -> Result<(), Response> {
    let (mode, hang, token) = {
        let mut s = h.lock();
        count(&mut s.calls);
        (mode_of(&s.config), s.config.hang_ms, s.config.token.clone())
    };
    match mode {
        Mode::Normal => {}
        Mode::ServerError => {
            return Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>500 - Internal server error.</h1></body></html>",
            )
                .into_response())
        }
        Mode::Hang => tokio::time::sleep(Duration::from_millis(hang)).await,
    }
    let expected = format!("Bearer {token}");
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "Authorization has been denied for this request.",
            vec![],
        ));
    }
    Ok(())
}

/// The request body as a JSON object.
fn parse_body(body: &Bytes) -> Option<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
}

fn bad_json() -> Response {
    refused(
        StatusCode::BAD_REQUEST,
        "The request is invalid.",
        vec![("request", "A JSON object is required.")],
    )
}

/// An amount as MyFatoorah accepts it (a JSON number or string with at most 3
/// decimals), in fils. Parsed from the text, never through a float.
pub(crate) fn parse_fils(v: &Value) -> Option<i64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.replace(',', ""),
        _ => return None,
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    if whole.is_empty() || frac.len() > 3 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(frac)
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(crate) async fn initiate_payment(
    State(h): State<Handle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(
        &h,
        &headers,
        |c| c.initiate_mode,
        |c| c.initiate_payment += 1,
    )
    .await
    {
        return r;
    }
    let Some(body) = parse_body(&body) else {
        return bad_json();
    };
    let Some(amount) = body.get("InvoiceAmount").and_then(parse_fils) else {
        return invalid("InvoiceAmount", "The InvoiceAmount field is required.");
    };
    if amount <= 0 {
        return invalid("InvoiceAmount", "Invoice amount must be greater than zero.");
    }
    let currency = match text(&body, "CurrencyIso") {
        c if c.is_empty() => "KWD".to_owned(),
        c => c,
    };
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|(id, code, en, ar)| {
            json!({
                "PaymentMethodId": id,
                "PaymentMethodAr": ar,
                "PaymentMethodEn": en,
                "PaymentMethodCode": code,
                "IsDirectPayment": false,
                "ServiceCharge": 0.0,
                "TotalAmount": amount as f64 / 1000.0,
                "CurrencyIso": currency,
                "ImageUrl": format!("https://demo.myfatoorah.com/imgs/payment-methods/{code}.png"),
                "IsEmbeddedSupported": true,
                "PaymentCurrencyIso": currency,
            })
        })
        .collect();
    ok(json!({ "PaymentMethods": methods }))
}

pub(crate) async fn execute_payment(
    State(h): State<Handle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&h, &headers, |c| c.execute_mode, |c| c.execute_payment += 1).await {
        return r;
    }
    let Some(body) = parse_body(&body) else {
        return bad_json();
    };
    let Some(value) = body.get("InvoiceValue").and_then(parse_fils) else {
        return invalid("InvoiceValue", "The InvoiceValue field is required.");
    };
    if value <= 0 {
        return invalid("InvoiceValue", "Invoice value must be greater than zero.");
    }
    let method = body.get("PaymentMethodId").and_then(Value::as_i64);
    let Some(method) = method.filter(|m| METHODS.iter().any(|x| x.0 == *m)) else {
        return invalid("PaymentMethodId", "Invalid payment method id.");
    };
    for field in ["CallBackUrl", "ErrorUrl"] {
        if text(&body, field).len() > 254 {
            return invalid(field, "The maximum length is 254 characters.");
        }
    }
    let mobile = text(&body, "CustomerMobile");
    if mobile.len() > 11 || !mobile.bytes().all(|b| b.is_ascii_digit()) {
        return invalid("CustomerMobile", "Invalid mobile number.");
    }
    if text(&body, "UserDefinedField").len() > 50 {
        return invalid("UserDefinedField", "The maximum length is 50 characters.");
    }
    if let Some(Value::Array(items)) = body.get("InvoiceItems") {
        let mut sum = 0_i64;
        for item in items {
            let q = item.get("Quantity").and_then(Value::as_i64).unwrap_or(0);
            let p = item.get("UnitPrice").and_then(parse_fils).unwrap_or(0);
            sum += q * p;
        }
        if sum != value {
            return invalid(
                "InvoiceValue",
                "Invoice value should be equal to the sum of invoice items.",
            );
        }
    }
    let currency = match text(&body, "DisplayCurrencyIso") {
        c if c.is_empty() => "KWD".to_owned(),
        c => c,
    };
    let public = h.public_url();
    let mut s = h.lock();
    let id = s.next_invoice;
    s.next_invoice += 1;
    let invoice = Invoice {
        id,
        value_fils: value,
        currency,
        customer_reference: text(&body, "CustomerReference"),
        user_defined_field: text(&body, "UserDefinedField"),
        customer_email: text(&body, "CustomerEmail"),
        callback_url: text(&body, "CallBackUrl"),
        error_url: text(&body, "ErrorUrl"),
        language: text(&body, "Language"),
        payment_method_id: method,
        status: InvoiceStatus::Pending,
        transactions: vec![],
    };
    let data = json!({
        "InvoiceId": id,
        "IsDirectPayment": false,
        "PaymentURL": format!("{public}/pay/{id}"),
        "CustomerReference": invoice.customer_reference,
        "UserDefinedField": invoice.user_defined_field,
        "RecurringId": "",
    });
    s.invoices.insert(id, invoice);
    ok(data)
}

pub(crate) async fn get_payment_status(
    State(h): State<Handle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(
        &h,
        &headers,
        |c| c.status_mode,
        |c| c.get_payment_status += 1,
    )
    .await
    {
        return r;
    }
    let Some(body) = parse_body(&body) else {
        return bad_json();
    };
    let key = text(&body, "Key");
    if key.is_empty() {
        return invalid("Key", "The Key field is required.");
    }
    let kind = text(&body, "KeyType").to_ascii_lowercase();
    let s = h.lock();
    let found = match kind.as_str() {
        "invoiceid" => key.parse().ok().and_then(|id| s.invoices.get(&id)),
        "paymentid" => s
            .invoices
            .values()
            .find(|inv| inv.transactions.iter().any(|t| t.payment_id == key)),
        // Not unique: the latest invoice with that reference.
        "customerreference" => s
            .invoices
            .values()
            .rev()
            .find(|inv| inv.customer_reference == key),
        _ => return invalid("KeyType", "Invalid KeyType."),
    };
    match found {
        Some(inv) => ok(status_data(inv)),
        None => refused(
            StatusCode::BAD_REQUEST,
            "No data match the provided values",
            vec![],
        ),
    }
}

/// `Data` of `GetPaymentStatus` for one invoice.
fn status_data(inv: &Invoice) -> Value {
    let value = decimal(inv.value_fils);
    let cur = short_currency(&inv.currency);
    let transactions: Vec<Value> = inv
        .transactions
        .iter()
        .enumerate()
        .map(|(n, t)| {
            json!({
                "TransactionDate": "2026-11-26T10:00:00",
                "PaymentGateway": t.gateway,
                "ReferenceId": format!("{}{n}", inv.id),
                "TrackId": format!("{}{n}", inv.id),
                "TransactionId": format!("{}{n}", inv.id),
                "PaymentId": t.payment_id,
                "AuthorizationId": format!("{}{n}", inv.id),
                "TransactionStatus": t.status,
                "TransationValue": value,
                "CustomerServiceCharge": "0.000",
                "TotalServiceCharge": "0.000",
                "DueValue": value,
                "PaidCurrency": cur,
                "PaidCurrencyValue": value,
                "VatAmount": "0.000",
                "Currency": cur,
                "Error": if t.error_code.is_some() { "Declined" } else { "" },
                "ErrorCode": t.error_code.clone().unwrap_or_default(),
                "CardNumber": "",
                "ECI": "",
                "Card": null,
            })
        })
        .collect();
    let status = match inv.status {
        InvoiceStatus::Pending => "Pending",
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Canceled => "Canceled",
    };
    json!({
        "InvoiceId": inv.id,
        "InvoiceStatus": status,
        "InvoiceReference": format!("2026{:09}", inv.id % 1_000_000_000),
        "CustomerReference": inv.customer_reference,
        "CreatedDate": "2026-11-26T10:00:00",
        "ExpiryDate": "December 26, 2026",
        "ExpiryTime": "10:00:00",
        "InvoiceValue": inv.value_fils as f64 / 1000.0,
        "Comments": null,
        "CustomerName": "",
        "CustomerMobile": "",
        "CustomerEmail": inv.customer_email,
        "UserDefinedField": inv.user_defined_field,
        "InvoiceDisplayValue": format!("{value} {cur}"),
        "DueDeposit": 0.0,
        "DepositStatus": "Not Deposited",
        "InvoiceItems": [],
        "InvoiceTransactions": transactions,
        "Suppliers": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_decimals_without_floats() {
        assert_eq!(parse_fils(&json!(5)), Some(5000));
        assert_eq!(parse_fils(&json!(12.345)), Some(12345));
        assert_eq!(parse_fils(&json!("1,234.500")), Some(1_234_500));
        assert_eq!(parse_fils(&json!(1.2345)), None);
        assert_eq!(parse_fils(&json!("abc")), None);
    }
}
