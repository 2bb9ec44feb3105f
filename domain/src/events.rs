//! Threshold events (credit warning, credits exhausted, cloud budget 80% / 100%) recorded
//! for the notification work to send. Each has a dedupe key, unique in the table, so an
//! event recorded by several requests or instances at once is stored once.
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement,
};
use serde::{Deserialize, Serialize};

use crate::entities::event;
use crate::{time, Error};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// NOTIF-03: balance ≤ the warning share of the credits after the last grant.
    CreditWarning,
    /// NOTIF-04: balance reached zero or a request was refused with 402.
    CreditsExhausted,
    /// NOTIF-07: the day's cloud requests reached the warning share of the cap.
    CloudBudgetWarning,
    /// NOTIF-08: the cap is reached; cloud is off until midnight Asia/Kuwait.
    CloudBudgetExhausted,
    /// NOTIF-02: a plan payment was confirmed (plan, expiry, credits in the payload).
    SubscriptionActivated,
    /// NOTIF-05: a top-up pack payment was confirmed.
    TopupConfirmed,
    /// NOTIF-10: an account's first Enterprise activation (for the admins).
    EnterpriseCustomer,
    /// A plan lapsed and the account fell back to Basic limits.
    PlanExpired,
    /// NOTIF-01: an account was created (the welcome grant in the payload).
    Welcome,
    /// NOTIF-06: the plan ends in three days (once per subscription period).
    RenewalReminder,
    /// NOTIF-09: fail2ban banned an IP (for the admins).
    IpBanned,
    /// The password was reset with a WhatsApp code; every session was ended (no message).
    PasswordReset,
    /// The customer changed their password on `/account`; their other sessions were ended.
    PasswordChanged,
    /// The phone number was confirmed with a WhatsApp code.
    PhoneVerified,
    /// The customer changed their e-mail or phone number (old and new in the payload).
    ContactChanged,
    /// An operator set the password (`resayil user set-password`); every session was ended.
    PasswordSetByOperator,
    /// An operator ended every session of the account (`resayil user sessions revoke`).
    SessionsRevokedByOperator,
    /// TEAM-01: an existing account was invited to a team (team name, role in the payload).
    TeamInvitation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CreditWarning => "credit_warning",
            Kind::CreditsExhausted => "credits_exhausted",
            Kind::CloudBudgetWarning => "cloud_budget_warning",
            Kind::CloudBudgetExhausted => "cloud_budget_exhausted",
            Kind::SubscriptionActivated => "subscription_activated",
            Kind::TopupConfirmed => "topup_confirmed",
            Kind::EnterpriseCustomer => "enterprise_customer",
            Kind::PlanExpired => "plan_expired",
            Kind::Welcome => "welcome",
            Kind::RenewalReminder => "renewal_reminder",
            Kind::IpBanned => "ip_banned",
            Kind::PasswordReset => "password_reset",
            Kind::PasswordChanged => "password_changed",
            Kind::PhoneVerified => "phone_verified",
            Kind::ContactChanged => "contact_changed",
            Kind::PasswordSetByOperator => "password_set_by_operator",
            Kind::SessionsRevokedByOperator => "sessions_revoked_by_operator",
            Kind::TeamInvitation => "team_invitation",
        }
    }
}

/// Records an event unless one with the same dedupe key exists. True when recorded now.
/// A newly recorded event also queues its notification ([`crate::notify`]) on the same
/// connection, so inside the caller's transaction both are stored or neither is.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    kind: Kind,
    account_id: Option<i64>,
    dedupe_key: &str,
    payload: serde_json::Value,
) -> Result<bool, Error> {
    let payload = payload.to_string();
    let res = event::Entity::insert(event::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        account_id: Set(account_id),
        dedupe_key: Set(dedupe_key.to_owned()),
        payload: Set(payload.clone()),
        created_at: Set(time::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(event::Column::DedupeKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if res == 0 {
        return Ok(false);
    }
    crate::notify::enqueue(conn, kind.as_str(), account_id, dedupe_key, payload).await?;
    Ok(true)
}

/// Events recorded after `after_id`, oldest first (for the notification worker).
pub async fn since<C: ConnectionTrait>(
    conn: &C,
    after_id: i64,
) -> Result<Vec<event::Model>, Error> {
    Ok(event::Entity::find()
        .filter(event::Column::Id.gt(after_id))
        .order_by_asc(event::Column::Id)
        .all(conn)
        .await?)
}

/// The account's last grant or purchase row, through the partial index of those rows
/// (`idx_ledger_grants`, migration `m20261206_000200`: a few rows per account; the
/// account's whole ledger is one or two rows per request). The query repeats the index's
/// condition word for word, which is what lets a database use a partial index; SQLite,
/// without statistics, would still rather take `idx_ledger_account` and walk every row of
/// the account, so it is told which index to use.
fn last_grant_statement(backend: DbBackend, account_id: i64) -> Statement {
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT id, balance_after FROM ledger INDEXED BY idx_ledger_grants \
             WHERE account_id = ? AND kind IN ('grant', 'purchase') ORDER BY id DESC LIMIT 1"
        }
        _ => {
            "SELECT id, balance_after FROM ledger \
             WHERE account_id = $1 AND kind IN ('grant', 'purchase') ORDER BY id DESC LIMIT 1"
        }
    };
    Statement::from_sql_and_values(backend, sql, [account_id.into()])
}

/// The account's last grant or purchase: its ledger row id and the balance right after it.
pub async fn last_grant<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
) -> Result<Option<(i64, i64)>, Error> {
    let statement = last_grant_statement(conn.get_database_backend(), account_id);
    let Some(row) = conn.query_one_raw(statement).await? else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get("", "id")?,
        row.try_get("", "balance_after")?,
    )))
}

