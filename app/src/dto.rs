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
    /// The phone was confirmed with a WhatsApp code (else the dashboard asks for it).
    pub phone_verified: bool,
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

/// Everything the account page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub phone_verified: bool,
    /// `ar` or `en`.
    pub lang: String,
    pub sessions: Vec<SessionRow>,
}

/// One signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: i64,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
    pub ip: String,
    pub browser: String,
    pub current: bool,
}

/// The admin overview (ADMIN-01/04/05): raw numbers, formatted by the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewView {
    pub users_total: u64,
    pub users_new_week: u64,
    pub active_plans: Vec<(String, u64)>,
    pub revenue_today_fils: i64,
    pub revenue_month_fils: i64,
    pub requests_today: u64,
    pub credits_today: i64,
    pub cloud_today: u64,
    pub cloud_cap: u64,
    /// `green`, `amber` or `red`.
    pub cloud_level: String,
    pub cloud_resets_at: i64,
    pub days: Vec<i64>,
    pub revenue_series: Vec<(String, Vec<i64>)>,
    pub requests_local: Vec<u64>,
    pub requests_cloud: Vec<u64>,
}

/// One line of the admin's user list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    pub id: i64,
    pub email: String,
    pub phone: String,
    pub is_admin: bool,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub credits: i64,
    pub created_at: i64,
    pub last_active_at: Option<i64>,
    pub suspended: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsersPage {
    pub users: Vec<AdminUserRow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// One request of a user, for the admin's user page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsageRow {
    pub created_at: i64,
    pub model: String,
    pub provider: Option<String>,
    pub tokens: i64,
    pub credits: i64,
    pub status: i32,
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub created_at: i64,
    pub delta: i64,
    pub balance_after: i64,
    pub kind: String,
    pub reason: Option<String>,
}

/// The admin's page of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserDetail {
    pub user: AdminUserRow,
    pub keys: Vec<KeyRow>,
    pub orders: Vec<OrderRow>,
    pub usage: Vec<AdminUsageRow>,
    pub ledger: Vec<LedgerRow>,
    pub plans: Vec<String>,
}

/// A model row of the editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminModelRow {
    pub id: String,
    pub kind: String,
    pub multiplier: Option<f64>,
    pub fallback: Option<String>,
    pub embedding: bool,
    pub enabled: bool,
    pub tier: Option<String>,
    pub restricted: bool,
}

/// A plan or pack price row of the editor (price as KWD text, 3 decimals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminPriceRow {
    pub id: String,
    pub price: String,
    pub credits: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub models: Vec<AdminModelRow>,
    pub plans: Vec<AdminPriceRow>,
    pub packs: Vec<AdminPriceRow>,
    pub cloud_daily_cap: u64,
    pub cloud_budget_warn_percent: u64,
    pub local_multiplier: f64,
    pub cloud_multiplier: f64,
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub created_at: i64,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub ip: String,
    pub action: String,
    pub target_account_id: Option<i64>,
    pub target_email: Option<String>,
    pub target: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub actions: Vec<String>,
}

/// The team page: the caller's team (if any), whether they may create one, and the
/// invitations addressed to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamOverview {
    pub team: Option<TeamInfo>,
    /// Signed in on an active Enterprise plan and in no team: may name one.
    pub can_create: bool,
    pub invitations: Vec<InvitationRow>,
}

/// A team as one of its members sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub name: String,
    /// The caller's role: "owner", "admin" or "member".
    pub role: String,
    /// The caller's account id.
    pub me: i64,
    /// The owner's plan allows teams now (else team keys are refused).
    pub plan_active: bool,
    pub members: Vec<MemberRow>,
    /// Open invitations (managers only).
    pub pending: Vec<InvitationRow>,
    /// Team keys the caller may see (their own; managers: all).
    pub keys: Vec<TeamKeyRow>,
    /// The usage period shown, as Kuwait dates `YYYY-MM-DD` (to inclusive).
    pub from: String,
    pub to: String,
    /// Requests and credits per member and day of the period (TEAM-04).
    pub requests_chart: crate::components::chart::ChartSpec,
    pub credits_chart: crate::components::chart::ChartSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub account_id: i64,
    pub email: String,
    pub role: String,
    pub joined_at: i64,
    /// Live team keys (None: not the caller's to see).
    pub keys: Option<u32>,
    pub requests: Option<i64>,
    pub credits: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: i64,
    pub team_name: String,
    pub email: String,
    pub role: String,
    pub expires_at: i64,
    /// Sent to an address with no account: the invitee joins with its code.
    pub needs_code: bool,
}

/// A new invitation. For an address with no account, its code and link: the only time
/// they leave the server (the inviter passes them on to the invitee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteResult {
    pub email: String,
    pub code: Option<String>,
    /// `PUBLIC_BASE_URL/team?invite=CODE`.
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamKeyRow {
    pub id: i64,
    pub label: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub member_email: String,
}

/// What the landing page and the docs show of the catalog: read from the catalog tables on
/// each request, so a price or model changed there shows at once; never a denied model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCatalog {
    /// `PUBLIC_BASE_URL`, for the code examples.
    pub base_url: String,
    /// A session is open: the call to action goes to the dashboard.
    pub signed_in: bool,
    pub plans: Vec<PublicPlan>,
    pub packs: Vec<PackCard>,
    /// A chat model of the lowest plan, for the examples.
    pub example_model: String,
    /// An embedding model every plan may use, if any.
    pub example_embedding: Option<String>,
    pub welcome_credits: i64,
    pub cloud_daily_cap: u64,
    pub queue_failover_depth: u64,
    pub default_max_tokens: u64,
    pub max_body_bytes: u64,
    pub wait_timeout_secs: u64,
}

/// A plan as the public pages show it (prices already in the page's language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicPlan {
    pub id: String,
    pub price: String,
    pub credits: i64,
    pub requests_per_minute: u32,
    pub concurrent_requests: u32,
    pub max_keys: u32,
    pub period_days: i64,
    /// Every model the plan may use (its own and those of lower plans).
    pub models: Vec<PublicModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicModel {
    pub id: String,
    pub cloud: bool,
    pub embedding: bool,
    /// Credits per 1000 tokens, in the page's digits.
    pub multiplier: String,
}
