//! The audit log (issue 12): who changed what, when, from where, the value before and
//! after, and why. Append-only: this module only inserts and reads; nothing updates or
//! deletes a row. [`record`] takes the caller's connection so the row is written in the
//! same transaction as the change it describes (a rolled-back change leaves no row, and
//! no change is committed without its row).
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::accounts::Account;
use crate::entities::audit_log;
use crate::{time, Error};

/// Who acts: a signed-in admin (with the request's IP) or the operator's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The admin's account id; `None` for the CLI.
    pub account_id: Option<i64>,
    /// The admin's e-mail, or `cli`.
    pub name: String,
    /// The client address of the request, or `cli`.
    pub ip: String,
}

impl Actor {
    /// A signed-in admin acting from `ip`.
    pub fn admin(admin: &Account, ip: &str) -> Self {
        Self {
            account_id: Some(admin.id),
            name: admin.email.clone(),
            ip: ip.chars().take(64).collect(),
        }
    }

    /// The operator at the server's command line (`resayil …`).
    pub fn cli() -> Self {
        Self {
            account_id: None,
            name: "cli".into(),
            ip: "cli".into(),
        }
    }
}

/// One action to record.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    /// What was done: `credits.adjust`, `account.suspend`, `model.update` … (see
    /// [`actions`]).
    pub action: &'a str,
    /// The account acted on, if any.
    pub target_account: Option<i64>,
    /// What else was acted on (a model id, a plan id, a setting name).
    pub target: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<&'a str>,
}

/// The action names written so far (filters in the console list these).
pub mod actions {
    pub const ACCOUNT_CREATE: &str = "account.create";
    pub const CREDITS_ADJUST: &str = "credits.adjust";
    pub const CREDITS_GRANT: &str = "credits.grant";
    pub const ACCOUNT_SUSPEND: &str = "account.suspend";
    pub const ACCOUNT_REACTIVATE: &str = "account.reactivate";
    pub const ACCOUNT_ROLE: &str = "account.role";
    pub const ACCOUNT_PLAN: &str = "account.plan";
    pub const MODEL_UPDATE: &str = "model.update";
    pub const PLAN_UPDATE: &str = "plan.update";
    pub const PACK_UPDATE: &str = "pack.update";
    pub const SETTINGS_UPDATE: &str = "settings.update";
    pub const ORDER_MARK_PAID: &str = "order.mark_paid";
    /// `resayil user set-password` (account issue 15).
    pub const ACCOUNT_PASSWORD_SET: &str = "account.password_set";
    /// `resayil user sessions revoke` (account issue 15).
    pub const ACCOUNT_SESSIONS_REVOKE: &str = "account.sessions_revoke";

    pub const ALL: &[&str] = &[
        ACCOUNT_CREATE,
        CREDITS_ADJUST,
        CREDITS_GRANT,
        ACCOUNT_SUSPEND,
        ACCOUNT_REACTIVATE,
        ACCOUNT_ROLE,
        ACCOUNT_PLAN,
        MODEL_UPDATE,
        PLAN_UPDATE,
        PACK_UPDATE,
        SETTINGS_UPDATE,
        ORDER_MARK_PAID,
        ACCOUNT_PASSWORD_SET,
        ACCOUNT_SESSIONS_REVOKE,
    ];
}

/// Writes one audit row on `conn` — pass the transaction of the change itself.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    change: Change<'_>,
) -> Result<i64, Error> {
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string());
    let row = audit_log::Entity::insert(audit_log::ActiveModel {
        created_at: Set(time::now()),
        actor_id: Set(actor.account_id),
        actor: Set(actor.name.clone()),
        ip: Set(actor.ip.clone()),
        action: Set(change.action.to_owned()),
        target_account_id: Set(change.target_account),
        target: Set(change.target.map(str::to_owned)),
        before: Set(json(change.before)),
        after: Set(json(change.after)),
        reason: Set(change.reason.map(|r| r.chars().take(512).collect())),
        ..Default::default()
    })
    .exec(conn)
    .await?;
    Ok(row.last_insert_id)
}

/// What the audit page filters by (all optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Filter {
    pub actor_id: Option<i64>,
    /// `cli` selects the operator's rows.
    pub actor: Option<String>,
    pub target_account: Option<i64>,
    pub action: Option<String>,
}

/// Rows matching `filter`, newest first, and how many match in all.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    limit: u64,
    offset: u64,
) -> Result<(Vec<audit_log::Model>, u64), Error> {
    let mut q = audit_log::Entity::find();
    if let Some(id) = filter.actor_id {
        q = q.filter(audit_log::Column::ActorId.eq(id));
    }
    if let Some(a) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::Column::Actor.eq(a));
    }
    if let Some(id) = filter.target_account {
        q = q.filter(audit_log::Column::TargetAccountId.eq(id));
    }
    if let Some(a) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::Column::Action.eq(a));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::testing::{each_db, new_account};

    #[tokio::test]
    async fn a_row_is_written_with_its_transaction_or_not_at_all() {
        each_db(|svc| async move {
            let target = new_account(&svc).await;
            let filter = Filter {
                target_account: Some(target.id),
                ..Default::default()
            };
            let change = || Change {
                action: actions::CREDITS_ADJUST,
                target_account: Some(target.id),
                before: Some(serde_json::json!({"credits": 1})),
                after: Some(serde_json::json!({"credits": 2})),
                reason: Some("test"),
                ..Default::default()
            };
            let txn = crate::db::begin_write(&svc.db).await.unwrap();
            record(&txn, &Actor::cli(), change()).await.unwrap();
            txn.rollback().await.unwrap();
            assert_eq!(list(&svc.db, &filter, 10, 0).await.unwrap().1, 0);

            let txn = crate::db::begin_write(&svc.db).await.unwrap();
            record(&txn, &Actor::cli(), change()).await.unwrap();
            txn.commit().await.unwrap();
            let (rows, total) = list(&svc.db, &filter, 10, 0).await.unwrap();
            assert_eq!(total, 1);
            assert_eq!(rows[0].actor, "cli");
            assert_eq!(rows[0].before.as_deref(), Some(r#"{"credits":1}"#));
            assert_eq!(rows[0].reason.as_deref(), Some("test"));
        })
        .await;
    }
}
