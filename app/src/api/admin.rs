//! Server functions of the admin pages: every order, marking one paid, the notification
//! outbox and resending a failed message. Every one checks the admin role.
use leptos::prelude::*;

use crate::dto::{AppError, NotificationRow, OrdersPage};
#[cfg(feature = "ssr")]
use crate::server::*;

/// Every order, newest first, for admins.
#[server(prefix = "/api", endpoint = "admin/orders")]
pub async fn admin_orders(page: u64) -> Result<OrdersPage, AppError> {
    current_admin().await?;
    let svc = services()?;
    let per_page = 50;
    let lang = crate::request_lang();
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
    let admin = current_admin().await?;
    let svc = services()?;
    domain::payments::admin_mark_paid(&svc, &admin, order_id, &reason)
        .await
        .map_err(fail)?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin/notifications")]
pub async fn admin_notifications() -> Result<Vec<NotificationRow>, AppError> {
    current_admin().await?;
    let svc = services()?;
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
    current_admin().await?;
    let svc = services()?;
    domain::notify::resend(&svc.db, id).await.map_err(fail)
}
