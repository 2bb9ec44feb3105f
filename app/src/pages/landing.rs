//! The landing page (a first version: the offer in one screen and the way in).
use leptos::prelude::*;

use crate::i18n::{self, use_lang};

/// The landing page (a first version: the offer in one screen and the way in).
#[component]
pub fn Landing() -> impl IntoView {
    let t = i18n::Landing::of(use_lang());
    view! {
        <section class="hero">
            <p class="eyebrow">{t.tagline}</p>
            <h1>{t.hero_title}</h1>
            <p class="lead">{t.hero_body}</p>
            <a href="/register" class="button">{t.hero_cta}</a>
        </section>
    }
}
