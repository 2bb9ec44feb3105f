//! The landing page (LP-01..06): what Resayil sells, how it works, the prices, plans and
//! models of the catalog (read from its tables on each request), code examples against
//! this server's `PUBLIC_BASE_URL`, questions, and the way in. Server-rendered without
//! islands: it loads no wasm, and without JavaScript only the copy buttons are missing.
use leptos::prelude::*;

use crate::api::landing::load_public_catalog;
use crate::components::{examples, load_error, CodeBlock, CopyScript, PublicFooter, SeoHead};
use crate::dto::{PublicCatalog, PublicModel};
use crate::i18n::{self, fmt_int, use_lang, Lang};

#[component]
pub fn Landing() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Landing::of(lang);
    view! {
        <SeoHead lang=lang path="/" title=t.meta_title description=t.meta_description/>
        // Awaited on the server (the route is `SsrMode::Async`) and not kept in the page
        // for hydration: nothing of this page runs in the browser.
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                match load_public_catalog().await {
                    Ok(v) => view! { <LandingBody lang=lang v=v/> }.into_any(),
                    Err(e) => load_error(&e),
                }
            })}
        </Suspense>
        <PublicFooter lang=lang/>
        <CopyScript/>
    }
}

#[component]
fn LandingBody(lang: Lang, v: PublicCatalog) -> impl IntoView {
    let t = i18n::Landing::of(lang);
    let c = i18n::Common::of(lang);
    let q = lang.code();
    let (cta_href, cta_text) = if v.signed_in {
        ("/dashboard".to_owned(), t.go_dashboard)
    } else {
        (format!("/register?lang={q}"), t.hero_cta)
    };
    let cta = view! { <a href=cta_href class="button" data-testid="cta">{cta_text}</a> };
    let steps = [
        (t.step1_title, t.step1_body),
        (t.step2_title, t.step2_body),
        (t.step3_title, t.step3_body),
        (t.step4_title, t.step4_body),
    ];
    view! {
        <section class="hero">
            <p class="eyebrow">{t.tagline}</p>
            <h1>{t.hero_title}</h1>
            <p class="lead">{t.hero_body}</p>
            <div class="hero-actions">
                {cta}
                <a href=format!("/docs?lang={q}") class="button secondary">{t.read_docs}</a>
            </div>
            {(!v.signed_in).then(|| view! {
                <p class="muted">{t.welcome_note} " " {fmt_int(lang, v.welcome_credits)} " " {t.credits}</p>
            })}
        </section>

        <section class="section" aria-labelledby="how">
            <h2 id="how">{t.how_title}</h2>
            <ol class="steps">
                {steps.into_iter().map(|(title, body)| view! {
                    <li><h3>{title}</h3><p>{body}</p></li>
                }).collect_view()}
            </ol>
        </section>

        <section class="section" aria-labelledby="pricing">
            <h2 id="pricing">{t.pricing_title}</h2>
            <p class="muted">{t.pricing_intro} " " {t.multiplier_hint}</p>
            <div class="grid plans">
                {v.plans.into_iter().map(|p| view! {
                    <article class="card plan" data-testid=format!("plan-{}", p.id)>
                        <h3>{c.plan_name(&p.id)}</h3>
                        <p class="price" data-testid="price"><bdi>{p.price}</bdi></p>
                        <p class="muted">{t.per} " " {fmt_int(lang, p.period_days)} " " {t.days}</p>
                        <ul class="features">
                            <li>{fmt_int(lang, p.credits)} " " {t.credits_included}</li>
                            <li>{fmt_int(lang, p.requests_per_minute.into())} " " {t.rpm}</li>
                            <li>{fmt_int(lang, p.concurrent_requests.into())} " " {t.concurrent}</li>
                            <li>{fmt_int(lang, p.max_keys.into())} " " {t.keys_max}</li>
                        </ul>
                        <h4 class="muted">{t.models_title}</h4>
                        <ModelList lang=lang models=p.models/>
                    </article>
                }).collect_view()}
            </div>
            <h3 class="section-title">{t.packs_title}</h3>
            <p class="muted">{t.never_expire}</p>
            <div class="grid packs">
                {v.packs.into_iter().map(|p| view! {
                    <article class="card pack" data-testid=format!("pack-{}", p.id)>
                        <p class="big">{fmt_int(lang, p.credits)}</p>
                        <p class="muted">{t.credits}</p>
                        <p class="price" data-testid="price"><bdi>{p.price}</bdi></p>
                    </article>
                }).collect_view()}
            </div>
        </section>

        <section class="section" aria-labelledby="code">
            <h2 id="code">{t.code_title}</h2>
            <p class="muted">{t.code_intro} " " <code dir="ltr" data-testid="base-url">{v.base_url.clone()}</code></p>
            {examples(&v.base_url, &v.example_model).into_iter().map(|(id, title, code)| view! {
                <CodeBlock id=id.to_owned() title=title code=code lang=lang/>
            }).collect_view()}
        </section>

        <section class="section faq" aria-labelledby="faq">
            <h2 id="faq">{t.faq_title}</h2>
            {[
                (t.faq_pay_q, t.faq_pay_a),
                (t.faq_credit_q, t.faq_credit_a),
                (t.faq_data_q, t.faq_data_a),
                (t.faq_compat_q, t.faq_compat_a),
            ].into_iter().map(|(question, answer)| view! {
                <details><summary>{question}</summary><p>{answer}</p></details>
            }).collect_view()}
        </section>
    }
}

/// A plan's models: id, where it runs, and credits per 1000 tokens.
#[component]
pub fn ModelList(lang: Lang, models: Vec<PublicModel>) -> impl IntoView {
    let t = i18n::Landing::of(lang);
    view! {
        <ul class="model-list">
            {models.into_iter().map(|m| {
                let kind = if m.embedding { t.embedding } else if m.cloud { t.cloud } else { t.local };
                view! {
                    <li data-testid="model">
                        <code>{m.id}</code>
                        <span>
                            <span class="tag" class:cloud=m.cloud>{kind}</span>
                            " " <bdi>{format!("×{}", m.multiplier)}</bdi>
                        </span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
