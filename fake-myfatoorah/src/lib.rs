//! A fake MyFatoorah for tests and demos, following the v2 contract in
//! shared/reference/external-apis.md §3: the `{IsSuccess, Message, ValidationErrors, Data}`
//! envelope, `Authorization: Bearer <token>`, `InitiatePayment`, `ExecutePayment`,
//! `GetPaymentStatus` (by InvoiceId, PaymentId or CustomerReference) with `InvoiceStatus`
//! Pending/Paid/Canceled and `InvoiceTransactions` whose `TransactionStatus` is `Succss`
//! (sic) or `Failed`, and v2 webhooks signed with Base64(HMAC-SHA256) over the documented
//! fields.
//!
//! Layout:
//! - [`Config`]: the token, the webhook secret and target, and the failure switches
//!   ([`Mode`]: answer 500 or hang) per endpoint. Changed at run time through [`Handle`].
//! - [`Handle`]: what a test holds — it plays the customer ([`Handle::pay`],
//!   [`Handle::fail`]), edits invoices to fake a mismatch, counts calls, and builds or
//!   sends signed webhooks.
//! - `api`: the three v2 endpoints. `page`: a bare payment page (`GET /pay/{id}`) with
//!   pay / fail buttons that redirect to the invoice's CallBackUrl / ErrorUrl, for demos.
//! - `webhook`: the v2 `PAYMENT_STATUS_CHANGED` body and its signature.
//! - [`spawn`]: runs the server on a listener (port 0 in tests) in the current runtime.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

mod api;
mod page;
mod webhook;

pub use webhook::{sign, SignedWebhook};

/// How an endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Follows the contract.
    #[default]
    Normal,
    /// HTTP 500 with an HTML body, like an outage behind MyFatoorah's gateway.
    ServerError,
    /// Waits [`Config::hang_ms`] before answering, so the caller's timeout fires first.
    Hang,
}

/// What the fake does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The only bearer token accepted; anything else is answered 401.
    pub token: String,
    /// The secret key the webhooks are signed with.
    pub webhook_secret: String,
    /// Where the payment page sends a signed webhook after a payment (demos).
    pub webhook_url: Option<String>,
    /// The address customers' browsers reach this fake at (for `PaymentURL`); by default
    /// the address it listens on.
    pub public_url: Option<String>,
    pub initiate_mode: Mode,
    pub execute_mode: Mode,
    pub status_mode: Mode,
    /// How long [`Mode::Hang`] waits.
    pub hang_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            token: "fake-myfatoorah-token".into(),
            webhook_secret: "fake-myfatoorah-webhook-secret".into(),
            webhook_url: None,
            public_url: None,
            initiate_mode: Mode::Normal,
            execute_mode: Mode::Normal,
            status_mode: Mode::Normal,
            hang_ms: 60_000,
        }
    }
}

/// `InvoiceStatus` as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatus {
    Pending,
    Paid,
    Canceled,
}

/// `TransactionStatus` as the API reports it (`Succss` is MyFatoorah's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionStatus {
    InProgress,
    Succss,
    Failed,
    Canceled,
}

/// One payment attempt on an invoice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transaction {
    pub payment_id: String,
    pub status: TransactionStatus,
    /// The gateway name shown in the status (`KNET`, `VISA/MASTER`).
    pub gateway: String,
    /// `MF002` (declined) and friends for failed attempts.
    pub error_code: Option<String>,
}

/// An invoice created by `ExecutePayment`. Tests may edit every field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invoice {
    pub id: i64,
    /// `InvoiceValue` in fils (thousandths), as received.
    pub value_fils: i64,
    /// ISO currency of the invoice (`KWD`); transactions show it as MyFatoorah does (`KD`).
    pub currency: String,
    pub customer_reference: String,
    pub user_defined_field: String,
    pub customer_email: String,
    pub callback_url: String,
    pub error_url: String,
    pub language: String,
    pub payment_method_id: i64,
    pub status: InvoiceStatus,
    pub transactions: Vec<Transaction>,
}

/// The payment methods `InitiatePayment` offers (ids as on the test portal).
pub(crate) const METHODS: &[(i64, &str, &str, &str)] = &[
    (1, "kn", "KNET", "كي نت"),
    (2, "vm", "VISA/MASTER", "فيزا / ماستر"),
    (11, "ap", "Apple Pay", "أبل الدفع"),
];

/// How many times each endpoint was called (authorised or not).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Calls {
    pub initiate_payment: u64,
    pub execute_payment: u64,
    pub get_payment_status: u64,
}

struct State {
    config: Config,
    listen_url: String,
    invoices: BTreeMap<i64, Invoice>,
    next_invoice: i64,
    next_payment: u64,
    calls: Calls,
}

/// Shared by every handler and by the test that spawned the fake.
#[derive(Clone)]
pub struct Handle {
    state: Arc<Mutex<State>>,
}

