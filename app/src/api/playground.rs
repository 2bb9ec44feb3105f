//! Server functions of the playground: the models the account may try, and the cost of an
//! answer. The chat itself is `POST /playground/chat` (the gateway's
//! `Gateway::playground_router`, behind the session and same-origin checks): it streams
//! and is metered exactly like `/v1/chat/completions`.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dto::AppError;
#[cfg(feature = "ssr")]
use crate::server::*;

/// A chat model of the catalog, and whether the account's plan includes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaygroundModel {
    pub id: String,
    /// "local" or "cloud".
    pub kind: String,
    pub allowed: bool,
    /// The lowest plan that includes it, when this one does not.
    pub needs_plan: Option<String>,
    /// The most completion tokens one request may ask for.
    pub max_output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaygroundSetup {
    pub models: Vec<PlaygroundModel>,
    /// `PUBLIC_BASE_URL`, for the equivalent curl / Python call.
    pub base_url: String,
}

/// What one answer cost, from its usage row (the charge the meter wrote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCost {
    pub credits: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub status: i32,
    /// The account's balance after it.
    pub balance: i64,
}

/// 401 without a session.
#[server(prefix = "/api", endpoint = "playground")]
pub async fn playground_info() -> Result<PlaygroundSetup, AppError> {
    let (svc, account) = signed_in().await?;
    let catalog = &svc.catalog;
    let plan = catalog.effective_plan(
        account.plan.as_deref(),
        account.plan_expires_at,
        domain::time::now(),
    );
    let models = catalog
        .models
        .iter()
        .filter(|m| !m.embedding && !catalog.is_denied(&m.id))
        .filter_map(|m| {
            let (allowed, needs_plan) = match catalog.access(plan, &m.id) {
                domain::models::Access::Allowed(_) => (true, None),
                domain::models::Access::NeedsPlan(p) => (false, Some(p.id.clone())),
                domain::models::Access::NotFound => return None,
            };
            Some(PlaygroundModel {
                id: m.id.clone(),
                kind: if m.kind == domain::catalog::ModelKind::Cloud {
                    "cloud"
                } else {
                    "local"
                }
                .to_owned(),
                allowed,
                needs_plan,
                max_output_tokens: catalog.completion_cap(m),
            })
        })
        .collect();
    Ok(PlaygroundSetup {
        models,
        base_url: svc
            .settings
            .public_base_url
            .trim_end_matches('/')
            .to_owned(),
    })
}

/// The cost of the caller's own request `request_id` (the `x-request-id` of a playground
/// answer). The meter writes usage rows up to ~200 ms after the answer, so this waits up
/// to 3 s for it; None if it is not there by then (or is another account's).
#[server(prefix = "/api", endpoint = "playground/cost")]
pub async fn playground_cost(request_id: String) -> Result<Option<AnswerCost>, AppError> {
    let (svc, account) = signed_in().await?;
    if request_id.is_empty() || request_id.len() > 64 {
        return Ok(None);
    }
    for _ in 0..30 {
        let row = domain::usage::recent_request(&svc.db, account.id, &request_id)
            .await
            .map_err(fail)?;
        if let Some(row) = row {
            let balance = domain::accounts::find(&svc.db, account.id)
                .await
                .map_err(fail)?
                .credits;
            return Ok(Some(AnswerCost {
                credits: row.credits,
                prompt_tokens: row.prompt_tokens,
                completion_tokens: row.completion_tokens,
                status: row.status,
                balance,
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(None)
}
