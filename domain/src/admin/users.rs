//! Users in the admin console (ADMIN-02, ADMIN-03): search and paging, one user's page,
//! credit adjustments, suspension, role and plan changes. Each change is audited in its
//! own transaction.
use sea_orm::{
    sea_query::{Expr, ExprTrait, Order},
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::accounts::{self, Account, Role};
use crate::audit::{self, actions, Actor, Change};
use crate::entities::{account, api_usage, ledger as ledger_row};
use crate::{events, keys, ledger, payments, sessions, time, Error, ErrorCode, Services};

use super::{ensure_admin, reason};

/// How the user list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Newest,
    Balance,
    LastActivity,
}

impl Sort {
    pub fn parse(s: &str) -> Self {
        match s {
            "balance" => Sort::Balance,
            "activity" | "last_activity" => Sort::LastActivity,
            _ => Sort::Newest,
        }
    }
}

/// One line of the user list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromQueryResult)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub credits: i64,
    pub created_at: i64,
    pub suspended_at: Option<i64>,
    /// The last use of any of its keys.
    pub last_active_at: Option<i64>,
}

/// The latest `last_used_at` of the account's keys (an indexed lookup per row shown).
const LAST_ACTIVE: &str =
    "(SELECT MAX(k.last_used_at) FROM api_keys k WHERE k.account_id = accounts.id)";

/// `%` and `_` typed by the admin match themselves.
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Accounts whose e-mail or phone contains `query` (all when empty), one page, sorted on
/// the server; and how many match.
pub async fn search(
    db: &DatabaseConnection,
    query: &str,
    sort: Sort,
    limit: u64,
    offset: u64,
) -> Result<(Vec<UserRow>, u64), Error> {
    let q = query.trim().to_lowercase();
    let mut select = account::Entity::find();
    if !q.is_empty() {
        let pattern = like_pattern(&q.chars().take(100).collect::<String>());
        let esc = |col: account::Column| {
            Expr::col((account::Entity, col))
                .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\'))
        };
        select = select.filter(esc(account::Column::Email).or(esc(account::Column::Phone)));
    }
    let total = select.clone().count(db).await?;
    let select = select
        .select_only()
        .columns([
            account::Column::Id,
            account::Column::Email,
            account::Column::Phone,
            account::Column::Role,
            account::Column::Plan,
            account::Column::PlanExpiresAt,
            account::Column::Credits,
            account::Column::CreatedAt,
            account::Column::SuspendedAt,
        ])
        .column_as(Expr::cust(LAST_ACTIVE), "last_active_at");
    let select = match sort {
        Sort::Newest => select.order_by_desc(account::Column::Id),
        Sort::Balance => select
            .order_by_desc(account::Column::Credits)
            .order_by_desc(account::Column::Id),
        Sort::LastActivity => select
            // NULLs (never used) last on both databases.
            .order_by(Expr::cust(format!("{LAST_ACTIVE} IS NULL")), Order::Asc)
            .order_by(Expr::cust(LAST_ACTIVE), Order::Desc)
            .order_by_desc(account::Column::Id),
    };
    let rows = select
        .limit(limit)
        .offset(offset)
        .into_model::<UserRow>()
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Everything the user page shows.
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub account: Account,
    pub created_at: i64,
    pub keys: Vec<keys::KeyInfo>,
    pub orders: Vec<payments::OrderInfo>,
    pub usage: Vec<api_usage::Model>,
    pub ledger: Vec<ledger_row::Model>,
}

/// One user's page: plan, balance, keys, orders, the last 20 requests and 50 ledger rows.
pub async fn detail(db: &DatabaseConnection, id: i64) -> Result<UserDetail, Error> {
    let row = account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    let created_at = row.created_at;
    let usage = api_usage::Entity::find()
        .filter(api_usage::Column::AccountId.eq(id))
        .order_by_desc(api_usage::Column::Id)
        .limit(20)
        .all(db)
        .await?;
    let ledger = ledger_row::Entity::find()
        .filter(ledger_row::Column::AccountId.eq(id))
        .order_by_desc(ledger_row::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let mut orders = payments::list_orders(db, id).await?;
    orders.truncate(50);
    Ok(UserDetail {
        account: row.into(),
        created_at,
        keys: keys::list(db, id).await?,
        orders,
        usage,
        ledger,
    })
}

/// A signed whole number of credits, not zero: `+500`, `-20`, `1000`.
pub fn parse_amount(raw: &str) -> Result<i64, Error> {
    let t = raw.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("amount", ErrorCode::NotAnInteger));
    }
    let n: i64 = t
        .trim_start_matches('+')
        .parse()
        .map_err(|_| Error::invalid("amount", ErrorCode::NotAnInteger))?;
    if n == 0 {
        return Err(Error::invalid("amount", ErrorCode::NotAnInteger));
    }
    Ok(n)
}

