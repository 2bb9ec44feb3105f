//! The pages of the site, one component each.
use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::api::{dashboard, list_keys, CreateKey, DeleteKey, Login, Register};
use crate::components::{field_error, general_error, Field, FormError};
use crate::dto::AppError;
use crate::i18n::{fmt_int, fmt_kuwait_time, use_lang, use_t};

/// The landing page (a first version: the offer in one screen and the way in).
#[component]
pub fn Landing() -> impl IntoView {
    let t = use_t();
    view! {
        <section class="hero">
            <p class="eyebrow">{t.tagline}</p>
            <h1>{t.hero_title}</h1>
            <p class="lead">{t.hero_body}</p>
            <a href="/register" class="button">{t.hero_cta}</a>
        </section>
    }
}

/// The `next` query parameter: where to go after logging in.
fn next_param() -> Signal<String> {
    let q = use_query_map();
    Signal::derive(move || q.with(|q| q.get("next").unwrap_or_default()))
}

#[component]
pub fn Register() -> impl IntoView {
    let t = use_t();
    let action = ServerAction::<Register>::new();
    let value = action.value();
    let next = next_param();
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
            <p class="alt"><a href="/login">{t.have_account}</a></p>
        </section>
    }
}

#[component]
pub fn Login() -> impl IntoView {
    let t = use_t();
    let action = ServerAction::<Login>::new();
    let value = action.value();
    let next = next_param();
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
            <p class="alt"><a href="/register">{t.no_account}</a></p>
        </section>
    }
}

/// Sends a visitor whose session is gone to the login page, to come back here after.
pub(crate) fn to_login(path: &'static str) -> AnyView {
    view! { <Redirect path=format!("/login?next={path}")/> }.into_any()
}

pub(crate) fn load_error(e: &AppError) -> AnyView {
    let t = use_t();
    view! { <p class="form-error" role="alert">{t.error(e.code())}</p> }.into_any()
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let t = use_t();
    let lang = use_lang();
    let data = Resource::new(|| (), |_| dashboard());
    view! {
        <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(me) => {
                            view! {
                                <section class="page-head">
                                    <h1 class="welcome">{t.welcome} <bdi>{me.email.clone()}</bdi></h1>
                                    <a href="/billing" rel="external" class="button">{t.top_up}</a>
                                </section>
                                <section class="grid">
                                    <article class="card stat">
                                        <h2>{t.balance}</h2>
                                        <p class="big" data-testid="balance">{fmt_int(lang, me.credits)}</p>
                                        <p class="muted">{t.credits}</p>
                                    </article>
                                    <article class="card stat">
                                        <h2>{t.plan}</h2>
                                        {match me.plan.clone() {
                                            Some(p) => {
                                                view! {
                                                    <p class="big" data-testid="plan">{t.plan_name(&p)}</p>
                                                    <p class="muted">
                                                        {t.expires} " "
                                                        {me.plan_expires_at.map(fmt_kuwait_time)}
                                                    </p>
                                                }
                                                    .into_any()
                                            }
                                            None => view! { <p class="muted" data-testid="plan">{t.no_plan}</p> }.into_any(),
                                        }}
                                    </article>
                                    <article class="card stat">
                                        <h2>{t.nav_keys}</h2>
                                        <a href="/keys" class="button secondary">{t.manage_keys}</a>
                                    </article>
                                </section>
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

#[component]
pub fn Keys() -> impl IntoView {
    let t = use_t();
    let create = ServerAction::<CreateKey>::new();
    let delete = ServerAction::<DeleteKey>::new();
    let created = create.value();
    let keys = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_keys(),
    );
    let copied = RwSignal::new(false);
    view! {
        <section class="page-head">
            <h1>{t.keys_title}</h1>
        </section>
        <p class="muted">{t.keys_intro}</p>
        <section class="card">
            <ActionForm action=create>
                <FormError error=general_error(created)/>
                <div class="inline-form">
                    <Field name="label" label=t.label hint=t.label_hint error=field_error(created, "label")/>
                    <button type="submit" class="button" disabled=move || create.pending().get()>
                        {t.create_key}
                    </button>
                </div>
            </ActionForm>
            {move || {
                created
                    .get()
                    .and_then(Result::ok)
                    .map(|k| {
                        let secret = k.secret.clone();
                        view! {
                            <div class="new-key" role="status">
                                <h2>{t.new_key_title}</h2>
                                <p class="warning">{t.new_key_once}</p>
                                <div class="key-box">
                                    <code data-testid="new-key">{k.secret.clone()}</code>
                                    <button
                                        type="button"
                                        class="button secondary small"
                                        on:click=move |_| {
                                            copy_to_clipboard(&secret);
                                            copied.set(true);
                                        }
                                    >
                                        {move || if copied.get() { t.copied } else { t.copy }}
                                    </button>
                                </div>
                            </div>
                        }
                    })
            }}
        </section>
        <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
            {move || {
                keys.get()
                    .map(|r| match r {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted" data-testid="no-keys">{t.no_keys}</p> }.into_any(),
                        Ok(rows) => {
                            view! {
                                <div class="table-wrap">
                                    <table class="table" data-testid="keys">
                                        <thead>
                                            <tr>
                                                <th scope="col">{t.label}</th>
                                                <th scope="col">{t.key_col}</th>
                                                <th scope="col">{t.created_col}</th>
                                                <th scope="col">{t.last_used_col}</th>
                                                <th scope="col"><span class="sr-only">{t.delete}</span></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|k| {
                                                    view! {
                                                        <tr>
                                                            <td><bdi>{k.label.clone()}</bdi></td>
                                                            <td><code class="key-prefix" dir="ltr">{k.prefix.clone()} "…"</code></td>
                                                            <td dir="ltr">{fmt_kuwait_time(k.created_at)}</td>
                                                            <td dir="ltr">{k.last_used_at.map(fmt_kuwait_time).unwrap_or_else(|| t.never.to_owned())}</td>
                                                            <td>
                                                                <ActionForm action=delete>
                                                                    <input type="hidden" name="id" value=k.id/>
                                                                    <button type="submit" class="button danger small">{t.delete}</button>
                                                                </ActionForm>
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                        Err(AppError::Unauthorized) => to_login("/keys"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}

fn copy_to_clipboard(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = use_t();
    view! {
        <section class="card narrow">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_body}</p>
            <a href="/" class="button secondary">{t.back_home}</a>
        </section>
    }
}
