//! The admin console (issue 12): the overview with its charts and cloud budget, users
//! (search, one user's page with its actions), models and prices, the audit log, every
//! order (with "mark paid" for pending ones) and the notification outbox. Server-rendered:
//! every form posts without JavaScript (`plain_form_post`) and comes back to the page,
//! which shows the error, if any. The only islands are the overview's charts
//! (`components::chart::Chart`).
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::admin::{
    admin_audit, admin_catalog, admin_notifications, admin_orders, admin_overview, admin_user,
    admin_users, AdminAdjustCredits, AdminSetPlan, AdminSetRole, AdminSuspend, AdminUpdateBudget,
    AdminUpdateModel, AdminUpdatePrice, ResendNotification,
};
use crate::components::chart::{digits, Chart, ChartKind, ChartSeries, ChartSpec, ChartUnit};
use crate::components::{general_error, load_error, to_login, FormError, OrdersTable};
use crate::dto::{AppError, ErrorCode};
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang, Lang};

/// Every order, with "mark paid" for pending ones (admins only), at `/admin/orders`.
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
        <AdminNav current="/admin/orders"/>
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_orders}</h1>
        </section>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(p) => {
                    let has_next = (p.page + 1) * p.per_page < p.total;
                    view! {
                        <OrdersTable orders=p.orders admin=true/>
                        <nav class="pager">
                            {(p.page > 0).then(|| view! { <a href=format!("/admin/orders?page={}", p.page - 1) rel="external">{t.previous}</a> })}
                            {has_next.then(|| view! { <a href=format!("/admin/orders?page={}", p.page + 1) rel="external">{t.next}</a> })}
                        </nav>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin/orders"),
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
        <AdminNav current="/admin/notifications"/>
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_notifications}</h1>
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

/// The links between the admin pages.
#[component]
fn AdminNav(current: &'static str) -> impl IntoView {
    let t = i18n::Admin::of(use_lang());
    let links = [
        ("/admin", t.admin_overview),
        ("/admin/users", t.admin_users),
        ("/admin/models", t.admin_models),
        ("/admin/audit", t.admin_audit),
        ("/admin/orders", t.admin_orders),
        ("/admin/notifications", t.admin_notifications),
    ];
    view! {
        <nav class="admin-nav" aria-label=i18n::Common::of(use_lang()).nav_admin>
            {links
                .into_iter()
                .map(|(href, label)| {
                    view! {
                        <a href=href rel="external" aria-current=(href == current).then_some("page")>
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Any error of an action's last result, the field's included (one message per form).
fn any_error<T, S>(value: S) -> Signal<Option<ErrorCode>>
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err().map(AppError::code))
        })
    })
}

fn fmt_kwd(lang: Lang, fils: i64) -> String {
    locale::fmt_kwd(lang, fils)
}

fn when(t: Option<i64>) -> String {
    t.map(fmt_kuwait_time).unwrap_or_else(|| "—".into())
}

/// The overview's two charts (ADMIN-04, requests local vs cloud): one bar per Kuwait day,
/// drawn in the browser by the [`Chart`] island (charming over ECharts), with the same
/// numbers in its screen-reader table.
fn overview_charts(lang: Lang, o: &crate::dto::OverviewView) -> (ChartSpec, ChartSpec) {
    let t = i18n::Admin::of(lang);
    let c = i18n::Common::of(lang);
    let labels: Vec<String> = o
        .days
        .iter()
        .map(|d| {
            let (_, m, day, _) = locale::kuwait_civil(*d);
            digits(lang, &format!("{day}/{m}"))
        })
        .collect();
    let spec = |id: &str, caption: &str, series: Vec<ChartSeries>| ChartSpec {
        id: id.into(),
        caption: caption.into(),
        label_header: t.day_col.into(),
        total_header: t.total_col.into(),
        kind: ChartKind::Bar,
        stacked: true,
        labels: labels.clone(),
        series,
    };
    let revenue = o
        .revenue_series
        .iter()
        .map(|(id, fils)| ChartSeries {
            name: if id == "packs" {
                t.packs.to_owned()
            } else {
                c.plan_name(id).to_owned()
            },
            values: fils.clone(),
        })
        .collect();
    let count = |v: &[u64]| -> Vec<i64> {
        v.iter()
            .map(|n| i64::try_from(*n).unwrap_or(i64::MAX))
            .collect()
    };
    let requests = vec![
        ChartSeries {
            name: t.local.into(),
            values: count(&o.requests_local),
        },
        ChartSeries {
            name: t.cloud.into(),
            values: count(&o.requests_cloud),
        },
    ];
    (
        spec("revenue-chart", t.revenue_chart, revenue),
        spec("requests-chart", t.requests_chart, requests),
    )
}

/// The overview at `/admin` (ADMIN-01, ADMIN-04, ADMIN-05).
#[component]
pub fn AdminOverviewPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Admin::of(lang);
    let c = i18n::Common::of(lang);
    let data = Resource::new(|| (), |_| admin_overview());
    view! {
        <AdminNav current="/admin"/>
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_overview}</h1>
        </section>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(o) => {
                    let (revenue_chart, requests_chart) = overview_charts(lang, &o);
                    let revenue_names: Vec<String> = revenue_chart.series.iter().map(|s| s.name.clone()).collect();
                    let pct = (o.cloud_today * 100).checked_div(o.cloud_cap).unwrap_or(100).min(100);
                    let level = o.cloud_level.clone();
                    let level_text = match level.as_str() { "red" => t.cloud_off, "amber" => t.cloud_warn, _ => t.cloud_ok };
                    view! {
                        <section class="grid admin-stats">
                            <article class="card stat">
                                <h2>{t.users_total}</h2>
                                <p class="big" data-testid="users-total">{fmt_int(lang, o.users_total as i64)}</p>
                                <p class="muted">{fmt_int(lang, o.users_new_week as i64)} " " {t.users_new_week}</p>
                            </article>
                            <article class="card stat">
                                <h2>{t.revenue_today}</h2>
                                <p class="big" data-testid="revenue-today"><bdi>{fmt_kwd(lang, o.revenue_today_fils)}</bdi></p>
                                <p class="muted">{t.revenue_month} ": " <bdi data-testid="revenue-month">{fmt_kwd(lang, o.revenue_month_fils)}</bdi></p>
                            </article>
                            <article class="card stat">
                                <h2>{t.requests_today}</h2>
                                <p class="big" data-testid="requests-today">{fmt_int(lang, o.requests_today as i64)}</p>
                                <p class="muted">{t.credits_today} ": " {fmt_int(lang, o.credits_today)}</p>
                            </article>
                            <article class="card stat">
                                <h2>{t.active_plans}</h2>
                                <ul class="plain-list" data-testid="active-plans">
                                    {o.active_plans.iter().map(|(p, n)| view! { <li>{c.plan_name(p)} ": " {fmt_int(lang, *n as i64)}</li> }).collect_view()}
                                </ul>
                            </article>
                        </section>
                        <section class="card" data-testid="cloud-budget" data-level=level.clone()>
                            <h2>{t.cloud_budget}</h2>
                            <meter class=format!("gauge gauge-{level}") min="0" max=o.cloud_cap.max(1) low=o.cloud_cap.max(1) * 8 / 10 high=o.cloud_cap.max(1) * 8 / 10 + 1 optimum="0" value=o.cloud_today.min(o.cloud_cap.max(1))>
                                {locale::fmt_percent(lang, pct as i64)}
                            </meter>
                            <p>
                                <strong>{fmt_int(lang, o.cloud_today as i64)}</strong> " " {t.cloud_used} " " {fmt_int(lang, o.cloud_cap as i64)}
                                " (" {locale::fmt_percent(lang, pct as i64)} ") — " <span class=format!("level-{level}")>{level_text}</span>
                            </p>
                            <p class="muted">{t.cloud_resets} " " <bdi dir="ltr">{fmt_kuwait_time(o.cloud_resets_at)}</bdi></p>
                        </section>
                        <section class="card">
                            <h2>{t.revenue_title}</h2>
                            <Chart lang=lang spec=revenue_chart unit=ChartUnit::Fils/>
                            <details>
                                <summary>{t.show_table}</summary>
                                <div class="table-wrap">
                                    <table class="table" data-testid="revenue-table">
                                        <thead><tr>
                                            <th scope="col">{t.day_col}</th>
                                            {revenue_names.iter().map(|n| view! { <th scope="col">{n.clone()}</th> }).collect_view()}
                                        </tr></thead>
                                        <tbody>
                                            {o.days.iter().enumerate().map(|(d, day)| view! {
                                                <tr>
                                                    <td dir="ltr">{locale::kuwait_date(*day)}</td>
                                                    {o.revenue_series.iter().map(|(_, v)| view! { <td><bdi>{fmt_kwd(lang, v[d])}</bdi></td> }).collect_view()}
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </details>
                        </section>
                        <section class="card">
                            <h2>{t.traffic_title}</h2>
                            <Chart lang=lang spec=requests_chart/>
                            <details>
                                <summary>{t.show_table}</summary>
                                <div class="table-wrap">
                                    <table class="table" data-testid="requests-table">
                                        <thead><tr>
                                            <th scope="col">{t.day_col}</th>
                                            <th scope="col">{t.local}</th>
                                            <th scope="col">{t.cloud}</th>
                                        </tr></thead>
                                        <tbody>
                                            {o.days.iter().enumerate().map(|(d, day)| view! {
                                                <tr>
                                                    <td dir="ltr">{locale::kuwait_date(*day)}</td>
                                                    <td>{fmt_int(lang, o.requests_local[d] as i64)}</td>
                                                    <td>{fmt_int(lang, o.requests_cloud[d] as i64)}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </details>
                        </section>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}

/// Users at `/admin/users`: search by e-mail or phone, sort, page (ADMIN-02).
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Admin::of(lang);
    let c = i18n::Common::of(lang);
    let q = use_query_map();
    let args = move || {
        q.with(|q| {
            (
                q.get("q").unwrap_or_default(),
                q.get("sort").unwrap_or_default(),
                q.get("page")
                    .and_then(|p| p.parse::<u64>().ok())
                    .unwrap_or(0),
            )
        })
    };
    let data = Resource::new(args, |(q, sort, page)| admin_users(q, sort, page));
    let (query, sort, _) = args();
    let link = {
        let (query, sort) = (query.clone(), sort.clone());
        move |page: u64| {
            let enc = |s: &str| {
                s.replace('%', "%25")
                    .replace('&', "%26")
                    .replace('+', "%2B")
                    .replace('#', "%23")
                    .replace(' ', "+")
            };
            format!(
                "/admin/users?q={}&sort={}&page={page}",
                enc(&query),
                enc(&sort)
            )
        }
    };
    view! {
        <AdminNav current="/admin/users"/>
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_users}</h1>
        </section>
        <form method="get" action="/admin/users" class="inline-form card" role="search">
            <div class="field">
                <label for="q">{t.search}</label>
                <input id="q" name="q" type="search" value=query placeholder=t.search_hint/>
            </div>
            <div class="field">
                <label for="sort">{t.sort}</label>
                <select id="sort" name="sort">
                    <option value="newest" selected=sort.is_empty() || sort == "newest">{t.sort_newest}</option>
                    <option value="balance" selected=sort == "balance">{t.sort_balance}</option>
                    <option value="activity" selected=sort == "activity">{t.sort_activity}</option>
                </select>
            </div>
            <button type="submit" class="button">{t.search}</button>
        </form>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(p) => {
                    let has_next = (p.page + 1) * p.per_page < p.total;
                    let link = link.clone();
                    view! {
                        <p class="muted" data-testid="users-total">{fmt_int(lang, p.total as i64)} " " {t.matches}</p>
                        {if p.users.is_empty() {
                            view! { <p class="muted">{t.no_users}</p> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap">
                                    <table class="table" data-testid="users">
                                        <thead><tr>
                                            <th scope="col">{t.email_col}</th>
                                            <th scope="col">{t.phone_col}</th>
                                            <th scope="col">{t.plan_col}</th>
                                            <th scope="col">{t.balance_col}</th>
                                            <th scope="col">{t.joined_col}</th>
                                            <th scope="col">{t.active_col}</th>
                                            <th scope="col">{c.status_col}</th>
                                        </tr></thead>
                                        <tbody>
                                            {p.users.into_iter().map(|u| view! {
                                                <tr>
                                                    <td><a href=format!("/admin/users/{}", u.id) rel="external"><bdi>{u.email.clone()}</bdi></a>
                                                        {u.is_admin.then(|| view! { " " <span class="status">{t.role_admin}</span> })}</td>
                                                    <td dir="ltr">{u.phone.clone()}</td>
                                                    <td>{u.plan.as_deref().map(|p| c.plan_name(p)).unwrap_or(t.no_plan)}</td>
                                                    <td>{fmt_int(lang, u.credits)}</td>
                                                    <td dir="ltr">{fmt_kuwait_time(u.created_at)}</td>
                                                    <td dir="ltr">{when(u.last_active_at)}</td>
                                                    <td>{if u.suspended {
                                                        view! { <span class="status status-failed">{t.suspended}</span> }.into_any()
                                                    } else {
                                                        view! { <span class="status status-paid">{t.active}</span> }.into_any()
                                                    }}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }}
                        <nav class="pager">
                            {(p.page > 0).then(|| view! { <a href=link(p.page - 1) rel="external">{t.previous}</a> })}
                            {has_next.then(|| view! { <a href=link(p.page + 1) rel="external">{t.next}</a> })}
                        </nav>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin/users"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}

/// One user at `/admin/users/{id}`: plan, balance, keys, orders, usage, ledger, and the
/// admin's actions on the account (ADMIN-02, ADMIN-03).
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Admin::of(lang);
    let c = i18n::Common::of(lang);
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new(id, admin_user);
    let adjust = ServerAction::<AdminAdjustCredits>::new();
    let suspend = ServerAction::<AdminSuspend>::new();
    let role = ServerAction::<AdminSetRole>::new();
    let plan = ServerAction::<AdminSetPlan>::new();
    view! {
        <AdminNav current="/admin/users"/>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => {
                    let u = d.user.clone();
                    view! {
                        <section class="page-head">
                            <h1><bdi>{u.email.clone()}</bdi></h1>
                            {if u.suspended {
                                view! { <span class="status status-failed" data-testid="user-status">{t.suspended}</span> }.into_any()
                            } else {
                                view! { <span class="status status-paid" data-testid="user-status">{t.active}</span> }.into_any()
                            }}
                        </section>
                        <section class="grid">
                            <article class="card stat">
                                <h2>{t.balance_col}</h2>
                                <p class="big" data-testid="balance">{fmt_int(lang, u.credits)}</p>
                                <p class="muted">{c.credits}</p>
                            </article>
                            <article class="card stat">
                                <h2>{t.plan_col}</h2>
                                <p class="big" data-testid="plan">{u.plan.as_deref().map(|p| c.plan_name(p)).unwrap_or(t.no_plan)}</p>
                                <p class="muted">{t.expires} " " <bdi dir="ltr">{when(u.plan_expires_at)}</bdi></p>
                            </article>
                            <article class="card stat">
                                <h2>{t.phone_col}</h2>
                                <p dir="ltr">{u.phone.clone()}</p>
                                <p class="muted">{if u.is_admin { t.role_admin } else { t.role_user }} " · " {t.joined_col} " " <bdi dir="ltr">{fmt_kuwait_time(u.created_at)}</bdi></p>
                            </article>
                        </section>

                        <section class="card admin-actions">
                            <h2>{t.adjust}</h2>
                            <FormError error=any_error(adjust.value())/>
                            <ActionForm action=adjust attr:class="inline-form" attr:data-testid="adjust-form">
                                <input type="hidden" name="id" value=u.id/>
                                <div class="field">
                                    <label for="amount">{t.amount}</label>
                                    <input id="amount" name="amount" inputmode="numeric" dir="ltr" required/>
                                </div>
                                <div class="field">
                                    <label for="adjust-reason">{t.reason_required}</label>
                                    <input id="adjust-reason" name="reason" required maxlength="200"/>
                                </div>
                                <button type="submit" class="button">{t.apply}</button>
                            </ActionForm>
                        </section>

                        <section class="card admin-actions">
                            <h2>{if u.suspended { t.reactivate } else { t.suspend }}</h2>
                            <p class="muted">{t.suspend_hint}</p>
                            <FormError error=any_error(suspend.value())/>
                            <ActionForm action=suspend attr:class="inline-form" attr:data-testid="suspend-form">
                                <input type="hidden" name="id" value=u.id/>
                                <input type="hidden" name="suspend" value=if u.suspended { "false" } else { "true" }/>
                                <div class="field">
                                    <label for="suspend-reason">{t.reason_required}</label>
                                    <input id="suspend-reason" name="reason" required maxlength="200"/>
                                </div>
                                <button type="submit" class=if u.suspended { "button" } else { "button danger" }>{if u.suspended { t.reactivate } else { t.suspend }}</button>
                            </ActionForm>
                        </section>

                        <section class="grid">
                            <article class="card admin-actions">
                                <h2>{t.change_role}</h2>
                                <FormError error=any_error(role.value())/>
                                <ActionForm action=role>
                                    <input type="hidden" name="id" value=u.id/>
                                    <div class="field">
                                        <label for="role">{t.change_role}</label>
                                        <select id="role" name="role">
                                            <option value="user" selected=!u.is_admin>{t.role_user}</option>
                                            <option value="admin" selected=u.is_admin>{t.role_admin}</option>
                                        </select>
                                    </div>
                                    <div class="field">
                                        <label for="role-reason">{t.reason_required}</label>
                                        <input id="role-reason" name="reason" required maxlength="200"/>
                                    </div>
                                    <button type="submit" class="button secondary">{t.save}</button>
                                </ActionForm>
                            </article>
                            <article class="card admin-actions">
                                <h2>{t.change_plan}</h2>
                                <FormError error=any_error(plan.value())/>
                                <ActionForm action=plan>
                                    <input type="hidden" name="id" value=u.id/>
                                    <div class="field">
                                        <label for="plan">{t.plan_col}</label>
                                        <select id="plan" name="plan">
                                            <option value="">{t.plan_keep}</option>
                                            {d.plans.iter().map(|p| view! { <option value=p.clone()>{c.plan_name(p)}</option> }).collect_view()}
                                            <option value="none">{t.plan_none}</option>
                                        </select>
                                    </div>
                                    <div class="field">
                                        <label for="days">{t.days}</label>
                                        <input id="days" name="days" inputmode="numeric" value="30" dir="ltr"/>
                                    </div>
                                    <div class="field">
                                        <label for="plan-reason">{t.reason_required}</label>
                                        <input id="plan-reason" name="reason" required maxlength="200"/>
                                    </div>
                                    <button type="submit" class="button secondary">{t.save}</button>
                                </ActionForm>
                            </article>
                        </section>

                        <section class="card">
                            <h2>{t.ledger}</h2>
                            {if d.ledger.is_empty() { view! { <p class="muted">{t.none_yet}</p> }.into_any() } else { view! {
                                <div class="table-wrap">
                                    <table class="table" data-testid="ledger">
                                        <thead><tr>
                                            <th scope="col">{c.date_col}</th>
                                            <th scope="col">{t.kind_ledger_col}</th>
                                            <th scope="col">{t.delta_col}</th>
                                            <th scope="col">{t.after_col}</th>
                                            <th scope="col">{t.reason}</th>
                                        </tr></thead>
                                        <tbody>
                                            {d.ledger.iter().map(|l| view! {
                                                <tr>
                                                    <td dir="ltr">{fmt_kuwait_time(l.created_at)}</td>
                                                    <td><code>{l.kind.clone()}</code></td>
                                                    <td dir="ltr">{if l.delta > 0 { format!("+{}", fmt_int(lang, l.delta)) } else { fmt_int(lang, l.delta) }}</td>
                                                    <td>{fmt_int(lang, l.balance_after)}</td>
                                                    <td dir="auto">{l.reason.clone().unwrap_or_default()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any() }}
                        </section>

                        <section class="card">
                            <h2>{t.keys}</h2>
                            {if d.keys.is_empty() { view! { <p class="muted">{t.none_yet}</p> }.into_any() } else { view! {
                                <div class="table-wrap">
                                    <table class="table" data-testid="keys">
                                        <thead><tr>
                                            <th scope="col">{t.label_col}</th>
                                            <th scope="col">{t.prefix_col}</th>
                                            <th scope="col">{c.date_col}</th>
                                            <th scope="col">{t.active_col}</th>
                                        </tr></thead>
                                        <tbody>
                                            {d.keys.iter().map(|k| view! {
                                                <tr>
                                                    <td dir="auto">{k.label.clone()}</td>
                                                    <td dir="ltr"><code>{k.prefix.clone()} "…"</code></td>
                                                    <td dir="ltr">{fmt_kuwait_time(k.created_at)}</td>
                                                    <td dir="ltr">{when(k.last_used_at)}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any() }}
                        </section>

                        <section class="card">
                            <h2>{t.usage}</h2>
                            {if d.usage.is_empty() { view! { <p class="muted">{t.none_yet}</p> }.into_any() } else { view! {
                                <div class="table-wrap">
                                    <table class="table" data-testid="usage">
                                        <thead><tr>
                                            <th scope="col">{c.date_col}</th>
                                            <th scope="col">{t.model_col}</th>
                                            <th scope="col">{t.provider_col}</th>
                                            <th scope="col">{t.tokens_col}</th>
                                            <th scope="col">{t.credits_col}</th>
                                            <th scope="col">{c.status_col}</th>
                                        </tr></thead>
                                        <tbody>
                                            {d.usage.iter().map(|u| view! {
                                                <tr>
                                                    <td dir="ltr">{fmt_kuwait_time(u.created_at)}</td>
                                                    <td dir="ltr"><code>{u.model.clone()}</code></td>
                                                    <td>{u.provider.clone().unwrap_or_default()}</td>
                                                    <td>{fmt_int(lang, u.tokens)}</td>
                                                    <td>{fmt_int(lang, u.credits)}</td>
                                                    <td dir="ltr">{u.status}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any() }}
                        </section>

                        <section class="card">
                            <h2>{t.orders}</h2>
                            <OrdersTable orders=d.orders.clone() admin=false/>
                        </section>
                        <p><a href=format!("/admin/audit?user={}", u.id) rel="external">{t.admin_audit}</a></p>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin/users"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}

/// The catalog editor at `/admin/models`: models, plan and pack prices, the cloud budget.
#[component]
pub fn AdminModelsPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Admin::of(lang);
    let c = i18n::Common::of(lang);
    let data = Resource::new(|| (), |_| admin_catalog());
    let model = ServerAction::<AdminUpdateModel>::new();
    let price = ServerAction::<AdminUpdatePrice>::new();
    let budget = ServerAction::<AdminUpdateBudget>::new();
    view! {
        <AdminNav current="/admin/models"/>
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_models}</h1>
        </section>
        <p class="muted">{t.live_note}</p>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(cat) => {
                    let plan_ids: Vec<String> = cat.plans.iter().map(|p| p.id.clone()).collect();
                    let model_ids: Vec<String> = cat.models.iter().map(|m| m.id.clone()).collect();
                    view! {
                        <section class="card">
                            <h2>{t.admin_models}</h2>
                            <FormError error=any_error(model.value())/>
                            <div class="table-wrap">
                                <table class="table models-table" data-testid="models">
                                    <thead><tr>
                                        <th scope="col">{t.model_col}</th>
                                        <th scope="col">{t.enabled}</th>
                                        <th scope="col">{t.tier}</th>
                                        <th scope="col">{t.multiplier}</th>
                                        <th scope="col">{t.where_col}</th>
                                        <th scope="col">{t.fallback}</th>
                                        <th scope="col">{t.reason_optional}</th>
                                        <th scope="col"><span class="sr-only">{t.save}</span></th>
                                    </tr></thead>
                                    <tbody>
                                        {cat.models.iter().map(|m| {
                                            let form = format!("model-{}", m.id.replace([':', '.', '/'], "-"));
                                            let placeholder = if m.kind == "cloud" { cat.cloud_multiplier } else { cat.local_multiplier };
                                            view! {
                                                <tr data-model=m.id.clone() data-enabled=m.enabled.to_string()>
                                                    <th scope="row" dir="ltr">
                                                        <code>{m.id.clone()}</code>
                                                        {m.embedding.then(|| view! { " " <span class="muted">{t.embedding}</span> })}
                                                        {m.restricted.then(|| view! { " " <span class="status status-failed">{t.restricted}</span> })}
                                                        <form id=form.clone() method="post" action="/api/admin/models/update">
                                                            <input type="hidden" name="id" value=m.id.clone()/>
                                                        </form>
                                                    </th>
                                                    <td><input type="checkbox" name="enabled" form=form.clone() checked=m.enabled disabled=m.restricted aria-label=t.enabled/></td>
                                                    <td>
                                                        <select name="tier" form=form.clone() aria-label=t.tier>
                                                            <option value="" selected=m.tier.is_none()>{t.tier_none}</option>
                                                            {plan_ids.iter().map(|p| view! { <option value=p.clone() selected=m.tier.as_deref() == Some(p.as_str())>{c.plan_name(p)}</option> }).collect_view()}
                                                        </select>
                                                    </td>
                                                    <td><input name="multiplier" form=form.clone() size="5" dir="ltr" inputmode="decimal" aria-label=t.multiplier
                                                        value=m.multiplier.map(|x| x.to_string()).unwrap_or_default() placeholder=format!("{placeholder}")/></td>
                                                    <td>
                                                        <select name="kind" form=form.clone() aria-label=t.where_col>
                                                            <option value="local" selected=m.kind == "local">{t.local}</option>
                                                            <option value="cloud" selected=m.kind == "cloud">{t.cloud}</option>
                                                        </select>
                                                    </td>
                                                    <td>
                                                        <select name="fallback" form=form.clone() aria-label=t.fallback>
                                                            <option value="" selected=m.fallback.is_none()>{t.tier_none}</option>
                                                            {model_ids.iter().filter(|id| **id != m.id).map(|id| view! { <option value=id.clone() selected=m.fallback.as_deref() == Some(id.as_str())>{id.clone()}</option> }).collect_view()}
                                                        </select>
                                                    </td>
                                                    <td><input name="reason" form=form.clone() maxlength="200" aria-label=t.reason_optional/></td>
                                                    <td><button type="submit" form=form class="button small">{t.save}</button></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </section>
                        <section>
                            {[(true, t.plans_prices, cat.plans.clone()), (false, t.packs_prices, cat.packs.clone())].into_iter().map(|(is_plan, title, rows)| view! {
                                <article class="card">
                                    <h2>{title}</h2>
                                    <FormError error=any_error(price.value())/>
                                    <div class="table-wrap">
                                        <table class="table price-table" data-testid=if is_plan { "plans" } else { "packs" }>
                                            <thead><tr>
                                                <th scope="col">{t.plan_col}</th>
                                                <th scope="col">{t.price_col}</th>
                                                <th scope="col">{t.credits_col}</th>
                                                <th scope="col"><span class="sr-only">{t.save}</span></th>
                                            </tr></thead>
                                            <tbody>
                                                {rows.into_iter().map(|p| {
                                                    let form = format!("price-{}", p.id);
                                                    let name = if is_plan { c.plan_name(&p.id).to_owned() } else { p.id.clone() };
                                                    view! {
                                                        <tr data-item=p.id.clone()>
                                                            <th scope="row">{name}
                                                                <form id=form.clone() method="post" action="/api/admin/prices/update">
                                                                    <input type="hidden" name="kind" value=if is_plan { "plan" } else { "pack" }/>
                                                                    <input type="hidden" name="id" value=p.id.clone()/>
                                                                </form>
                                                            </th>
                                                            <td><input name="price" form=form.clone() value=p.price size="8" dir="ltr" inputmode="decimal" aria-label=t.price_col/></td>
                                                            <td><input name="credits" form=form.clone() value=p.credits size="9" dir="ltr" inputmode="numeric" aria-label=t.credits_col/></td>
                                                            <td><button type="submit" form=form class="button small">{t.save}</button></td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                </article>
                            }).collect_view()}
                        </section>
                        <section class="card">
                            <h2>{t.budget_settings}</h2>
                            <FormError error=any_error(budget.value())/>
                            <ActionForm action=budget attr:class="inline-form" attr:data-testid="budget-form">
                                <div class="field">
                                    <label for="cap">{t.daily_cap}</label>
                                    <input id="cap" name="cap" value=cat.cloud_daily_cap dir="ltr" inputmode="numeric"/>
                                </div>
                                <div class="field">
                                    <label for="warn_percent">{t.warn_percent}</label>
                                    <input id="warn_percent" name="warn_percent" value=cat.cloud_budget_warn_percent dir="ltr" inputmode="numeric"/>
                                </div>
                                <div class="field">
                                    <label for="budget-reason">{t.reason_optional}</label>
                                    <input id="budget-reason" name="reason" maxlength="200"/>
                                </div>
                                <button type="submit" class="button">{t.save}</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin/models"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}

/// The audit log at `/admin/audit`, filtered by admin, user and action.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Admin::of(lang);
    let c = i18n::Common::of(lang);
    let q = use_query_map();
    let args = move || {
        q.with(|q| {
            (
                q.get("actor").unwrap_or_default(),
                q.get("user").unwrap_or_default(),
                q.get("action").unwrap_or_default(),
                q.get("page")
                    .and_then(|p| p.parse::<u64>().ok())
                    .unwrap_or(0),
            )
        })
    };
    let data = Resource::new(args, |(actor, user, action, page)| {
        admin_audit(actor, user, action, page)
    });
    let (actor, user, action, _) = args();
    let link = {
        let (actor, user, action) = (actor.clone(), user.clone(), action.clone());
        move |page: u64| {
            let enc = |s: &str| {
                s.replace('%', "%25")
                    .replace('&', "%26")
                    .replace('+', "%2B")
                    .replace('#', "%23")
                    .replace(' ', "+")
            };
            format!(
                "/admin/audit?actor={}&user={}&action={}&page={page}",
                enc(&actor),
                enc(&user),
                enc(&action)
            )
        }
    };
    view! {
        <AdminNav current="/admin/audit"/>
        <section class="page-head">
            <h1>{c.nav_admin} " — " {t.admin_audit}</h1>
        </section>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(p) => {
                    let has_next = (p.page + 1) * p.per_page < p.total;
                    let link = link.clone();
                    view! {
                        <form method="get" action="/admin/audit" class="inline-form card" role="search">
                            <div class="field">
                                <label for="actor">{t.actor}</label>
                                <input id="actor" name="actor" value=actor.clone() dir="ltr"/>
                            </div>
                            <div class="field">
                                <label for="user">{t.user_id}</label>
                                <input id="user" name="user" value=user.clone() dir="ltr" inputmode="numeric"/>
                            </div>
                            <div class="field">
                                <label for="action">{t.action}</label>
                                <select id="action" name="action">
                                    <option value="">{t.any}</option>
                                    {p.actions.iter().map(|a| view! { <option value=a.clone() selected=*a == action>{a.clone()}</option> }).collect_view()}
                                </select>
                            </div>
                            <button type="submit" class="button">{t.filter}</button>
                        </form>
                        {if p.rows.is_empty() { view! { <p class="muted">{t.no_audit}</p> }.into_any() } else { view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="audit">
                                    <thead><tr>
                                        <th scope="col">{t.when_col}</th>
                                        <th scope="col">{t.who_col}</th>
                                        <th scope="col">{t.ip_col}</th>
                                        <th scope="col">{t.what_col}</th>
                                        <th scope="col">{t.target_col}</th>
                                        <th scope="col">{t.before_col}</th>
                                        <th scope="col">{t.after_value_col}</th>
                                        <th scope="col">{t.reason}</th>
                                    </tr></thead>
                                    <tbody>
                                        {p.rows.into_iter().map(|r| view! {
                                            <tr data-action=r.action.clone()>
                                                <td dir="ltr">{fmt_kuwait_time(r.created_at)}</td>
                                                <td><bdi>{r.actor.clone()}</bdi></td>
                                                <td dir="ltr">{r.ip.clone()}</td>
                                                <td><code>{r.action.clone()}</code></td>
                                                <td>{match (r.target_account_id, r.target_email.clone()) {
                                                    (Some(id), email) => view! { <a href=format!("/admin/users/{id}") rel="external"><bdi>{email.unwrap_or_else(|| format!("#{id}"))}</bdi></a> }.into_any(),
                                                    (None, _) => view! { <bdi>{r.target.clone().unwrap_or_default()}</bdi> }.into_any(),
                                                }}</td>
                                                <td dir="ltr"><code class="json">{r.before.clone().unwrap_or_default()}</code></td>
                                                <td dir="ltr"><code class="json">{r.after.clone().unwrap_or_default()}</code></td>
                                                <td dir="auto">{r.reason.clone().unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any() }}
                        <nav class="pager">
                            {(p.page > 0).then(|| view! { <a href=link(p.page - 1) rel="external">{t.previous}</a> })}
                            {has_next.then(|| view! { <a href=link(p.page + 1) rel="external">{t.next}</a> })}
                        </nav>
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/admin/audit"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}
