//! Notifications that come from the clock rather than from a request.
//!
//! Renewal reminders (NOTIF-06): the worker checks every hour for plans that end within
//! [`REMINDER_BEFORE`] and records a `renewal_reminder` event for each, keyed by the
//! account and the expiry — so one reminder per subscription period, however often the
//! check runs and on however many instances; a renewal moves the expiry and with it the
//! key of the next reminder.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use crate::entities::account;
use crate::{events, Error};

/// How long before the end of a plan its reminder goes out.
pub const REMINDER_BEFORE: i64 = 3 * 86_400;

/// Records the reminders due at `now`; returns how many were new.
pub async fn renewal_reminders(db: &DatabaseConnection, now: i64) -> Result<usize, Error> {
    let ending = account::Entity::find()
        .filter(account::Column::Plan.is_not_null())
        .filter(account::Column::PlanExpiresAt.gt(now))
        .filter(account::Column::PlanExpiresAt.lte(now + REMINDER_BEFORE))
        .all(db)
        .await?;
    let mut new = 0;
    for acc in ending {
        let (Some(plan), Some(expires)) = (acc.plan, acc.plan_expires_at) else {
            continue;
        };
        let key = format!("renewal:{}:{expires}", acc.id);
        let payload = json!({ "plan": plan, "expires_at": expires });
        let txn = crate::db::begin_write(db).await?;
        if events::record(
            &txn,
            events::Kind::RenewalReminder,
            Some(acc.id),
            &key,
            payload,
        )
        .await?
        {
            new += 1;
        }
        txn.commit().await?;
    }
    Ok(new)
}
