//! API keys: create (the secret shown once, with a copy button), list, delete — the
//! list is read on the server and handed to the `KeyManager` island. The dashboard's copy
//! of the list ([`DashboardKeys`]) is rendered on the server only and deletes without
//! wasm: a plain form, asked to confirm first.
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::keys::{list_keys, CreateKey, DeleteKey};
use crate::components::{
    copy_to_clipboard, error_line, field_error, form_field, general_error, island_hydrated,
    load_error, to_login, Field, FormError,
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
                        Ok(rows) => view! { <KeyManager lang=lang rows=rows/> }.into_any(),
                        Err(AppError::Unauthorized) => to_login("/keys"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}

/// The keys on the dashboard (DASH-03): the list with quick delete, and the way to
/// `/keys` (creating keys stays there). No island: "Delete" links to the row's
/// confirmation (shown while it is the page's `:target`, style/main.css), "Cancel" links
/// away from it, and "Yes, delete" posts the form to the delete server function, which
/// answers a plain form post by sending the browser back here (an error comes back in the
/// query and is shown above the list). "Delete" and "Cancel" look like buttons but are
/// links, and say so to assistive technology: a `role="button"` would promise activation
/// with Space, which a link does not have without a script.
#[component]
pub fn DashboardKeys() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Keys::of(lang);
    let keys = Resource::new(|| (), |_| list_keys());
    let delete = ServerAction::<DeleteKey>::new();
    view! {
        <section class="dashboard-keys" id="dashboard-keys" data-testid="dashboard-keys">
            <div class="section-head">
                <h2 class="section-title">{t.keys_title}</h2>
                <a href="/keys" class="button secondary small">{t.manage}</a>
            </div>
            <FormError error=general_error(delete.value())/>
            <Suspense fallback=|| ()>
                {move || {
                    keys.get()
                        .map(|r| match r {
                            Ok(rows) => Either::Left(keys_table(lang, rows, move |k| {
                                let (key_id, label) = (k.id, k.label.clone());
                                let id = format!("delete-key-{key_id}");
                                view! {
                                    <a href=format!("#{id}") class="button danger small nowrap confirm-open"
                                        data-testid="delete-key">
                                        {t.delete}
                                    </a>
                                    <div class="confirm confirm-step" id=id role="alertdialog" aria-label=t.delete>
                                        <p>{t.confirm_delete} " " <bdi>{label}</bdi> {t.question_mark} " " {t.confirm_hint}</p>
                                        <ActionForm action=delete>
                                            <input type="hidden" name="id" value=key_id/>
                                            <button type="submit" class="button danger small nowrap" data-testid="confirm-delete">
                                                {t.confirm_yes}
                                            </button>
                                            <a href="#dashboard-keys" class="button secondary small nowrap">
                                                {t.cancel}
                                            </a>
                                        </ActionForm>
                                    </div>
                                }
                            })),
                            Err(AppError::Unauthorized) => Either::Right(None),
                            Err(e) => Either::Right(Some(load_error(&e))),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The key list: "no keys yet", or the table with `actions(row)` in each row's last cell.
fn keys_table<V: IntoView + 'static>(
    lang: Lang,
    rows: Vec<KeyRow>,
    actions: impl Fn(&KeyRow) -> V,
) -> impl IntoView {
    let t = i18n::Keys::of(lang);
    if rows.is_empty() {
        return Either::Left(view! { <p class="muted" data-testid="no-keys">{t.no_keys}</p> });
    }
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
                            let actions = actions(&k);
                            let prefix = k.prefix.clone();
                            view! {
                                <tr data-testid="key-row" data-key-prefix=prefix>
                                    <td data-label=t.label><bdi>{k.label}</bdi></td>
                                    <td data-label=t.key_col><code class="key-prefix" dir="ltr">{k.prefix} "…"</code></td>
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
                                    <td class="actions">{actions}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    })
}

/// The interactive part of the keys page: create (the secret shown once, with a copy
/// button) and the list with delete (asked to confirm first; the key is refused by the
/// API at once); the list is read again after each change. The forms post without wasm
/// too; with it, they call the server functions directly (their fields are read by name,
/// not through `ActionForm`'s form decoder).
#[island(lazy)]
pub fn KeyManager(lang: Lang, rows: Vec<KeyRow>) -> impl IntoView {
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
    let (create_url, delete_url) = (CreateKey::url(), DeleteKey::url());
    let copied = RwSignal::new(false);
    // The key whose deletion waits for a confirmation.
    let confirming = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if delete.version().get() > 0 {
            confirming.set(None);
        }
    });
    view! {
        <section class="card">
            <form
                method="post"
                action=create_url
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateKey { label: form_field(&ev, "label") });
                }
            >
                <FormError error=general_error(created)/>
                <div class="inline-form">
                    <Field name="label" label=t.label hint=t.label_hint error=field_error(created, "label")/>
                    <button type="submit" class="button" disabled=move || create.pending().get()>
                        {t.create_key}
                    </button>
                </div>
            </form>
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
                                    <code data-testid="new-key">{k.secret}</code>
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
        {move || reload_error.get().map(|e| error_line(lang, &e))}
        {move || delete.value().get().and_then(Result::err).map(|e| error_line(lang, &e))}
        {move || {
            keys_table(lang, rows.get(), move |k| {
                let id = k.id;
                let label = k.label.clone();
                view! {
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
                            <form
                                method="post"
                                action=delete_url
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    delete.dispatch(DeleteKey { id });
                                }
                            >
                                <input type="hidden" name="id" value=id/>
                                <button type="submit" class="button danger small nowrap" data-testid="confirm-delete"
                                    disabled=move || delete.pending().get()>
                                    {t.confirm_yes}
                                </button>
                                <button type="button" class="button secondary small nowrap"
                                    on:click=move |_| confirming.set(None)>
                                    {t.cancel}
                                </button>
                            </form>
                        </div>
                    </Show>
                }
            })
        }}
    }
}

/// Leaves for another page (a full load).
fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}