/// ADMIN-03: adds or subtracts credits with a reason — a ledger row, never an overwrite.
/// A subtraction that would take the balance below zero changes nothing. Two admins
/// adjusting at once both land (the balance is updated in place, `ledger::apply`).
/// Returns the new balance.
pub async fn adjust_credits(
    svc: &Services,
    admin: &Account,
    ip: &str,
    account_id: i64,
    amount: &str,
    why: &str,
) -> Result<i64, Error> {
    adjust(svc, Some((admin, ip)), account_id, amount, why).await
}

/// The same adjustment by the operator at the command line (`resayil user credits`),
/// audited as `cli`.
pub async fn operator_adjust_credits(
    svc: &Services,
    account_id: i64,
    amount: &str,
    why: &str,
) -> Result<i64, Error> {
    adjust(svc, None, account_id, amount, why).await
}

async fn adjust(
    svc: &Services,
    admin: Option<(&Account, &str)>,
    account_id: i64,
    amount: &str,
    why: &str,
) -> Result<i64, Error> {
    let delta = parse_amount(amount)?;
    let why = reason(why)?;
    let actor = match admin {
        Some((a, ip)) => Actor::admin(&ensure_admin(&svc.db, a).await?, ip),
        None => Actor::cli(),
    };
    accounts::find(&svc.db, account_id).await?;
    // The transaction starts with the balance update, so on SQLite it takes the write
    // lock first and waits its turn (a read first could not be upgraded under a
    // concurrent writer).
    let txn = crate::db::begin_write(&svc.db).await?;
    let note = format!(
        "{} {}: {why}",
        if admin.is_some() { "admin" } else { "operator" },
        actor.name
    );
    let balance = match ledger::apply(
        &txn,
        ledger::Entry {
            account_id,
            delta,
            kind: ledger::Kind::Adjustment,
            reason: Some(&note),
            reference: None,
        },
    )
    .await
    {
        Ok(b) => b,
        Err(Error::InsufficientCredits) => {
            return Err(Error::invalid("amount", ErrorCode::BelowZero));
        }
        Err(e) => return Err(e),
    };
    audit::record(
        &txn,
        &actor,
        Change {
            action: actions::CREDITS_ADJUST,
            target_account: Some(account_id),
            before: Some(serde_json::json!({ "credits": balance - delta })),
            after: Some(serde_json::json!({ "credits": balance, "delta": delta })),
            reason: Some(why),
            ..Default::default()
        },
    )
    .await?;
    if delta < 0 {
        // The usual thresholds (NOTIF-03/04): a warning or "exhausted", once per grant.
        events::check_credits(
            &txn,
            account_id,
            balance,
            svc.catalog.gateway.credit_warning_percent,
        )
        .await?;
    }
    txn.commit().await?;
    tracing::info!(account = account_id, delta, actor = %actor.name, "credits adjusted");
    Ok(balance)
}

