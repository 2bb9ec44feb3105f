//! Server functions of the admin pages: the overview, users (search, page, credit
//! adjustments, suspension, role, plan), the catalog editor, the audit log, every order,
//! marking one paid, the notification outbox and resending a failed message. Every one
//! checks the admin role first (`signed_in_admin`: 401 without a session, 403 for others)
//! and the domain checks it again inside the change's transaction.
use leptos::prelude::*;

use crate::dto::{
    AdminUserDetail, AdminUsersPage, AppError, AuditPage, CatalogView, NotificationRow, OrdersPage,
    OverviewView,
};
#[cfg(feature = "ssr")]
use crate::server::*;

/// Every order, newest first, for admins.
#[server(prefix = "/api", endpoint = "admin/orders")]
pub async fn admin_orders(page: u64) -> Result<OrdersPage, AppError> {
    let lang = crate::request_lang();
    let (svc, _) = signed_in_admin().await?;
    let per_page = 50;
    let orders = domain::payments::list_all_orders(&svc.db, per_page, page * per_page)
        .await
        .map_err(fail)?;
    let total = domain::payments::count_all_orders(&svc.db)
        .await
        .map_err(fail)?;
    let ids: Vec<i64> = orders.iter().map(|o| o.account_id).collect();
    let emails = domain::accounts::emails(&svc.db, &ids)
        .await
        .map_err(fail)?;
    let rows = orders
        .iter()
        .map(|o| super::billing::map::order(o, lang, emails.get(&o.account_id).cloned()))
        .collect();
    Ok(OrdersPage {
        orders: rows,
        total,
        page,
        per_page,
    })
}

/// An admin marks a pending order paid after checking with MyFatoorah.
#[server(prefix = "/api", endpoint = "admin/orders/mark-paid")]
pub async fn admin_mark_paid(order_id: i64, reason: String) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    domain::payments::admin_mark_paid_from(&svc, &admin, &ip, order_id, &reason)
        .await
        .map_err(fail)?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/notifications")]
pub async fn admin_notifications() -> Result<Vec<NotificationRow>, AppError> {
    let (svc, _) = signed_in_admin().await?;
    let rows = domain::notify::recent(&svc.db, 200).await.map_err(fail)?;
    Ok(rows
        .into_iter()
        .map(|r| NotificationRow {
            id: r.id,
            kind: r.kind,
            to: r.to,
            lang: r.lang,
            status: r.status.as_str().to_owned(),
            attempts: r.attempts,
            last_error: r.last_error,
            body: r.body,
            created_at: r.created,
        })
        .collect())
}

#[server(prefix = "/api", endpoint = "admin/notifications/resend")]
pub async fn resend_notification(id: i64) -> Result<(), AppError> {
    let (svc, _) = signed_in_admin().await?;
    domain::notify::resend(&svc.db, id).await.map_err(fail)
}

/// The overview numbers and chart series (ADMIN-01/04/05).
#[server(prefix = "/api", endpoint = "admin/overview")]
pub async fn admin_overview() -> Result<OverviewView, AppError> {
    let (svc, _) = signed_in_admin().await?;
    let o = domain::admin::overview::overview(&svc.db, &svc.catalog, domain::time::now())
        .await
        .map_err(fail)?;
    Ok(OverviewView {
        cloud_level: o.cloud_level().to_owned(),
        users_total: o.users_total,
        users_new_week: o.users_new_week,
        active_plans: o.active_plans,
        revenue_today_fils: o.revenue_today_fils,
        revenue_month_fils: o.revenue_month_fils,
        requests_today: o.requests_today,
        credits_today: o.credits_today,
        cloud_today: o.cloud_today,
        cloud_cap: o.cloud_cap,
        cloud_resets_at: o.cloud_resets_at,
        days: o.days,
        revenue_series: o.revenue_series,
        requests_local: o.requests_local,
        requests_cloud: o.requests_cloud,
    })
}

#[cfg(feature = "ssr")]
fn user_row(r: domain::admin::users::UserRow) -> crate::dto::AdminUserRow {
    crate::dto::AdminUserRow {
        id: r.id,
        email: r.email,
        phone: r.phone,
        is_admin: r.role == domain::accounts::Role::Admin,
        plan: r.plan,
        plan_expires_at: r.plan_expires_at,
        credits: r.credits,
        created_at: r.created_at,
        last_active_at: r.last_active_at,
        suspended: r.suspended_at.is_some(),
    }
}

