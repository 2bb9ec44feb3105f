//! Pieces shared by the pages: the site header and an accessible form field.
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::{whoami, Logout};
use crate::dto::{AppError, ErrorCode};
use crate::i18n::{use_lang, use_t};

/// The header of every page: brand, navigation for the signed-in user, language switch
/// and logout. Who is signed in is asked again on each navigation, so logging in or out
/// shows at once.
#[component]
pub fn Header() -> impl IntoView {
    let t = use_t();
    let lang = use_lang();
    let location = use_location();
    let me = Resource::new(move || location.pathname.get(), |_| whoami());
    let logout = ServerAction::<Logout>::new();
    // The switch reloads the page (rel="external") so the server renders it in the
    // other language and stores the choice in the `lang` cookie.
    let switch_href = move || {
        let search: String = location
            .search
            .get()
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .map(|p| format!("{p}&"))
            .collect();
        format!(
            "{}?{search}lang={}",
            location.pathname.get(),
            lang.other().code()
        )
    };
    view! {
        <header class="site-header">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                {t.brand}
            </a>
            <nav class="nav" aria-label="main">
                <Transition fallback=|| ()>
                    {move || {
                        me.get()
                            .map(|r| match r {
                                Ok(Some(me)) => {
                                    view! {
                                        <a href="/dashboard">{t.nav_dashboard}</a>
                                        <a href="/keys">{t.nav_keys}</a>
                                        <a href="/billing" rel="external">{t.nav_billing}</a>
                                        <Show when=move || me.is_admin>
                                            <a href="/admin" rel="external">{t.nav_admin}</a>
                                        </Show>
                                        <ActionForm action=logout>
                                            <button type="submit" class="link-button" data-testid="logout">
                                                {t.logout}
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                                _ => {
                                    view! {
                                        <a href="/login">{t.nav_login}</a>
                                        <a href="/register" class="button small">{t.nav_register}</a>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
                <a href=switch_href rel="external" class="lang-switch" hreflang=lang.other().code()>
                    {t.switch_to}
                </a>
            </nav>
        </header>
    }
}

/// A labelled input whose error (from the last submission) is shown under it and
/// announced to screen readers.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(default = "text")] inputmode: &'static str,
    #[prop(into)] error: Signal<Option<ErrorCode>>,
) -> impl IntoView {
    let t = use_t();
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{hint_id} {err_id}");
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <p class="error" id=err_id role="alert" aria-live="polite">
                {move || error.get().map(|c| t.error(c))}
            </p>
        </div>
    }
}

/// The error of an action's last result, for one field.
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<ErrorCode>>
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(e)) => e.for_field(field),
            _ => None,
        })
    })
}

/// An error not tied to a field (server trouble, lost session), shown above the form.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<ErrorCode>>) -> impl IntoView {
    let t = use_t();
    view! {
        <p class="form-error" role="alert" aria-live="assertive">
            {move || error.get().map(|c| t.error(c))}
        </p>
    }
}

/// The error of an action's last result that no field shows.
pub fn general_error<T, S>(value: S) -> Signal<Option<ErrorCode>>
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(AppError::Field { .. })) | None | Some(Ok(_)) => None,
            Some(Err(e)) => Some(e.code()),
        })
    })
}
