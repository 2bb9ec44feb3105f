//! The order table of the billing history and of the admin's order list, and how an
//! order is named and its status shown.
use leptos::prelude::*;

use crate::api::admin::AdminMarkPaid;
use crate::components::{general_error, FormError};
use crate::dto::OrderRow;
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang, Lang};

pub fn order_status(t: &'static i18n::Billing, status: &str) -> &'static str {
    match status {
        "paid" => t.order_paid,
        "failed" => t.order_failed,
        "canceled" => t.order_canceled,
        "mismatch" => t.order_mismatch,
        _ => t.order_pending,
    }
}

pub fn item_name(lang: Lang, o: &OrderRow) -> String {
    let c = i18n::Common::of(lang);
    if o.kind == "plan" {
        c.plan_name(&o.item).to_owned()
    } else {
        format!("{} {}", fmt_int(lang, o.credits), c.credits)
    }
}

#[component]
pub fn OrdersTable(orders: Vec<OrderRow>, admin: bool) -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Billing::of(lang);
    let c = i18n::Common::of(lang);
    if orders.is_empty() {
        return view! { <p class="muted" data-testid="no-orders">{t.no_payments}</p> }.into_any();
    }
    let mark = ServerAction::<AdminMarkPaid>::new();
    view! {
        <div class="table-wrap">
            <table class="table stack" data-testid="orders">
                <thead>
                    <tr>
                        <th scope="col">{c.date_col}</th>
                        {admin.then(|| view! { <th scope="col">{t.account_col}</th> })}
                        <th scope="col">{t.item_col}</th>
                        <th scope="col">{t.amount_col}</th>
                        <th scope="col">{c.status_col}</th>
                        <th scope="col">{t.invoice_col}</th>
                        {admin.then(|| view! { <th scope="col">{t.mark_paid}</th> })}
                    </tr>
                </thead>
                <tbody>
                    {orders.into_iter().map(|o| {
                        let pending = o.status == "pending";
                        view! {
                            <tr data-status=o.status.clone()>
                                <td data-label=c.date_col><span class="nowrap" dir="ltr">{fmt_kuwait_time(o.created_at)}</span></td>
                                {admin.then(|| view! { <td data-label=t.account_col><bdi>{o.account_email.clone().unwrap_or_default()}</bdi></td> })}
                                <td data-label=t.item_col>{item_name(lang, &o)}</td>
                                <td data-label=t.amount_col><bdi class="nowrap">{o.amount.clone()}</bdi></td>
                                <td data-label=c.status_col><span class=format!("status nowrap status-{}", o.status)>{order_status(t, &o.status)}</span></td>
                                <td data-label=t.invoice_col dir="ltr">{o.invoice_id.map(|i| i.to_string()).unwrap_or_else(|| if o.test_gateway { "test".into() } else { "—".into() })}</td>
                                {(admin && pending).then(|| view! {
                                    <td data-label=t.mark_paid>
                                        <ActionForm action=mark>
                                            <input type="hidden" name="order_id" value=o.id/>
                                            <label class="sr-only" for=format!("reason-{}", o.id)>{t.reason}</label>
                                            <input id=format!("reason-{}", o.id) name="reason" placeholder=t.reason_hint/>
                                            <button type="submit" class="button small nowrap">{t.mark_paid}</button>
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
