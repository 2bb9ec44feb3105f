//! Admin pages beyond orders: the notification outbox (status, attempts, last error, resend).
use leptos::prelude::*;

use crate::components::{general_error, FormError};
use crate::dto::{AppError, NotificationRow};
use crate::i18n::{fmt_kuwait_time, use_t};
use crate::pages::{load_error, to_login};

#[server(prefix = "/api", endpoint = "admin/notifications")]
pub async fn admin_notifications() -> Result<Vec<NotificationRow>, AppError> {
    use crate::server::*;
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
    use crate::server::*;
    current_admin().await?;
    let svc = services()?;
    domain::notify::resend(&svc.db, id).await.map_err(fail)
}

#[component]
pub fn AdminNotificationsPage() -> impl IntoView {
    let t = use_t();
    let resend = ServerAction::<ResendNotification>::new();
    let rows = Resource::new(move || resend.version().get(), |_| admin_notifications());
    view! {
        <section class="page-head">
            <h1>{t.nav_admin} " — " {t.admin_notifications}</h1>
            <a href="/admin" rel="external" class="button secondary">{t.admin_orders}</a>
        </section>
        <FormError error=general_error(resend.value())/>
        <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
            {move || rows.get().map(|r| match r {
                Ok(rows) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="notifications">
                            <thead>
                                <tr>
                                    <th scope="col">{t.date_col}</th>
                                    <th scope="col">{t.to_col}</th>
                                    <th scope="col">{t.kind_col}</th>
                                    <th scope="col">{t.status_col}</th>
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