/// Accounts matching `q` (e-mail or phone), sorted (`newest`, `balance`, `activity`), 50 a page.
#[server(prefix = "/api", endpoint = "admin/users")]
pub async fn admin_users(q: String, sort: String, page: u64) -> Result<AdminUsersPage, AppError> {
    let (svc, _) = signed_in_admin().await?;
    let per_page = 50;
    let sort = domain::admin::users::Sort::parse(&sort);
    let (rows, total) =
        domain::admin::users::search(&svc.db, &q, sort, per_page, page.min(1_000_000) * per_page)
            .await
            .map_err(fail)?;
    Ok(AdminUsersPage {
        users: rows.into_iter().map(user_row).collect(),
        total,
        page,
        per_page,
    })
}

/// One user's page: plan, balance, keys, orders, recent usage and ledger.
#[server(prefix = "/api", endpoint = "admin/user")]
pub async fn admin_user(id: i64) -> Result<AdminUserDetail, AppError> {
    let lang = crate::request_lang();
    let (svc, _) = signed_in_admin().await?;
    let d = domain::admin::users::detail(&svc.db, id)
        .await
        .map_err(fail)?;
    let a = d.account;
    let last_active_at = d.keys.iter().filter_map(|k| k.last_used_at).max();
    Ok(AdminUserDetail {
        user: crate::dto::AdminUserRow {
            id: a.id,
            email: a.email.clone(),
            phone: a.phone,
            is_admin: a.role == domain::accounts::Role::Admin,
            plan: a.plan,
            plan_expires_at: a.plan_expires_at,
            credits: a.credits,
            created_at: d.created_at,
            last_active_at,
            suspended: a.suspended_at.is_some(),
        },
        keys: d.keys.into_iter().map(key_row).collect(),
        orders: d
            .orders
            .iter()
            .map(|o| super::billing::map::order(o, lang, Some(a.email.clone())))
            .collect(),
        usage: d
            .usage
            .into_iter()
            .map(|u| crate::dto::AdminUsageRow {
                created_at: u.created_at,
                model: u.served_model.unwrap_or(u.requested_model),
                provider: u.provider,
                tokens: u.prompt_tokens + u.completion_tokens,
                credits: u.credits,
                status: u.status,
            })
            .collect(),
        ledger: d
            .ledger
            .into_iter()
            .map(|l| crate::dto::LedgerRow {
                created_at: l.created_at,
                delta: l.delta,
                balance_after: l.balance_after,
                kind: l.kind,
                reason: l.reason,
            })
            .collect(),
        plans: svc.catalog.plans.iter().map(|p| p.id.clone()).collect(),
    })
}

/// ADMIN-03: adds or subtracts credits (a signed whole number) with a required reason.
#[server(prefix = "/api", endpoint = "admin/users/adjust")]
pub async fn admin_adjust_credits(
    id: i64,
    amount: String,
    reason: String,
) -> Result<i64, AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    domain::admin::users::adjust_credits(&svc, &admin, &ip, id, &amount, &reason)
        .await
        .map_err(fail)
}

/// Suspends (`suspend` = `true`) or reactivates an account, with a reason.
#[server(prefix = "/api", endpoint = "admin/users/suspend")]
pub async fn admin_suspend(id: i64, suspend: bool, reason: String) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    domain::admin::users::set_suspended(&svc, &admin, &ip, id, suspend, &reason)
        .await
        .map_err(fail)
}

/// Makes an account `admin` or `user`, with a reason.
#[server(prefix = "/api", endpoint = "admin/users/role")]
pub async fn admin_set_role(id: i64, role: String, reason: String) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    domain::admin::users::set_role(&svc, &admin, &ip, id, &role, &reason)
        .await
        .map_err(fail)
}

/// Puts an account on a plan for `days` days (`none` removes it; an empty plan extends
/// the current one by `days`), with a reason.
#[server(prefix = "/api", endpoint = "admin/users/plan")]
pub async fn admin_set_plan(
    id: i64,
    plan: String,
    days: String,
    reason: String,
) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    domain::admin::users::set_plan(&svc, &admin, &ip, id, &plan, &days, &reason)
        .await
        .map_err(fail)
}

