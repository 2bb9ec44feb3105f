//! The page of an unknown address (HTTP 404).
use leptos::prelude::*;

use crate::i18n::{self, use_lang};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = i18n::Landing::of(use_lang());
    view! {
        <section class="card narrow">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_body}</p>
            <a href="/" class="button secondary">{t.back_home}</a>
        </section>
    }
}
