//! The billing pages: plans and packs, the local test gateway and the payment result.
//! Server-rendered; only the buy buttons are islands. The test gateway's Pay / Fail forms
//! post without JavaScript (the server function redirects to the result).
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::billing::{billing_overview, order_view, payment_result, StartCheckout, TestPay};
use crate::components::{
    general_error, island_hydrated, item_name, load_error, to_login, FormError, OrdersTable,
};
use crate::dto::{AppError, PaymentView};
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang, Lang};

/// A form with one button that starts paying for `item` with `method`; the browser then
/// leaves for the payment page. An island of its own: the rest of the page is static.
#[island(lazy)]
fn BuyButton(
    lang: Lang,
    item: String,
    method: String,
    label: String,
    class: String,
) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let action = ServerAction::<StartCheckout>::new();
    Effect::new(move |_| {
        if let Some(Ok(url)) = action.value().get() {
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign(&url);
            }
        }
    });
    let error = general_error(action.value());
    let testid = format!("buy-{item}-{method}");
    view! {
        <ActionForm action=action>
            <input type="hidden" name="item" value=item/>
            <input type="hidden" name="method" value=method/>
            <button type="submit" class=class data-testid=testid disabled=move || action.pending().get()>
                {label}
            </button>
        </ActionForm>
        <Show when=move || error.get().is_some()>
            <FormError error=error/>
        </Show>
    }
}

#[component]
pub fn Billing() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Billing::of(lang);
    let c = i18n::Common::of(lang);
    let data = Resource::new(|| (), |_| billing_overview());
    view! {
        <section class="page-head">
            <h1>{t.billing_title}</h1>
        </section>
        <p class="muted">{t.billing_intro}</p>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
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
                                    <p class="big">{v.plan.as_deref().map(|p| c.plan_name(p)).unwrap_or(c.plan_basic)}</p>
                                    <p>{status}</p>
                                    {v.plan_expires_at.filter(|_| v.status == "active").map(|e| view! {
                                        <p class="muted">{c.expires} " " <span dir="ltr">{fmt_kuwait_time(e)}</span></p>
                                    })}
                                </section>
                                <section class="grid plans">
                                    {v.plans.into_iter().map(|p| {
                                        let current = v.plan.as_deref() == Some(p.id.as_str()) && v.status == "active";
                                        view! {
                                            <article class="card plan" class:current=current data-testid=format!("plan-{}", p.id)>
                                                <h2>{c.plan_name(&p.id)}</h2>
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
                                                    <BuyButton lang=lang item=p.id.clone() method="knet".to_owned() class="button".to_owned()
                                                        label=(if current { t.renew } else { t.subscribe }).to_owned()/>
                                                    <BuyButton lang=lang item=p.id.clone() method="card".to_owned()
                                                        label=t.pay_card.to_owned() class="button secondary".to_owned()/>
                                                </div>
                                            </article>
                                        }
                                    }).collect_view()}
                                </section>
                                <h2 class="section-title" id="packs">{t.packs_title}</h2>
                                <p class="muted">{t.never_expire}</p>
                                <section class="grid packs">
                                    {v.packs.into_iter().map(|p| view! {
                                        <article class="card pack" data-testid=format!("pack-{}", p.id)>
                                            <p class="big">{fmt_int(lang, p.credits)}</p>
                                            <p class="muted">{c.credits}</p>
                                            <p class="price"><bdi>{p.price.clone()}</bdi></p>
                                            <div class="buy-row">
                                                <BuyButton lang=lang item=p.id.clone() method="knet".to_owned() label=t.buy.to_owned()
                                                    class="button".to_owned()/>
                                                <BuyButton lang=lang item=p.id.clone() method="card".to_owned()
                                                    label=t.pay_card.to_owned() class="button secondary".to_owned()/>
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

/// The local test gateway's payment page: clearly a test, with Pay and Fail.
#[component]
pub fn TestPayPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Billing::of(lang);
    let c = i18n::Common::of(lang);
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let order = Resource::new(id, order_view);
    let pay = ServerAction::<TestPay>::new();
    view! {
        <section class="card narrow">
            <p class="test-banner" role="note">{t.test_banner}</p>
            <h1>{t.test_pay_title}</h1>
            <FormError error=general_error(pay.value())/>
            <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
                {move || order.get().map(|r| match r {
                    Ok(PaymentView { order: Some(o), .. }) => view! {
                        <p class="big">{item_name(lang, &o)}</p>
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
    let lang = use_lang();
    let t = i18n::Billing::of(lang);
    let c = i18n::Common::of(lang);
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
            <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
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
                                <p>{item_name(lang, o)} " — " <bdi>{o.amount.clone()}</bdi></p>
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
