//! The billing pages: plans and packs, the local test gateway, the payment result, and
//! the admin's order list.
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::billing_api::{
    admin_orders, billing_overview, order_view, payment_result, AdminMarkPaid, StartCheckout,
    TestPay,
};
use crate::components::{general_error, FormError};
use crate::dto::{AppError, OrderRow, PaymentView};
use crate::i18n::{fmt_int, fmt_kuwait_time, use_lang, use_t, Texts};
use crate::pages::{load_error, to_login};

fn order_status(t: &'static Texts, status: &str) -> &'static str {
    match status {
        "paid" => t.order_paid,
        "failed" => t.order_failed,
        "canceled" => t.order_canceled,
        "mismatch" => t.order_mismatch,
        _ => t.order_pending,
    }
}

fn item_name(t: &'static Texts, lang: crate::Lang, o: &OrderRow) -> String {
    if o.kind == "plan" {
        t.plan_name(&o.item).to_owned()
    } else {
        format!("{} {}", fmt_int(lang, o.credits), t.credits)
    }
}

/// After a checkout starts, the browser leaves for the payment page.
fn follow_checkout(action: ServerAction<StartCheckout>) {
    Effect::new(move |_| {
        if let Some(Ok(url)) = action.value().get() {
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign(&url);
            }
        }
    });
}

/// A form with one button that starts paying for `item` with `method`.
#[component]
fn BuyButton(
    action: ServerAction<StartCheckout>,
    item: String,
    method: &'static str,
    label: &'static str,
    #[prop(default = "button")] class: &'static str,
) -> impl IntoView {
    let testid = format!("buy-{item}-{method}");
    view! {
        <ActionForm action=action>
            <input type="hidden" name="item" value=item/>
            <input type="hidden" name="method" value=method/>
            <button type="submit" class=class data-testid=testid disabled=move || action.pending().get()>
                {label}
            </button>
        </ActionForm>
    }
}

