//! Credits at a glance (DASH-01, DASH-04): balance and period total with a ring, the
//! low-credit state, plan and expiry (Asia/Kuwait). Server-rendered, no wasm: the ring is
//! an SVG drawn from attributes (the Content-Security-Policy allows no inline styles).
use leptos::prelude::*;

use crate::api::credits::{credits_overview, CreditState, CreditsSummary};
use crate::components::load_error;
use crate::dto::AppError;
use crate::i18n::{self, fmt_int, fmt_percent, use_lang};

/// The ring's circle: radius 52 in a 120×120 box.
const RADIUS: f64 = 52.0;

#[component]
pub fn CreditsCard() -> impl IntoView {
    let data = Resource::new(|| (), |_| credits_overview());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(o) => view! { <CreditsView o=o/> }.into_any(),
                        Err(AppError::Unauthorized) => ().into_any(),
                        Err(e) => load_error(&e),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn CreditsView(o: CreditsSummary) -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Credits::of(lang);
    let c = i18n::Common::of(lang);
    let pct = o.percent_left();
    let circumference = 2.0 * std::f64::consts::PI * RADIUS;
    let filled = circumference * pct as f64 / 100.0;
    let dash = format!("{filled:.2} {circumference:.2}");
    let state = match o.state {
        CreditState::Ok => "ok",
        CreditState::Low => "low",
        CreditState::Empty => "empty",
    };
    let ring_label = format!(
        "{}: {} {} {} ({})",
        t.left_label,
        fmt_int(lang, o.credits),
        t.of_total,
        fmt_int(lang, o.total),
        fmt_percent(lang, pct)
    );
    let expired = o.plan_expired;
    let expiry = o.plan_expires_at.map(|at| {
        let label = if expired { t.expired_on } else { t.expires_on };
        view! {
            <p class="muted nowrap" data-testid="plan-expiry">
                {label} " " <bdi dir="ltr">{i18n::fmt_kuwait_date(at)}</bdi> " " {t.kuwait_time}
            </p>
        }
    });
    view! {
        <section class=format!("card credits-card credits-{state}") data-testid="credits" data-state=state>
            <div class="credits-ring">
                <svg viewBox="0 0 120 120" role="img" aria-label=ring_label.clone() data-testid="credits-ring" data-percent=pct>
                    <title>{ring_label.clone()}</title>
                    <circle class="ring-track" cx="60" cy="60" r="52" fill="none" stroke-width="12"/>
                    <circle
                        class="ring-fill"
                        cx="60"
                        cy="60"
                        r="52"
                        fill="none"
                        stroke-width="12"
                        stroke-linecap="round"
                        stroke-dasharray=dash
                        transform="rotate(-90 60 60)"
                    />
                    <text x="60" y="67" text-anchor="middle" class="ring-text">{fmt_percent(lang, pct)}</text>
                </svg>
            </div>
            <div class="credits-numbers">
                <h2>{t.title}</h2>
                <p class="big">
                    <span data-testid="balance">{fmt_int(lang, o.credits)}</span>
                    <span class="muted total"> " " {t.of_total} " " <span data-testid="credits-total">{fmt_int(lang, o.total)}</span> " " {c.credits}</span>
                </p>
                <p class="muted small-text">{t.total_hint}</p>
                {match o.state {
                    CreditState::Ok => None,
                    CreditState::Low => Some(view! { <p class="warning" role="status" data-testid="credits-warning">{t.low}</p> }.into_any()),
                    CreditState::Empty => Some(view! { <p class="warning" role="status" data-testid="credits-warning">{t.empty}</p> }.into_any()),
                }}
                <a href="/billing#packs" rel="external" class="button" data-testid="credits-top-up">{t.top_up}</a>
            </div>
            <div class="credits-plan">
                <h2>{t.plan}</h2>
                {match o.plan.clone() {
                    Some(p) => view! { <p class="big" data-testid="plan">{c.plan_name(&p)}</p> }.into_any(),
                    None => view! { <p class="muted" data-testid="plan">{t.no_plan}</p> }.into_any(),
                }}
                {expiry}
                <a href="/billing" rel="external" class="button secondary small">{t.change_plan}</a>
            </div>
        </section>
    }
}
