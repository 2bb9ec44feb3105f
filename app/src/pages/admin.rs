//! The admin pages: every order (with "mark paid" for pending ones) and the
//! notification outbox (status, attempts, last error, resend).
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::admin::{admin_notifications, admin_orders, ResendNotification};
use crate::components::{general_error, load_error, to_login, FormError, OrdersTable};
use crate::dto::AppError;
use crate::i18n::{self, fmt_kuwait_time, use_lang};

/// Every order, with "mark paid" for pending ones (admins only).
#[component]
pub fn AdminOrdersPage() -> impl IntoView {
    let t = i18n::Admin::of(use_lang());
    let c = i18n::Common::of(use_lang());
    let q = use_query_map();
    let page = move || {
        q.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(0)
        })
    };
    let data = Resource::new(page, admin_orders);
    view! {
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_orders}</h1>
            <a href="/admin/notifications" rel="external" class="button secondary">{t.admin_notifications}</a>
        </section>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(p) => {
                    let has_next = (p.page + 1) * p.per_page < p.total;
                    view! {
                        <OrdersTable orders=p.orders admin=true/>
                        <nav class="pager">
                            {(p.page > 0).then(|| view! { <a href=format!("/admin?page={}", p.page - 1) rel="external">{t.previous}</a> })}
                            {has_next.then(|| view! { <a href=format!("/admin?page={}", p.page + 1) rel="external">{t.next}</a> })}
                        </nav>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}

#[component]
pub fn AdminNotificationsPage() -> impl IntoView {
    let t = i18n::Admin::of(use_lang());
    let c = i18n::Common::of(use_lang());
    let resend = ServerAction::<ResendNotification>::new();
    let rows = Resource::new(move || resend.version().get(), |_| admin_notifications());
    view! {
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_notifications}</h1>
            <a href="/admin" rel="external" class="button secondary">{t.admin_orders}</a>
        </section>
        <FormError error=general_error(resend.value())/>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || rows.get().map(|r| match r {
                Ok(rows) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="notifications">
                            <thead>
                                <tr>
                                    <th scope="col">{c.date_col}</th>
                                    <th scope="col">{t.to_col}</th>
                                    <th scope="col">{t.kind_col}</th>
                                    <th scope="col">{c.status_col}</th>
                                    <th scope="col">{t.attempts_col}</th>
                                    <th scope="col">{t.last_error_col}</th>
                                    <th scope="col"><span class="sr-only">{t.resend}</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|n| view! {
                                    <tr data-status=n.status.clone()>
                                        <td dir="ltr">{fmt_kuwait_time(n.created_at)}</td>
                                        <td dir="ltr">{n.to.clone()}</td>
                                        <td>
                                            <code>{n.kind.clone()}</code> " (" {n.lang.clone()} ")"
                                            <p class="muted message-body" dir="auto">{n.body.clone()}</p>
                                        </td>
                                        <td><span class=format!("status status-{}", n.status)>{n.status.clone()}</span></td>
                                        <td>{n.attempts}</td>
                                        <td class="muted">{n.last_error.clone().unwrap_or_default()}</td>
                                        <td>
                                            {(n.status == "failed").then(|| view! {
                                                <ActionForm action=resend>
                                                    <input type="hidden" name="id" value=n.id/>
                                                    <button type="submit" class="button small">{t.resend}</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
                Err(AppError::Unauthorized) => to_login("/admin/notifications"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}
