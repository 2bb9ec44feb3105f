//! The dashboard: balance, plan and the way to keys and billing.
use leptos::prelude::*;

use crate::api::dashboard::dashboard;
use crate::components::usage_chart::UsageChartSection;
use crate::components::{load_error, to_login};
use crate::dto::AppError;
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang};

#[component]
pub fn Dashboard() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Dashboard::of(lang);
    let c = i18n::Common::of(lang);
    let data = Resource::new(|| (), |_| dashboard());
    view! {
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(me) => {
                            view! {
                                {super::account::dashboard_notices(me.phone_verified)}
                                <section class="page-head">
                                    <h1 class="welcome">{t.welcome} <bdi>{me.email.clone()}</bdi></h1>
                                    <a href="/billing" rel="external" class="button">{t.top_up}</a>
                                </section>
                                <section class="grid">
                                    <article class="card stat">
                                        <h2>{t.balance}</h2>
                                        <p class="big" data-testid="balance">{fmt_int(lang, me.credits)}</p>
                                        <p class="muted">{c.credits}</p>
                                    </article>
                                    <article class="card stat">
                                        <h2>{t.plan}</h2>
                                        {match me.plan.clone() {
                                            Some(p) => {
                                                view! {
                                                    <p class="big" data-testid="plan">{c.plan_name(&p)}</p>
                                                    <p class="muted">
                                                        {c.expires} " "
                                                        {me.plan_expires_at.map(fmt_kuwait_time)}
                                                    </p>
                                                }
                                                    .into_any()
                                            }
                                            None => view! { <p class="muted" data-testid="plan">{t.no_plan}</p> }.into_any(),
                                        }}
                                    </article>
                                    <article class="card stat">
                                        <h2>{c.nav_keys}</h2>
                                        <a href="/keys" class="button secondary">{t.manage_keys}</a>
                                    </article>
                                </section>
                                <UsageChartSection/>
                            }
                                .into_any()
                        }
                        Err(AppError::Unauthorized) => to_login("/dashboard"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}
