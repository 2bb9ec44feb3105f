//! Threshold events (credit warning, credits exhausted, cloud budget 80% / 100%) recorded
//! for the notification work to send. Each has a dedupe key, unique in the table, so an
//! event recorded by several requests or instances at once is stored once.
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::entities::{event, ledger};
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

/// The account's last grant or purchase: its ledger row id and the balance right after it.
pub async fn last_grant<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
) -> Result<Option<(i64, i64)>, Error> {
    // MAX(id) over the (account, kind) index touches only the few grant rows; ORDER BY id
    // DESC LIMIT 1 would walk every ledger row of the account (SQLite's plan).
    let last_id = Query::select()
        .expr(Expr::col(ledger::Column::Id).max())
        .from(ledger::Entity)
        .and_where(Expr::col(ledger::Column::AccountId).eq(account_id))
        .and_where(Expr::col(ledger::Column::Kind).is_in(["grant", "purchase"]))
        .to_owned();
    Ok(ledger::Entity::find()
        .filter(ledger::Column::Id.in_subquery(last_id))
        .one(conn)
        .await?
        .map(|g| (g.id, g.balance_after)))
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
