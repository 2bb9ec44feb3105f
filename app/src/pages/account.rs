//! Account self-service pages: `/forgot` and `/reset` (a forgotten password, with a
//! WhatsApp code) and `/account` (profile, e-mail and phone, phone verification, password,
//! signed-in devices). No islands: every form posts without JavaScript and the server
//! function redirects (`?done=…` says what happened; an error comes back to its form).
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::account::{
    my_account, ChangeContact, ChangePassword, EndOtherSessions, EndSession, Forgot, Reset,
    SendPhoneCode, UpdateProfile, VerifyPhone,
};
use crate::components::{field_error, general_error, load_error, to_login, Field, FormError};
use crate::dto::AppError;
use crate::i18n::{self, fmt_kuwait_time, use_lang};

fn query(name: &'static str) -> String {
    use_query_map().with_untracked(|q| q.get(name).unwrap_or_default())
}

/// `?done=…` in words.
fn done_text(t: &'static i18n::Account, done: &str) -> Option<&'static str> {
    Some(match done {
        "profile" => t.done_profile,
        "contact" => t.done_contact,
        "code_sent" => t.done_code_sent,
        "phone_verified" => t.done_phone_verified,
        "password" => t.done_password,
        "session_ended" => t.done_session_ended,
        "sessions_ended" => t.done_sessions_ended,
        "reset" => t.done_reset,
        _ => return None,
    })
}

/// A confirmation after a redirect with `?done=…` (also used by the dashboard).
#[component]
pub fn DoneNotice() -> impl IntoView {
    let t = i18n::Account::of(use_lang());
    done_text(t, &query("done")).map(|text| {
        view! { <p class="notice" role="status" data-testid="done">{text}</p> }
    })
}

#[component]
pub fn Forgot() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Account::of(lang);
    let a = i18n::Auth::of(lang);
    let action = ServerAction::<Forgot>::new();
    let value = action.value();
    view! {
        <section class="card auth">
            <h1>{t.forgot_title}</h1>
            <p class="muted">{t.forgot_lead}</p>
            <ActionForm action=action>
                <FormError error=general_error(value)/>
                <Field
                    name="identifier"
                    label=t.identifier
                    autocomplete="username"
                    value=query("to")
                    error=field_error(value, "identifier")
                />
                <button type="submit" class="button wide">{t.send_code}</button>
            </ActionForm>
            <p class="alt"><a href="/login">{a.login_title}</a></p>
        </section>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Account::of(lang);
    let a = i18n::Auth::of(lang);
    let action = ServerAction::<Reset>::new();
    let value = action.value();
    let to = query("to");
    let again = format!("/forgot?to={}", urlencode(&to));
    view! {
        <section class="card auth">
            <h1>{t.reset_title}</h1>
            <p class="muted">{t.reset_lead}</p>
            <ActionForm action=action>
                <FormError error=general_error(value)/>
                <Field
                    name="identifier"
                    label=t.identifier
                    autocomplete="username"
                    value=to
                    error=field_error(value, "identifier")
                />
                <Field
                    name="code"
                    label=t.code
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    error=field_error(value, "code")
                />
                <Field
                    name="password"
                    label=t.new_password
                    kind="password"
                    autocomplete="new-password"
                    hint=a.password_hint
                    error=field_error(value, "password")
                />
                <p class="hint">{t.reset_note}</p>
                <button type="submit" class="button wide">{t.reset_submit}</button>
            </ActionForm>
            <p class="alt"><a href=again>{t.new_code_link}</a></p>
        </section>
    }
}

/// Percent-encodes a query value (the page links back to `/forgot` with what was typed).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the dashboard shows above everything: the `?done=` confirmation and the phone
/// banner (one type-erased view, so the dashboard's view type stays shallow).
pub fn dashboard_notices(phone_verified: bool) -> AnyView {
    view! {
        <DoneNotice/>
        <VerifyPhoneBanner verified=phone_verified/>
    }
    .into_any()
}

/// The banner the dashboard shows until the phone is verified.
#[component]
pub fn VerifyPhoneBanner(verified: bool) -> impl IntoView {
    let t = i18n::Account::of(use_lang());
    (!verified).then(|| {
        view! {
            <aside class="verify-banner" data-testid="verify-phone">
                <span>{t.banner}</span>
                <a href="/account#phone" class="button small">{t.banner_action}</a>
            </aside>
        }
    })
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Account::of(lang);
    let c = i18n::Common::of(lang);
    let au = i18n::Auth::of(lang);
    let profile = ServerAction::<UpdateProfile>::new();
    let contact = ServerAction::<ChangeContact>::new();
    let send_code = ServerAction::<SendPhoneCode>::new();
    let verify = ServerAction::<VerifyPhone>::new();
    let password = ServerAction::<ChangePassword>::new();
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let data = Resource::new(|| (), |_| my_account());
    view! {
        <section class="page-head">
            <h1>{t.account_title}</h1>
        </section>
        <DoneNotice/>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(v) => {
                    let others = v.sessions.iter().filter(|s| !s.current).count();
                    view! {
                        <div class="account-grid">
                            <section class="card" id="profile">
                                <h2>{t.profile_title}</h2>
                                <ActionForm action=profile>
                                    <FormError error=general_error(profile.value())/>
                                    <Field name="name" label=t.name autocomplete="name" value=v.name.clone() error=field_error(profile.value(), "name")/>
                                    <div class="field">
                                        <label for="f-lang">{t.language}</label>
                                        <select id="f-lang" name="lang">
                                            <option value="ar" selected=v.lang == "ar">"العربية"</option>
                                            <option value="en" selected=v.lang == "en">"English"</option>
                                        </select>
                                    </div>
                                    <button type="submit" class="button">{t.save}</button>
                                </ActionForm>
                            </section>

                            <section class="card" id="phone">
                                <h2>{t.phone_title}</h2>
                                <p><bdi class="ltr">{v.phone.clone()}</bdi></p>
                                {if v.phone_verified {
                                    view! { <p class="result-ok" data-testid="phone-verified">{t.phone_verified}</p> }.into_any()
                                } else {
                                    view! {
                                        <p class="warning">{t.phone_unverified}</p>
                                        <ActionForm action=verify>
                                            <FormError error=general_error(verify.value())/>
                                            <Field name="code" label=t.code inputmode="numeric" autocomplete="one-time-code" error=field_error(verify.value(), "code")/>
                                            <button type="submit" class="button">{t.verify}</button>
                                        </ActionForm>
                                        <ActionForm action=send_code>
                                            <FormError error=general_error(send_code.value())/>
                                            <button type="submit" class="link-button">{t.resend_code}</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                            </section>

                            <section class="card" id="contact">
                                <h2>{t.contact_title}</h2>
                                <ActionForm action=contact>
                                    <FormError error=general_error(contact.value())/>
                                    <Field name="email" label=au.email autocomplete="email" inputmode="email" value=v.email.clone() error=field_error(contact.value(), "email")/>
                                    <Field name="phone" label=au.phone kind="tel" inputmode="tel" autocomplete="tel" hint=t.contact_hint value=v.phone.clone() error=field_error(contact.value(), "phone")/>
                                    <Field name="current_password" label=t.current_password kind="password" autocomplete="current-password" error=field_error(contact.value(), "current_password")/>
                                    <button type="submit" class="button">{t.save}</button>
                                </ActionForm>
                            </section>

                            <section class="card" id="password">
                                <h2>{t.password_title}</h2>
                                <ActionForm action=password>
                                    <FormError error=general_error(password.value())/>
                                    <Field name="current_password" label=t.current_password kind="password" autocomplete="current-password" error=field_error(password.value(), "current_password")/>
                                    <Field name="new_password" label=t.new_password kind="password" autocomplete="new-password" hint=au.password_hint error=field_error(password.value(), "new_password")/>
                                    <p class="hint">{t.password_note}</p>
                                    <button type="submit" class="button">{t.change_password}</button>
                                </ActionForm>
                            </section>
                        </div>

                        <h2 class="section-title" id="sessions">{t.sessions_title}</h2>
                        <FormError error=general_error(end_one.value())/>
                        <div class="table-wrap">
                            <table class="table stack" data-testid="sessions">
                                <thead>
                                    <tr>
                                        <th scope="col">{t.device_col}</th>
                                        <th scope="col">{t.ip_col}</th>
                                        <th scope="col">{t.started_col}</th>
                                        <th scope="col">{t.seen_col}</th>
                                        <th scope="col"><span class="sr-only">{t.sign_out}</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {v.sessions.into_iter().map(|s| view! {
                                        <tr data-current=s.current.to_string()>
                                            <td data-label=t.device_col>
                                                {if s.browser.is_empty() { t.unknown_device.to_owned() } else { s.browser.clone() }}
                                                {s.current.then(|| view! { " " <span class="status status-paid">{t.this_device}</span> })}
                                            </td>
                                            <td data-label=t.ip_col><bdi class="ltr">{s.ip.clone()}</bdi></td>
                                            <td data-label=t.started_col class="nowrap"><bdi dir="ltr">{fmt_kuwait_time(s.created_at)}</bdi></td>
                                            <td data-label=t.seen_col class="nowrap"><bdi dir="ltr">{s.last_seen_at.map(fmt_kuwait_time)}</bdi></td>
                                            <td class="actions">
                                                <ActionForm action=end_one>
                                                    <input type="hidden" name="id" value=s.id/>
                                                    <button type="submit" class="button small secondary">{t.sign_out}</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {(others > 0).then(|| view! {
                            <ActionForm action=end_others>
                                <FormError error=general_error(end_others.value())/>
                                <p><button type="submit" class="button secondary" data-testid="end-others">{t.sign_out_others}</button></p>
                            </ActionForm>
                        })}
                    }.into_any()
                }
                Err(AppError::Unauthorized) => to_login("/account"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}