/// Suspends (`suspend = true`) or reactivates an account. Suspension ends its sessions
/// and drops the keys it uses from every gateway at once (the revocation fan-out): its
/// own, and the team keys it uses as a member, which live on the team owner's account.
/// They are refused with `account_suspended` until it is reactivated. Nothing is deleted.
pub async fn set_suspended(
    svc: &Services,
    admin: &Account,
    ip: &str,
    account_id: i64,
    suspend: bool,
    why: &str,
) -> Result<(), Error> {
    let why = reason(why)?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let admin = ensure_admin(&txn, admin).await?;
    if admin.id == account_id && suspend {
        return Err(Error::Conflict("an admin cannot suspend their own account"));
    }
    let target = accounts::find(&txn, account_id).await?;
    if target.suspended_at.is_some() == suspend {
        return Err(Error::Conflict("the account is already in that state"));
    }
    let now = time::now();
    account::Entity::update_many()
        .col_expr(
            account::Column::SuspendedAt,
            Expr::value(suspend.then_some(now)),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(&txn)
        .await?;
    if suspend {
        sessions::revoke_all(&txn, account_id).await?;
    }
    audit::record(
        &txn,
        &Actor::admin(&admin, ip),
        Change {
            action: if suspend {
                actions::ACCOUNT_SUSPEND
            } else {
                actions::ACCOUNT_REACTIVATE
            },
            target_account: Some(account_id),
            before: Some(serde_json::json!({ "suspended_at": target.suspended_at })),
            after: Some(serde_json::json!({ "suspended_at": suspend.then_some(now) })),
            reason: Some(why),
            ..Default::default()
        },
    )
    .await?;
    let live = keys::live_ids(&txn, account_id).await?;
    txn.commit().await?;
    if suspend {
        keys::announce_revoked(&live);
    }
    tracing::info!(
        account = account_id,
        suspend,
        admin = admin.id,
        "suspension changed"
    );
    Ok(())
}

/// Makes an account an admin or a user. An admin cannot demote themself (the console
/// would lock its last user out).
pub async fn set_role(
    svc: &Services,
    admin: &Account,
    ip: &str,
    account_id: i64,
    role: &str,
    why: &str,
) -> Result<(), Error> {
    let role = match role {
        "admin" => Role::Admin,
        "user" => Role::User,
        _ => return Err(Error::invalid("role", ErrorCode::Required)),
    };
    let why = reason(why)?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let admin = ensure_admin(&txn, admin).await?;
    if admin.id == account_id {
        return Err(Error::Conflict("an admin cannot change their own role"));
    }
    let target = accounts::find(&txn, account_id).await?;
    account::Entity::update_many()
        .col_expr(account::Column::Role, Expr::value(role))
        .filter(account::Column::Id.eq(account_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &Actor::admin(&admin, ip),
        Change {
            action: actions::ACCOUNT_ROLE,
            target_account: Some(account_id),
            before: Some(serde_json::json!({ "role": target.role })),
            after: Some(serde_json::json!({ "role": role })),
            reason: Some(why),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Puts an account on `plan` (`none` removes it) until `days` days from now, or extends
/// the current plan's expiry by `days` when `plan` is empty. No credits move (a grant is
/// a separate adjustment).
pub async fn set_plan(
    svc: &Services,
    admin: &Account,
    ip: &str,
    account_id: i64,
    plan: &str,
    days: &str,
    why: &str,
) -> Result<(), Error> {
    let days: i64 = days
        .trim()
        .parse()
        .ok()
        .filter(|d| (0..=3660).contains(d))
        .ok_or(Error::invalid("days", ErrorCode::NotAnInteger))?;
    let why = reason(why)?;
    let plan = plan.trim();
    let catalog = svc.catalog.get();
    let txn = crate::db::begin_write(&svc.db).await?;
    let admin = ensure_admin(&txn, admin).await?;
    let target = accounts::find(&txn, account_id).await?;
    let now = time::now();
    let (new_plan, new_expiry) = match plan {
        "none" => (None, None),
        "" => {
            let Some(current) = target.plan.clone() else {
                return Err(Error::invalid("plan", ErrorCode::Required));
            };
            if days == 0 {
                return Err(Error::invalid("days", ErrorCode::NotPositive));
            }
            let from = Ord::max(target.plan_expires_at.unwrap_or(now), now);
            (Some(current), Some(from + days * 86_400))
        }
        id => {
            let p = catalog
                .plan(id)
                .ok_or(Error::invalid("plan", ErrorCode::Required))?;
            if days == 0 {
                return Err(Error::invalid("days", ErrorCode::NotPositive));
            }
            (Some(p.id.clone()), Some(now + days * 86_400))
        }
    };
    account::Entity::update_many()
        .col_expr(account::Column::Plan, Expr::value(new_plan.clone()))
        .col_expr(account::Column::PlanExpiresAt, Expr::value(new_expiry))
        .filter(account::Column::Id.eq(account_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &Actor::admin(&admin, ip),
        Change {
            action: actions::ACCOUNT_PLAN,
            target_account: Some(account_id),
            before: Some(
                serde_json::json!({ "plan": target.plan, "plan_expires_at": target.plan_expires_at }),
            ),
            after: Some(serde_json::json!({ "plan": new_plan, "plan_expires_at": new_expiry })),
            reason: Some(why),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
