//! What server functions send to the browser: plain data, no secrets beyond what the
//! caller may see, and errors as codes the page turns into words in its language.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

pub use locale::ErrorCode;

/// The error of every server function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// A form field was refused; shown next to that field.
    Field { field: String, code: ErrorCode },
    /// No valid session (HTTP 401).
    Unauthorized,
    /// Not found, or not yours (HTTP 404).
    NotFound,
    /// Refused for a reason that is not one field's (payment provider, state, rights).
    Refused(ErrorCode),
    /// Our fault (HTTP 500); the cause was logged on the server.
    Server,
    /// The request did not reach the function (network, decoding).
    Transport(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this runs when a request's arguments cannot be decoded: that is
        // the caller's mistake (400), not ours.
        #[cfg(feature = "ssr")]
        if matches!(
            value,
            ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_)
        ) {
            if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::BAD_REQUEST);
            }
        }
        AppError::Transport(value.to_string())
    }
}

impl AppError {
    /// The code to explain this error with.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Field { code, .. } => *code,
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::Refused(code) => *code,
            AppError::Server | AppError::Transport(_) => ErrorCode::Server,
        }
    }
    /// The code if this error belongs to `field`.
    pub fn for_field(&self, name: &str) -> Option<ErrorCode> {
        match self {
            AppError::Field { field, code } if field == name => Some(*code),
            _ => None,
        }
    }
}

/// The signed-in user, as the header and dashboard show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub is_admin: bool,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub credits: i64,
}

/// One API key in the list (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub label: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Requests made with the key in the last 30 days (720 hours, from the hourly
    /// rollups), refusals included, and the credits they were charged.
    pub requests_30d: i64,
    pub credits_30d: i64,
}

/// A key just created: the only time the full secret leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    pub row: KeyRow,
    pub secret: String,
}

/// A plan as the billing page offers it (price already formatted in the page language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCard {
    pub id: String,
    pub price: String,
    pub credits: i64,
    pub requests_per_minute: u32,
    /// Every model the plan may use.
    pub models: Vec<String>,
    /// The highest plan adds the priority queue and teams.
    pub priority_and_teams: bool,
}

/// A top-up pack as the billing page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackCard {
    pub id: String,
    pub price: String,
    pub credits: i64,
}

/// One order in a history or admin list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: i64,
    pub created_at: i64,
    /// `plan` or `pack`.
    pub kind: String,
    pub item: String,
    pub credits: i64,
    pub amount: String,
    /// `pending`, `paid`, `failed`, `canceled` or `mismatch`.
    pub status: String,
    pub invoice_id: Option<i64>,
    /// Only in admin lists.
    pub account_email: Option<String>,
    pub test_gateway: bool,
}

/// Everything the billing page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingView {
    pub plans: Vec<PlanCard>,
    pub packs: Vec<PackCard>,
    /// `active`, `expired` or `none`.
    pub status: String,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub orders: Vec<OrderRow>,
    /// No MyFatoorah credentials: payments go through the labelled local test gateway.
    pub test_gateway: bool,
    /// Nothing can be bought: no MyFatoorah credentials and no test mode.
    pub payments_unavailable: bool,
}

/// The result of a payment, for the page the customer lands on after paying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    /// `paid`, `pending`, `confirming`, `failed`, `canceled` or `mismatch`.
    pub status: String,
    pub order: Option<OrderRow>,
}

/// A page of the admin's order list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    pub orders: Vec<OrderRow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// One WhatsApp message of the outbox, for the admin view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub lang: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub body: String,
    pub created_at: i64,
}
