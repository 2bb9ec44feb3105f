//! What a page shows when its data does not load.
use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::dto::AppError;
use crate::i18n::{self, use_lang, Lang};

/// Sends a visitor whose session is gone to the login page, to come back here after.
pub fn to_login(path: &'static str) -> AnyView {
    view! { <Redirect path=format!("/login?next={path}")/> }.into_any()
}

pub fn load_error(e: &AppError) -> AnyView {
    error_line(use_lang(), e).into_any()
}

/// The same line as [`load_error`], not type-erased: what islands use (an `AnyView`
/// keeps code alive in their wasm that they never run).
pub fn error_line(lang: Lang, e: &AppError) -> impl IntoView {
    let c = i18n::Common::of(lang);
    view! { <p class="form-error" role="alert">{c.error(e.code())}</p> }
}
