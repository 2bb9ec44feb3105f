//! The dashboard: balance, plan and the way to keys and billing.
use leptos::prelude::*;

use crate::api::dashboard::dashboard;
use crate::components::email_address;
use crate::components::usage_chart::UsageChartSection;
use crate::components::{load_error, to_login, CreditsCard};
use crate::dto::AppError;
use crate::i18n::{self, use_lang};
use crate::pages::keys::DashboardKeys;

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
                                    <h1 class="welcome">{t.welcome} {email_address(&me.email)}</h1>
                                    <a href="/playground" rel="external" class="button secondary">{t.playground}</a>
                                </section>
                                <crate::pages::team::InvitationNotice/>
                                <CreditsCard/>
                                <UsageChartSection/>
                                <DashboardKeys/>
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
