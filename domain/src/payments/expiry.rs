//! Plan expiry: the daily job that moves lapsed plans to expired, and the plan status the
//! dashboard and billing page show (SUB-03).
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::accounts::Account;
use crate::catalog::Catalog;
use crate::entities::account;
use crate::{events, Error};

/// Where an account's subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Active,
    /// A plan lapsed; the account has Basic limits until it buys again.
    Expired,
    /// Never subscribed.
    None,
}

/// What the dashboard shows about the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub status: SubscriptionStatus,
    /// The active plan (or, for a lapsed plan the expiry job has not reached yet, the
    /// lapsed one).
    pub plan: Option<String>,
    /// When the active plan ends, or when the last one ended.
    pub expires_at: Option<i64>,
    /// The plan whose limits and models apply now (Basic without an active plan).
    pub effective_plan: String,
}

/// The subscription of `account` at `now`.
pub fn subscription(catalog: &Catalog, account: &Account, now: i64) -> Subscription {
    let effective = catalog.effective_plan(account.plan.as_deref(), account.plan_expires_at, now);
    let status = match (account.plan.as_ref(), account.plan_expires_at) {
        (Some(_), Some(t)) if t > now => SubscriptionStatus::Active,
        (_, Some(_)) => SubscriptionStatus::Expired,
        _ => SubscriptionStatus::None,
    };
    Subscription {
        status,
        plan: account.plan.clone(),
        expires_at: account.plan_expires_at,
        effective_plan: effective.id.clone(),
    }
}

/// The daily job: every plan whose expiry is at or before `now` is cleared (the expiry
/// date stays, so the page can say when it ended) and a `plan_expired` event is recorded,
/// in one transaction per account. A renewal that lands meanwhile wins: the update only
/// touches the plan and expiry it read. Returns how many plans expired.
pub async fn expire_plans(db: &DatabaseConnection, now: i64) -> Result<usize, Error> {
    let lapsed = account::Entity::find()
        .filter(account::Column::Plan.is_not_null())
        .filter(
            Condition::any()
                .add(account::Column::PlanExpiresAt.is_null())
                .add(account::Column::PlanExpiresAt.lte(now)),
        )
        .all(db)
        .await?;
    let mut expired = 0;
    for acc in lapsed {
        let Some(plan) = acc.plan.clone() else {
            continue;
        };
        let txn = crate::db::begin_write(db).await?;
        let mut update = account::Entity::update_many()
            .col_expr(account::Column::Plan, Option::<String>::None.into())
            .filter(account::Column::Id.eq(acc.id))
            .filter(account::Column::Plan.eq(plan.as_str()));
        update = match acc.plan_expires_at {
            Some(t) => update.filter(account::Column::PlanExpiresAt.eq(t)),
            None => update.filter(account::Column::PlanExpiresAt.is_null()),
        };
        if update.exec(&txn).await?.rows_affected == 1 {
            let expires = acc.plan_expires_at.unwrap_or(now);
            let key = format!("plan_expired:{}:{expires}", acc.id);
            let payload = json!({ "plan": plan, "expired_at": expires });
            events::record(&txn, events::Kind::PlanExpired, Some(acc.id), &key, payload).await?;
            expired += 1;
        }
        txn.commit().await?;
    }
    if expired > 0 {
        tracing::info!(expired, "lapsed plans expired");
    }
    Ok(expired)
}
