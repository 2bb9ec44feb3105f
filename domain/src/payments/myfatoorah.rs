//! The MyFatoorah v2 client: `POST {base}/v2/<Name>` with a bearer token, answers in the
//! `{IsSuccess, Message, ValidationErrors, Data}` envelope (external-apis.md §3).
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::{Error, Services};

/// Used when `MYFATOORAH_API_TOKEN` is set without `MYFATOORAH_BASE_URL`.
const SANDBOX_URL: &str = "https://apitest.myfatoorah.com";

/// The shared HTTP client of [`Services`]. reqwest is built with rustls but without a
/// crypto provider; ring's is installed for the process (a provider installed earlier
/// elsewhere in the process is kept).
pub fn http_client() -> Result<reqwest::Client, Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .user_agent(concat!("resayil-portal/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("http client: {e}")))
}

/// Why a call did not give an answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// 5xx, 429, timeout or no connection: ask again later.
    Unavailable(String),
    /// "No data match the provided values": the key is unknown to MyFatoorah.
    NotFound,
    /// A refusal (validation, authorisation, unreadable answer).
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Unavailable(m) => write!(f, "unavailable: {m}"),
            CallError::NotFound => f.write_str("no data match the provided values"),
            CallError::Refused(m) => write!(f, "refused: {m}"),
        }
    }
}

pub(crate) enum KeyType {
    InvoiceId,
    PaymentId,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Method {
    pub payment_method_id: i64,
    #[serde(default)]
    pub payment_method_code: String,
    #[serde(default)]
    pub is_direct_payment: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Methods {
    #[serde(default)]
    payment_methods: Vec<Method>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Executed {
    #[serde(rename = "InvoiceId")]
    pub invoice_id: i64,
    #[serde(rename = "PaymentURL")]
    pub payment_url: String,
}

/// The parts of GetPaymentStatus's `Data` the confirmation needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Status {
    pub invoice_id: i64,
    #[serde(default)]
    pub invoice_status: String,
    #[serde(default)]
    pub customer_reference: Option<String>,
    #[serde(default)]
    pub invoice_value: Value,
    #[serde(default)]
    pub invoice_display_value: Option<String>,
    #[serde(default)]
    pub invoice_transactions: Vec<Transaction>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Transaction {
    #[serde(default)]
    pub payment_id: Value,
    #[serde(default)]
    pub transaction_status: String,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(default)]
    is_success: bool,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    validation_errors: Option<Vec<FieldError>>,
    #[serde(default)]
    fields_errors: Option<Vec<FieldError>>,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FieldError {
    #[serde(default)]
    name: String,
    #[serde(default)]
    error: String,
}

impl Envelope {
    /// The failure text, in the order the official library uses: field errors, then
    /// `Data.ErrorMessage`, then `Message`.
    fn failure(&self) -> String {
        let fields = self
            .validation_errors
            .iter()
            .chain(self.fields_errors.iter())
            .flatten()
            .map(|e| format!("{}: {}", e.name, e.error))
            .collect::<Vec<_>>();
        if !fields.is_empty() {
            return fields.join("; ");
        }
        if let Some(m) = self
            .data
            .as_ref()
            .and_then(|d| d.get("ErrorMessage"))
            .and_then(Value::as_str)
        {
            return m.to_owned();
        }
        self.message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "no reason given".into())
    }
}

/// A configured MyFatoorah account.
pub(crate) struct MyFatoorah<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    token: &'a SecretString,
    timeout: Duration,
}

impl<'a> MyFatoorah<'a> {
    /// `None` when no API token is configured: the local test gateway is in use.
    pub fn from_services(svc: &'a Services) -> Option<Self> {
        let s = &svc.settings;
        let token = s
            .myfatoorah_api_token
            .as_ref()
            .filter(|t| !t.expose_secret().trim().is_empty())?;
        let base = s
            .myfatoorah_base_url
            .as_deref()
            .filter(|b| !b.trim().is_empty())
            .unwrap_or(SANDBOX_URL);
        Some(Self {
            http: &svc.http,
            base: base.trim_end_matches('/'),
            token,
            timeout: Duration::from_millis(s.myfatoorah_timeout_ms.max(1)),
        })
    }

    async fn call<T: DeserializeOwned>(&self, name: &str, body: &Value) -> Result<T, CallError> {
        let res = self
            .http
            .post(format!("{}/v2/{name}", self.base))
            .bearer_auth(self.token.expose_secret())
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| CallError::Unavailable(format!("{name}: {e}")))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| CallError::Unavailable(format!("{name}: {e}")))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(CallError::Unavailable(format!("{name}: HTTP {status}")));
        }
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|_| {
            CallError::Refused(format!("{name}: HTTP {status} with an unreadable body"))
        })?;
        if !envelope.is_success {
            let why = envelope.failure();
            if why.to_ascii_lowercase().contains("no data match") {
                return Err(CallError::NotFound);
            }
            return Err(CallError::Refused(format!("{name}: HTTP {status}: {why}")));
        }
        let data = envelope.data.unwrap_or(Value::Null);
        serde_json::from_value(data)
            .map_err(|e| CallError::Refused(format!("{name}: unexpected Data: {e}")))
    }

    /// The payment methods available for an amount.
    pub async fn initiate_payment(&self, amount: Value) -> Result<Vec<Method>, CallError> {
        let body = serde_json::json!({ "InvoiceAmount": amount, "CurrencyIso": super::CURRENCY });
        let methods: Methods = self.call("InitiatePayment", &body).await?;
        Ok(methods.payment_methods)
    }

    /// Creates the invoice for one payment method; the customer goes to `PaymentURL`.
    pub async fn execute_payment(&self, body: &Value) -> Result<Executed, CallError> {
        self.call("ExecutePayment", body).await
    }

    pub async fn payment_status(&self, key: &str, kind: KeyType) -> Result<Status, CallError> {
        let key_type = match kind {
            KeyType::InvoiceId => "InvoiceId",
            KeyType::PaymentId => "PaymentId",
        };
        let body = serde_json::json!({ "Key": key, "KeyType": key_type });
        self.call("GetPaymentStatus", &body).await
    }
}