#[component]
pub fn Billing() -> impl IntoView {
    let t = use_t();
    let lang = use_lang();
    let data = Resource::new(|| (), |_| billing_overview());
    let checkout = ServerAction::<StartCheckout>::new();
    follow_checkout(checkout);
    view! {
        <section class="page-head">
            <h1>{t.billing_title}</h1>
        </section>
        <p class="muted">{t.billing_intro}</p>
        <FormError error=general_error(checkout.value())/>
        <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(v) => {
                            let status = match v.status.as_str() {
                                "active" => t.status_active,
                                "expired" => t.status_expired,
                                _ => t.status_none,
                            };
                            view! {
                                {v.test_gateway.then(|| view! { <p class="test-banner" role="note">{t.test_banner}</p> })}
                                {v.payments_unavailable.then(|| view! {
                                    <p class="test-banner" role="note" data-testid="payments-unavailable">{t.payments_unavailable}</p>
                                })}
                                <section class="card current-plan" data-testid="current-plan">
                                    <h2>{t.current_plan}</h2>
                                    <p class="big">{v.plan.as_deref().map(|p| t.plan_name(p)).unwrap_or(t.plan_names[0])}</p>
                                    <p>{status}</p>
                                    {v.plan_expires_at.filter(|_| v.status == "active").map(|e| view! {
                                        <p class="muted">{t.expires} " " <span dir="ltr">{fmt_kuwait_time(e)}</span></p>
                                    })}
                                </section>
                                <section class="grid plans">
                                    {v.plans.into_iter().map(|p| {
                                        let current = v.plan.as_deref() == Some(p.id.as_str()) && v.status == "active";
                                        view! {
                                            <article class="card plan" class:current=current data-testid=format!("plan-{}", p.id)>
                                                <h2>{t.plan_name(&p.id)}</h2>
                                                <p class="price"><bdi>{p.price.clone()}</bdi></p>
                                                <p class="muted">{t.per_30_days}</p>
                                                <ul class="features">
                                                    <li>{fmt_int(lang, p.credits)} " " {t.credits_included}</li>
                                                    <li>{fmt_int(lang, p.requests_per_minute.into())} " " {t.requests_per_minute}</li>
                                                    {p.priority_and_teams.then(|| view! { <li>{t.extras_priority}</li> })}
                                                </ul>
                                                <details>
                                                    <summary>{t.models_label} " (" {fmt_int(lang, p.models.len() as i64)} ")"</summary>
                                                    <ul class="models" dir="ltr">
                                                        {p.models.iter().map(|m| view! { <li><code>{m.clone()}</code></li> }).collect_view()}
                                                    </ul>
                                                </details>
                                                <div class="buy-row">
                                                    <BuyButton action=checkout item=p.id.clone() method="knet"
                                                        label=if current { t.renew } else { t.subscribe }/>
                                                    <BuyButton action=checkout item=p.id.clone() method="card"
                                                        label=t.pay_card class="button secondary"/>
                                                </div>
                                            </article>
                                        }
                                    }).collect_view()}
                                </section>
                                <h2 class="section-title">{t.packs_title}</h2>
                                <p class="muted">{t.never_expire}</p>
                                <section class="grid packs">
                                    {v.packs.into_iter().map(|p| view! {
                                        <article class="card pack" data-testid=format!("pack-{}", p.id)>
                                            <p class="big">{fmt_int(lang, p.credits)}</p>
                                            <p class="muted">{t.credits}</p>
                                            <p class="price"><bdi>{p.price.clone()}</bdi></p>
                                            <div class="buy-row">
                                                <BuyButton action=checkout item=p.id.clone() method="knet" label=t.buy/>
                                                <BuyButton action=checkout item=p.id.clone() method="card"
                                                    label=t.pay_card class="button secondary"/>
                                            </div>
                                        </article>
                                    }).collect_view()}
                                </section>
                                <h2 class="section-title">{t.history_title}</h2>
                                <OrdersTable orders=v.orders admin=false/>
                            }
                                .into_any()
                        }
                        Err(AppError::Unauthorized) => to_login("/billing"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}

#[component]
fn OrdersTable(orders: Vec<OrderRow>, admin: bool) -> impl IntoView {
    let t = use_t();
    let lang = use_lang();
    if orders.is_empty() {
        return view! { <p class="muted" data-testid="no-orders">{t.no_payments}</p> }.into_any();
    }
    let mark = ServerAction::<AdminMarkPaid>::new();
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="orders">
                <thead>
                    <tr>
                        <th scope="col">{t.date_col}</th>
                        {admin.then(|| view! { <th scope="col">{t.account_col}</th> })}
                        <th scope="col">{t.item_col}</th>
                        <th scope="col">{t.amount_col}</th>
                        <th scope="col">{t.status_col}</th>
                        <th scope="col">{t.invoice_col}</th>
                        {admin.then(|| view! { <th scope="col">{t.mark_paid}</th> })}
                    </tr>
                </thead>
                <tbody>
                    {orders.into_iter().map(|o| {
                        let pending = o.status == "pending";
                        view! {
                            <tr data-status=o.status.clone()>
                                <td dir="ltr">{fmt_kuwait_time(o.created_at)}</td>
                                {admin.then(|| view! { <td><bdi>{o.account_email.clone().unwrap_or_default()}</bdi></td> })}
                                <td>{item_name(t, lang, &o)}</td>
                                <td><bdi>{o.amount.clone()}</bdi></td>
                                <td><span class=format!("status status-{}", o.status)>{order_status(t, &o.status)}</span></td>
                                <td dir="ltr">{o.invoice_id.map(|i| i.to_string()).unwrap_or_else(|| if o.test_gateway { "test".into() } else { "—".into() })}</td>
                                {(admin && pending).then(|| view! {
                                    <td>
                                        <ActionForm action=mark>
                                            <input type="hidden" name="order_id" value=o.id/>
                                            <label class="sr-only" for=format!("reason-{}", o.id)>{t.reason}</label>
                                            <input id=format!("reason-{}", o.id) name="reason" placeholder=t.reason_hint/>
                                            <button type="submit" class="button small">{t.mark_paid}</button>
                                        </ActionForm>
                                    </td>
                                })}
                                {(admin && !pending).then(|| view! { <td></td> })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <FormError error=general_error(mark.value())/>
    }
    .into_any()
}

/// The local test gateway's payment page: clearly a test, with Pay and Fail.
#[component]
pub fn TestPayPage() -> impl IntoView {
    let t = use_t();
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let order = Resource::new(id, order_view);
    let pay = ServerAction::<TestPay>::new();
    view! {
        <section class="card narrow">
            <p class="test-banner" role="note">{t.test_banner}</p>
            <h1>{t.test_pay_title}</h1>
            <FormError error=general_error(pay.value())/>
            <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || order.get().map(|r| match r {
                    Ok(PaymentView { order: Some(o), .. }) => view! {
                        <p class="big">{item_name(t, lang, &o)}</p>
                        <p class="price"><bdi>{o.amount.clone()}</bdi></p>
                        <div class="buy-row">
                            <ActionForm action=pay>
                                <input type="hidden" name="order_id" value=o.id/>
                                <input type="hidden" name="success" value="true"/>
                                <button type="submit" class="button" data-testid="test-pay">{t.test_pay_ok}</button>
                            </ActionForm>
                            <ActionForm action=pay>
                                <input type="hidden" name="order_id" value=o.id/>
                                <input type="hidden" name="success" value="false"/>
                                <button type="submit" class="button danger" data-testid="test-fail">{t.test_pay_fail}</button>
                            </ActionForm>
                        </div>
                    }.into_any(),
                    Ok(_) => load_error(&AppError::NotFound),
                    Err(AppError::Unauthorized) => to_login("/billing"),
                    Err(e) => load_error(&e),
                })}
            </Transition>
        </section>
    }
}

/// Where the customer lands after paying (MyFatoorah's callback, or the test gateway).
#[component]
pub fn PaymentResultPage() -> impl IntoView {
    let t = use_t();
    let lang = use_lang();
    let q = use_query_map();
    let args = move || {
        q.with(|q| {
            (
                q.get("paymentId"),
                q.get("order").and_then(|o| o.parse::<i64>().ok()),
            )
        })
    };
    let result = Resource::new(args, |(pid, order)| payment_result(pid, order));
    view! {
        <section class="card narrow payment-result">
            <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || result.get().map(|r| match r {
                    Ok(res) => {
                        let (msg, class) = match res.status.as_str() {
                            "paid" => (t.result_paid, "ok"),
                            "failed" => (t.result_failed, "bad"),
                            "canceled" => (t.result_canceled, "bad"),
                            "mismatch" => (t.result_mismatch, "bad"),
                            _ => (t.result_pending, "wait"),
                        };
                        let waiting = class == "wait";
                        let retry = class == "bad";
                        view! {
                            {waiting.then(|| view! { <meta http-equiv="refresh" content="5"/> })}
                            <h1 class=format!("result-{class}") data-testid="payment-result" data-status=res.status.clone()>{msg}</h1>
                            {res.order.as_ref().map(|o| view! {
                                <p>{item_name(t, lang, o)} " — " <bdi>{o.amount.clone()}</bdi></p>
                            })}
                            <div class="buy-row">
                                {retry.then(|| view! { <a href="/billing" rel="external" class="button">{t.try_again}</a> })}
                                {(!retry).then(|| view! { <a href="/dashboard" class="button">{t.to_dashboard}</a> })}
                                <a href="/billing" rel="external" class="button secondary">{t.back_to_billing}</a>
                            </div>
                        }.into_any()
                    }
                    Err(AppError::Unauthorized) => to_login("/billing"),
                    Err(e) => load_error(&e),
                })}
            </Transition>
        </section>
    }
}

/// Every order, with "mark paid" for pending ones (admins only).
#[component]
pub fn AdminOrdersPage() -> impl IntoView {
    let t = use_t();
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
            <h1>{t.nav_admin} " — " {t.admin_orders}</h1>
            <a href="/admin/notifications" rel="external" class="button secondary">{t.admin_notifications}</a>
        </section>
        <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
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
