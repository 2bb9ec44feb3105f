//! Registration and login. Each form is an island (client-side pending state and errors
//! shown without a reload); without JavaScript it still posts, and an error comes back
//! through the URL and is shown by the server-rendered form.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{Login, Register};
use crate::components::{field_error, general_error, island_hydrated, Field, FormError};
use crate::i18n::{self, use_lang, Lang};

/// `path`, carrying `next` along (an invitee who opens a team invitation link signed out
/// goes from the login page to registration and still lands back on the link).
fn with_next(path: &str, next: &str) -> String {
    if next.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?next={}", crate::api::usage::encode(next))
    }
}

/// The `next` query parameter: where to go after logging in (read on the server and
/// handed to the island, which has no router).
fn next_param() -> String {
    use_query_map().with_untracked(|q| q.get("next").unwrap_or_default())
}

#[component]
pub fn Register() -> impl IntoView {
    view! { <RegisterForm lang=use_lang() next=next_param()/> }
}

#[component]
pub fn Login() -> impl IntoView {
    view! { <LoginForm lang=use_lang() next=next_param()/> }
}

#[island(lazy)]
fn RegisterForm(lang: Lang, next: String) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Auth::of(lang);
    let login_href = with_next("/login", &next);
    let action = ServerAction::<Register>::new();
    let value = action.value();
    view! {
        <section class="card auth">
            <h1>{t.register_title}</h1>
            <ActionForm action=action>
                <FormError error=general_error(value)/>
                <Field name="email" label=t.email autocomplete="email" inputmode="email" error=field_error(value, "email")/>
                <Field
                    name="phone"
                    label=t.phone
                    kind="tel"
                    inputmode="tel"
                    autocomplete="tel"
                    hint=t.phone_hint
                    error=field_error(value, "phone")
                />
                <Field
                    name="password"
                    label=t.password
                    kind="password"
                    autocomplete="new-password"
                    hint=t.password_hint
                    error=field_error(value, "password")
                />
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="button wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { t.working } else { t.register_submit }}
                </button>
            </ActionForm>
            <p class="alt"><a href=login_href>{t.have_account}</a></p>
        </section>
    }
}

#[island(lazy)]
fn LoginForm(lang: Lang, next: String) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Auth::of(lang);
    let register_href = with_next("/register", &next);
    let action = ServerAction::<Login>::new();
    let value = action.value();
    view! {
        <section class="card auth">
            <h1>{t.login_title}</h1>
            <ActionForm action=action>
                <FormError error=general_error(value)/>
                <Field name="email" label=t.email autocomplete="username" inputmode="email" error=field_error(value, "email")/>
                <Field
                    name="password"
                    label=t.password
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(value, "password")
                />
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="button wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { t.working } else { t.login_submit }}
                </button>
            </ActionForm>
            <p class="alt"><a href="/forgot">{t.forgot_link}</a></p>
            <p class="alt"><a href=register_href>{t.no_account}</a></p>
        </section>
    }
}