/// The credit event a balance calls for, with its dedupe key: exhausted at 0, a warning
/// at or below `warning_percent` of the balance right after the last grant. Each is
/// recorded once per grant (the grant's ledger row id is in the dedupe key).
pub fn credit_event(
    account_id: i64,
    balance: i64,
    last_grant: Option<(i64, i64)>,
    warning_percent: i64,
) -> Option<(Kind, String)> {
    let (grant_id, granted) = last_grant.unwrap_or((0, 0));
    if balance <= 0 {
        Some((
            Kind::CreditsExhausted,
            format!("credits_exhausted:{account_id}:{grant_id}"),
        ))
    } else if granted > 0 && balance * 100 <= granted * warning_percent {
        Some((
            Kind::CreditWarning,
            format!("credit_warning:{account_id}:{grant_id}"),
        ))
    } else {
        None
    }
}

/// Records the credit event a new balance calls for, if any (see [`credit_event`]).
pub async fn check_credits<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
    balance: i64,
    warning_percent: i64,
) -> Result<(), Error> {
    let grant = last_grant(conn, account_id).await?;
    if let Some((kind, key)) = credit_event(account_id, balance, grant, warning_percent) {
        let granted = grant.map_or(0, |g| g.1);
        let payload = serde_json::json!({ "balance": balance, "after_last_grant": granted });
        record(conn, kind, Some(account_id), &key, payload).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};

    #[tokio::test]
    async fn credit_events_are_recorded_once_per_grant() {
        each_db(|svc| async move {
            let a = new_account(&svc).await; // welcome grant of 1000
            check_credits(&svc.db, a.id, 500, 20).await.unwrap();
            check_credits(&svc.db, a.id, 200, 20).await.unwrap();
            check_credits(&svc.db, a.id, 150, 20).await.unwrap();
            check_credits(&svc.db, a.id, 0, 20).await.unwrap();
            check_credits(&svc.db, a.id, 0, 20).await.unwrap();
            let mine: Vec<_> = since(&svc.db, 0)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.account_id == Some(a.id))
                .map(|e| e.kind)
                .collect();
            assert_eq!(mine, ["welcome", "credit_warning", "credits_exhausted"]);
        })
        .await;
    }

    /// The last grant or purchase, whatever came after it: usage, refunds, adjustments.
    #[tokio::test]
    async fn the_last_grant_is_the_last_grant_or_purchase_row() {
        use crate::ledger::{apply, Entry, Kind as L};
        each_db(|svc| async move {
            let a = new_account(&svc).await; // welcome grant of 1000
            let entry = |delta, kind| Entry {
                account_id: a.id,
                delta,
                kind,
                reason: None,
                reference: None,
            };
            let (welcome, balance) = last_grant(&svc.db, a.id).await.unwrap().unwrap();
            assert_eq!(balance, 1000);
            apply(&svc.db, entry(-300, L::Usage)).await.unwrap();
            apply(&svc.db, entry(50, L::Refund)).await.unwrap();
            assert_eq!(
                last_grant(&svc.db, a.id).await.unwrap(),
                Some((welcome, 1000))
            );
            apply(&svc.db, entry(500, L::Purchase)).await.unwrap();
            apply(&svc.db, entry(-100, L::Usage)).await.unwrap();
            apply(&svc.db, entry(-20, L::Adjustment)).await.unwrap();
            let (purchase, after) = last_grant(&svc.db, a.id).await.unwrap().unwrap();
            assert!(purchase > welcome);
            assert_eq!(after, 1250);
            apply(&svc.db, entry(70, L::Grant)).await.unwrap();
            let (grant, after) = last_grant(&svc.db, a.id).await.unwrap().unwrap();
            assert!(grant > purchase);
            assert_eq!(after, 1200);
            // Another account's grants are not this one's.
            let b = new_account(&svc).await;
            assert_ne!(last_grant(&svc.db, b.id).await.unwrap().unwrap().0, grant);
        })
        .await;
    }

    /// SQLite reads the account's few grant rows, not its whole ledger (a query that no
    /// longer carries the index's condition fails to prepare with `INDEXED BY`).
    #[tokio::test]
    async fn the_last_grant_is_read_through_the_partial_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/plan.db?mode=rwc", dir.path().display());
        let svc = crate::testing::services(&url).await;
        let statement = last_grant_statement(DbBackend::Sqlite, 7);
        let plan = svc
            .db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {}", statement.sql),
                [7.into()],
            ))
            .await
            .unwrap();
        let detail: Vec<String> = plan
            .iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect();
        assert!(
            detail.iter().any(|d| d.contains("idx_ledger_grants")),
            "{detail:?}"
        );
    }

    #[tokio::test]
    async fn a_dedupe_key_is_stored_once() {
        each_db(|svc| async move {
            let key = format!("test:{}", crate::keys::random_token(8));
            let v = serde_json::json!({});
            assert!(
                record(&svc.db, Kind::CloudBudgetWarning, None, &key, v.clone())
                    .await
                    .unwrap()
            );
            assert!(!record(&svc.db, Kind::CloudBudgetWarning, None, &key, v)
                .await
                .unwrap());
        })
        .await;
    }
}