/// The catalog editor's data (every model, disabled ones too; prices; cloud budget).
#[server(prefix = "/api", endpoint = "admin/catalog")]
pub async fn admin_catalog() -> Result<CatalogView, AppError> {
    let (svc, _) = signed_in_admin().await?;
    let e = domain::admin::catalog::editor(&svc.db, &svc.catalog)
        .await
        .map_err(fail)?;
    let price = |fils: i64| format!("{}.{:03}", fils / 1000, fils % 1000);
    let rows = |v: Vec<domain::admin::catalog::PriceRow>| {
        v.into_iter()
            .map(|p| crate::dto::AdminPriceRow {
                price: price(p.price_fils),
                id: p.id,
                credits: p.credits,
            })
            .collect()
    };
    Ok(CatalogView {
        models: e
            .models
            .into_iter()
            .map(|m| crate::dto::AdminModelRow {
                kind: match m.kind {
                    domain::catalog::ModelKind::Local => "local".into(),
                    domain::catalog::ModelKind::Cloud => "cloud".into(),
                },
                id: m.id,
                multiplier: m.multiplier,
                fallback: m.cloud_fallback,
                embedding: m.embedding,
                enabled: m.enabled,
                tier: m.tier,
                restricted: m.restricted,
            })
            .collect(),
        plans: rows(e.plans),
        packs: rows(e.packs),
        cloud_daily_cap: e.cloud_daily_cap,
        cloud_budget_warn_percent: e.cloud_budget_warn_percent,
        local_multiplier: e.local_multiplier,
        cloud_multiplier: e.cloud_multiplier,
    })
}

/// Saves one model (enabled, tier, multiplier, local/cloud, fallback); live everywhere.
#[server(prefix = "/api", endpoint = "admin/models/update")]
pub async fn admin_update_model(
    id: String,
    #[server(default)] enabled: Option<String>,
    tier: String,
    multiplier: String,
    kind: String,
    fallback: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    let edit = domain::admin::catalog::ModelEdit {
        id,
        enabled: enabled.is_some_and(|v| v == "on" || v == "true"),
        tier,
        multiplier,
        kind,
        fallback,
    };
    domain::admin::catalog::update_model(&svc, &admin, &ip, &edit, &reason)
        .await
        .map_err(fail)
}

/// Saves a plan's or a pack's price (KWD, up to 3 decimals) and credits.
#[server(prefix = "/api", endpoint = "admin/prices/update")]
pub async fn admin_update_price(
    kind: String,
    id: String,
    price: String,
    credits: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    let edit = domain::admin::catalog::PriceEdit {
        is_plan: kind == "plan",
        id: &id,
        price: &price,
        credits: &credits,
    };
    domain::admin::catalog::update_price(&svc, &admin, &ip, edit, &reason)
        .await
        .map_err(fail)
}

/// The cloud budget: daily cap and warning share (ADMIN-05).
#[server(prefix = "/api", endpoint = "admin/budget/update")]
pub async fn admin_update_budget(
    cap: String,
    warn_percent: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let (svc, admin) = signed_in_admin().await?;
    let ip = client_ip(&svc);
    domain::admin::catalog::update_budget(&svc, &admin, &ip, &cap, &warn_percent, &reason)
        .await
        .map_err(fail)
}

/// The audit log, newest first, filtered by admin (e-mail or `cli`), user id and action.
#[server(prefix = "/api", endpoint = "admin/audit")]
pub async fn admin_audit(
    actor: String,
    user: String,
    action: String,
    page: u64,
) -> Result<AuditPage, AppError> {
    let (svc, _) = signed_in_admin().await?;
    let per_page = 50;
    let actor = actor.trim();
    let actor_id = if actor.is_empty() || actor == "cli" {
        None
    } else {
        match domain::accounts::find_by_email(&svc.db, actor).await {
            Ok(a) => Some(a.id),
            Err(domain::Error::NotFound) => Some(-1),
            Err(e) => return Err(fail(e)),
        }
    };
    let filter = domain::audit::Filter {
        actor_id,
        actor: (actor == "cli").then(|| "cli".to_owned()),
        target_account: user.trim().parse().ok(),
        action: Some(action.trim().to_owned()).filter(|a| !a.is_empty()),
    };
    let (rows, total) =
        domain::audit::list(&svc.db, &filter, per_page, page.min(1_000_000) * per_page)
            .await
            .map_err(fail)?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.target_account_id).collect();
    let emails = domain::accounts::emails(&svc.db, &ids)
        .await
        .map_err(fail)?;
    Ok(AuditPage {
        rows: rows
            .into_iter()
            .map(|r| crate::dto::AuditRow {
                target_email: r.target_account_id.and_then(|id| emails.get(&id).cloned()),
                id: r.id,
                created_at: r.created_at,
                actor: r.actor,
                actor_id: r.actor_id,
                ip: r.ip,
                action: r.action,
                target_account_id: r.target_account_id,
                target: r.target,
                before: r.before,
                after: r.after,
                reason: r.reason,
            })
            .collect(),
        total,
        page,
        per_page,
        actions: domain::audit::actions::ALL
            .iter()
            .map(|a| (*a).to_owned())
            .collect(),
    })
}
