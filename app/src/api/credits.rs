//! Server function of "credits at a glance" (DASH-01, DASH-04): the dashboard's balance,
//! period total, warning state, plan and expiry.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dto::AppError;
#[cfg(feature = "ssr")]
use crate::server::*;

/// Where the balance stands against the credit warning (NOTIF-03/04).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreditState {
    Ok,
    /// At or below the warning share of the period total (the warning message was due).
    Low,
    /// Nothing left.
    Empty,
}

/// The credits card. `credits` is the account's balance, the same number as
/// `resayil user show` (`accounts.credits`). `total` is the credits of the current
/// period: the balance right after the account's last grant or purchase (ledger rows of
/// kind `grant` / `purchase`; what was left before is included, since it was carried into
/// that balance), or the balance if an adjustment or refund later raised it above that.
/// It is the same base the 20% credit warning is measured against, so the ring turns to
/// the warning state exactly when the warning message is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsSummary {
    pub credits: i64,
    pub total: i64,
    pub state: CreditState,
    pub warning_percent: i64,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    /// The expiry is past (the plan's limits no longer apply).
    pub plan_expired: bool,
}

impl CreditsSummary {
    /// The share left, 0..=100 (rounded down, so 100 only when nothing was spent).
    pub fn percent_left(&self) -> i64 {
        if self.total <= 0 {
            return 0;
        }
        (self.credits.clamp(0, self.total) * 100) / self.total
    }
}

/// 401 without a session.
#[server(prefix = "/api", endpoint = "credits")]
pub async fn credits_overview() -> Result<CreditsSummary, AppError> {
    let (svc, account) = signed_in().await?;
    let warning_percent = svc.catalog.gateway.credit_warning_percent;
    let grant = domain::events::last_grant(&svc.db, account.id)
        .await
        .map_err(fail)?;
    let balance = account.credits;
    let total = grant.map_or(0, |g| g.1).max(balance).max(0);
    let state = match domain::events::credit_event(account.id, balance, grant, warning_percent) {
        Some((domain::events::Kind::CreditsExhausted, _)) => CreditState::Empty,
        Some(_) => CreditState::Low,
        None => CreditState::Ok,
    };
    Ok(CreditsSummary {
        credits: balance,
        total,
        state,
        warning_percent,
        plan: account.plan.clone(),
        plan_expires_at: account.plan_expires_at,
        plan_expired: account
            .plan_expires_at
            .is_some_and(|at| at <= domain::time::now()),
    })
}