impl Handle {
    fn new(config: Config, listen_url: String) -> Self {
        // Invoice ids start at a random point so fakes of different tests that share one
        // database never hand out the same id.
        let first = rand::random_range(1_000_000..1_000_000_000_i64) * 1000;
        Self {
            state: Arc::new(Mutex::new(State {
                config,
                listen_url,
                invoices: BTreeMap::new(),
                next_invoice: first,
                next_payment: 1,
                calls: Calls::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn config(&self) -> Config {
        self.lock().config.clone()
    }

    /// Changes the behaviour for every request from now on.
    pub fn set_config(&self, change: impl FnOnce(&mut Config)) {
        change(&mut self.lock().config);
    }

    /// Sets how `GetPaymentStatus` answers.
    pub fn set_status_mode(&self, mode: Mode) {
        self.set_config(|c| c.status_mode = mode);
    }

    pub fn calls(&self) -> Calls {
        self.lock().calls.clone()
    }

    pub fn invoice(&self, id: i64) -> Option<Invoice> {
        self.lock().invoices.get(&id).cloned()
    }

    /// Every invoice, oldest first.
    pub fn invoices(&self) -> Vec<Invoice> {
        self.lock().invoices.values().cloned().collect()
    }

    /// Changes an invoice (e.g. its value or currency, to fake a mismatch). False when
    /// there is no such invoice.
    pub fn edit_invoice(&self, id: i64, change: impl FnOnce(&mut Invoice)) -> bool {
        match self.lock().invoices.get_mut(&id) {
            Some(inv) => {
                change(inv);
                true
            }
            None => false,
        }
    }

    /// The customer pays the invoice: a `Succss` transaction, the invoice becomes Paid.
    /// Returns the new PaymentId (what the browser brings back as `?paymentId=`).
    pub fn pay(&self, invoice_id: i64) -> Option<String> {
        self.attempt(invoice_id, TransactionStatus::Succss)
    }

    /// The customer's payment attempt is declined: a `Failed` transaction (MF002), the
    /// invoice stays Pending. Returns the attempt's PaymentId.
    pub fn fail(&self, invoice_id: i64) -> Option<String> {
        self.attempt(invoice_id, TransactionStatus::Failed)
    }

    /// The merchant cancels the invoice.
    pub fn cancel(&self, invoice_id: i64) -> bool {
        self.edit_invoice(invoice_id, |inv| inv.status = InvoiceStatus::Canceled)
    }

    fn attempt(&self, invoice_id: i64, status: TransactionStatus) -> Option<String> {
        let mut s = self.lock();
        let n = s.next_payment;
        s.next_payment += 1;
        let inv = s.invoices.get_mut(&invoice_id)?;
        let payment_id = format!("0707{}{:06}", inv.id, n);
        let gateway = METHODS
            .iter()
            .find(|m| m.0 == inv.payment_method_id)
            .map_or("KNET", |m| m.2)
            .to_owned();
        inv.transactions.push(Transaction {
            payment_id: payment_id.clone(),
            status,
            gateway,
            error_code: (status == TransactionStatus::Failed).then(|| "MF002".to_owned()),
        });
        if status == TransactionStatus::Succss {
            inv.status = InvoiceStatus::Paid;
        }
        Some(payment_id)
    }

    /// The v2 `PAYMENT_STATUS_CHANGED` webhook for the invoice's latest transaction,
    /// signed with the configured secret.
    pub fn webhook(&self, invoice_id: i64) -> Option<SignedWebhook> {
        let s = self.lock();
        let inv = s.invoices.get(&invoice_id)?;
        Some(webhook::build(inv, &s.config.webhook_secret))
    }

    /// Posts [`Handle::webhook`] to `url` as MyFatoorah does; returns the HTTP status.
    pub async fn send_webhook(&self, url: &str, invoice_id: i64) -> Result<u16, String> {
        let hook = self
            .webhook(invoice_id)
            .ok_or_else(|| format!("no invoice {invoice_id}"))?;
        hook.send(url).await
    }

    fn public_url(&self) -> String {
        let s = self.lock();
        s.config
            .public_url
            .clone()
            .unwrap_or_else(|| s.listen_url.clone())
    }
}

/// The fake's routes, for embedding in another server.
pub fn router(handle: Handle) -> Router {
    Router::new()
        .route("/v2/InitiatePayment", post(api::initiate_payment))
        .route("/v2/ExecutePayment", post(api::execute_payment))
        .route("/v2/GetPaymentStatus", post(api::get_payment_status))
        .route("/pay/{id}", get(page::show))
        .route("/pay/{id}/{outcome}", post(page::complete))
        .with_state(handle)
}

/// Serves the fake on `listener` in the current runtime; returns its base URL
/// (`http://127.0.0.1:<port>`) and the [`Handle`].
pub async fn spawn_on(
    listener: tokio::net::TcpListener,
    config: Config,
) -> std::io::Result<(String, Handle)> {
    let addr: SocketAddr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let handle = Handle::new(config, base.clone());
    let app = router(handle.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "fake MyFatoorah stopped");
        }
    });
    Ok((base, handle))
}

/// Serves the fake on a random local port; returns its base URL and the [`Handle`].
pub async fn spawn(config: Config) -> std::io::Result<(String, Handle)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    spawn_on(listener, config).await
}

/// A KWD amount in fils as MyFatoorah writes it (`5.000`).
pub(crate) fn decimal(fils: i64) -> String {
    let sign = if fils < 0 { "-" } else { "" };
    let f = fils.unsigned_abs();
    format!("{sign}{}.{:03}", f / 1000, f % 1000)
}

/// How MyFatoorah names a currency in transaction fields (`KD` for KWD).
pub(crate) fn short_currency(iso: &str) -> String {
    match iso {
        "KWD" => "KD".into(),
        "SAR" => "SR".into(),
        other => other.into(),
    }
}
