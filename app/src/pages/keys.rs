//! API keys: create (the secret shown once, with a copy button), list, delete — the
//! list is read on the server and handed to the `KeyManager` island.
use leptos::either::Either;
use leptos::prelude::*;

use crate::api::keys::{list_keys, CreateKey, DeleteKey};
use crate::components::{
    copy_to_clipboard, field_error, general_error, island_hydrated, load_error, to_login, Field,
    FormError,
};
use crate::dto::{AppError, KeyRow};
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang, Lang};

#[component]
pub fn Keys() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Keys::of(lang);
    let c = i18n::Common::of(lang);
    let keys = Resource::new(|| (), |_| list_keys());
    view! {
        <section class="page-head">
            <h1>{t.keys_title}</h1>
        </section>
        <p class="muted">{t.keys_intro}</p>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || {
                keys.get()
                    .map(|r| match r {
                        Ok(rows) => view! { <KeyManager lang=lang rows=rows compact=false/> }.into_any(),
                        Err(AppError::Unauthorized) => to_login("/keys"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}

/// The keys on the dashboard (DASH-03): the list with quick delete — the same island as
/// `/keys`, without the create form — and the way to `/keys`.
#[component]
pub fn DashboardKeys() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Keys::of(lang);
    let keys = Resource::new(|| (), |_| list_keys());
    view! {
        <section class="dashboard-keys" data-testid="dashboard-keys">
            <div class="section-head">
                <h2 class="section-title">{t.keys_title}</h2>
                <a href="/keys" class="button secondary small">{t.manage}</a>
            </div>
            <Suspense fallback=|| ()>
                {move || {
                    keys.get()
                        .map(|r| match r {
                            Ok(rows) => view! { <KeyManager lang=lang rows=rows compact=true/> }.into_any(),
                            Err(AppError::Unauthorized) => ().into_any(),
                            Err(e) => load_error(&e),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The interactive part of the keys page: create (the secret shown once, with a copy
/// button) and the list with delete (asked to confirm first; the key is refused by the
/// API at once); the list is read again after each change. `compact`: the dashboard's
/// copy — the list with quick delete, creating keys stays on `/keys`.
#[island(lazy)]
pub fn KeyManager(lang: Lang, rows: Vec<KeyRow>, compact: bool) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Keys::of(lang);
    let create = ServerAction::<CreateKey>::new();
    let delete = ServerAction::<DeleteKey>::new();
    let created = create.value();
    let rows = RwSignal::new(rows);
    let reload_error = RwSignal::new(None::<AppError>);
    Effect::new(move |prev: Option<(usize, usize)>| {
        let versions = (create.version().get(), delete.version().get());
        if prev.is_some_and(|p| p != versions) {
            leptos::task::spawn_local(async move {
                match list_keys().await {
                    Ok(r) => {
                        rows.set(r);
                        reload_error.set(None);
                    }
                    Err(AppError::Unauthorized) => go_to("/login?next=/keys"),
                    Err(e) => reload_error.set(Some(e)),
                }
            });
        }
        versions
    });
    let copied = RwSignal::new(false);
    // The key whose deletion waits for a confirmation.
    let confirming = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if delete.version().get() > 0 {
            confirming.set(None);
        }
    });
    let create_form = (!compact).then(|| {
        view! {
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
        }
    });
    view! {
        {create_form}
        {move || reload_error.get().map(|e| load_error(&e))}
        {move || {
            delete
                .value()
                .get()
                .and_then(Result::err)
                .map(|e| view! { <p class="form-error" role="alert">{i18n::Common::of(lang).error(e.code())}</p> })
        }}
        {move || {
            let rows = rows.get();
            match rows {
                        rows if rows.is_empty() => Either::Left(view! { <p class="muted" data-testid="no-keys">{t.no_keys}</p> }),
                        rows => {
                            Either::Right(view! {
                                <div class="table-wrap">
                                    <table class="table stack" data-testid="keys">
                                        <thead>
                                            <tr>
                                                <th scope="col">{t.label}</th>
                                                <th scope="col">{t.key_col}</th>
                                                <th scope="col">{t.created_col}</th>
                                                <th scope="col">{t.last_used_col}</th>
                                                <th scope="col">{t.usage_col}</th>
                                                <th scope="col"><span class="sr-only">{t.delete}</span></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|k| {
                                                    let id = k.id;
                                                    let label = k.label.clone();
                                                    view! {
                                                        <tr data-testid="key-row" data-key-prefix=k.prefix.clone()>
                                                            <td data-label=t.label><bdi>{k.label.clone()}</bdi></td>
                                                            <td data-label=t.key_col><code class="key-prefix" dir="ltr">{k.prefix.clone()} "…"</code></td>
                                                            <td data-label=t.created_col><span class="nowrap" dir="ltr">{fmt_kuwait_time(k.created_at)}</span></td>
                                                            <td data-label=t.last_used_col>
                                                                {match k.last_used_at {
                                                                    Some(at) => Either::Left(view! { <span class="nowrap" dir="ltr">{fmt_kuwait_time(at)}</span> }),
                                                                    None => Either::Right(view! { <span class="nowrap">{t.never}</span> }),
                                                                }}
                                                            </td>
                                                            <td data-label=t.usage_col data-testid="key-usage">
                                                                <span class="nowrap">{fmt_int(lang, k.requests_30d)} " " {t.requests}</span>
                                                                " · "
                                                                <span class="nowrap">{fmt_int(lang, k.credits_30d)} " " {t.credits}</span>
                                                            </td>
                                                            <td class="actions">
                                                                <Show
                                                                    when=move || confirming.get() == Some(id)
                                                                    fallback=move || view! {
                                                                        <button type="button" class="button danger small nowrap" data-testid="delete-key"
                                                                            on:click=move |_| confirming.set(Some(id))>
                                                                            {t.delete}
                                                                        </button>
                                                                    }
                                                                >
                                                                    <div class="confirm" role="alertdialog" aria-label=t.delete>
                                                                        <p>{t.confirm_delete} " " <bdi>{label.clone()}</bdi> {t.question_mark} " " {t.confirm_hint}</p>
                                                                        <ActionForm action=delete>
                                                                            <input type="hidden" name="id" value=id/>
                                                                            <button type="submit" class="button danger small nowrap" data-testid="confirm-delete"
                                                                                disabled=move || delete.pending().get()>
                                                                                {t.confirm_yes}
                                                                            </button>
                                                                            <button type="button" class="button secondary small nowrap"
                                                                                on:click=move |_| confirming.set(None)>
                                                                                {t.cancel}
                                                                            </button>
                                                                        </ActionForm>
                                                                    </div>
                                                                </Show>
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            })
                        }
            }
        }}
    }
}

/// Leaves for another page (a full load).
fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}
