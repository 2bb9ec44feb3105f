//! The team page (TEAM-01..04): the owner names the team; members with role, joined
//! date, keys and usage; invitations by e-mail (pending ones withdrawn), the invitations
//! addressed to the signed-in account (accept / decline); joining with an invitation code
//! (pasted, or pre-filled from the `?invite=` link); team keys; usage per member for a
//! period with a CSV export. Every form posts without JavaScript (errors come back in the
//! query) except two islands that show a secret once: a new team key, and the code of an
//! invitation to an address with no account.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::team::{
    my_invitations, team_page, AcceptInvitation, CreateTeamKey, DeclineInvitation, InviteMember,
    JoinTeam, LeaveTeam, NameTeam, RemoveMember, RevokeTeamKey, WithdrawInvitation,
};
use crate::components::{
    copy_to_clipboard, email_address, field_error, general_error, island_hydrated, load_error,
    to_login, Field, FormError,
};
use crate::dto::{AppError, InvitationRow, TeamInfo};
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang, Lang};

fn role_name(t: &i18n::Team, role: &str) -> &'static str {
    match role {
        "owner" => t.role_owner,
        "admin" => t.role_admin,
        _ => t.role_member,
    }
}

#[component]
pub fn Team() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Team::of(lang);
    let c = i18n::Common::of(lang);
    let q = use_query_map();
    let range = move || q.with(|q| (q.get("from"), q.get("to")));
    let data = Resource::new(range, |(from, to)| team_page(from, to));
    view! {
        <section class="page-head">
            <h1>{t.title}</h1>
        </section>
        <p class="muted">{t.intro}</p>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || data.get().map(|r| match r {
                Ok(page) => view! {
                    <Invitations rows=page.invitations.clone()/>
                    {page.team.is_none().then(|| view! { <JoinWithCode/> })}
                    {match page.team {
                        Some(team) => view! { <TeamView team=team lang=lang/> }.into_any(),
                        None if page.can_create => view! { <CreateTeam/> }.into_any(),
                        None => view! {
                            <section class="card" data-testid="no-team">
                                <p>{t.no_team}</p>
                                <p class="muted">{t.needs_enterprise}</p>
                                <a href="/billing" rel="external" class="button secondary">{t.see_plans}</a>
                            </section>
                        }.into_any(),
                    }}
                }.into_any(),
                Err(AppError::Unauthorized) => to_login("/team"),
                Err(e) => load_error(&e),
            })}
        </Transition>
    }
}

/// The invitations addressed to the signed-in account, with accept and decline.
#[component]
fn Invitations(rows: Vec<InvitationRow>) -> impl IntoView {
    let t = i18n::Team::of(use_lang());
    let accept = ServerAction::<AcceptInvitation>::new();
    let decline = ServerAction::<DeclineInvitation>::new();
    let errors = Signal::derive(move || {
        general_error(accept.value())
            .get()
            .or_else(|| general_error(decline.value()).get())
    });
    (!rows.is_empty() || errors.get_untracked().is_some()).then(|| view! {
        <section class="card" data-testid="my-invitations">
            <h2>{t.invitations_title}</h2>
            <FormError error=errors/>
            <ul class="plain-list">
                {rows.into_iter().map(|i| view! {
                    <li class="invitation">
                        <p>
                            {t.invited_to} " " <strong><bdi>{i.team_name.clone()}</bdi></strong>
                            " " {t.as_role} " " {role_name(t, &i.role)}
                            <span class="muted"> " · " {t.expires_col} " " <span dir="ltr">{fmt_kuwait_time(i.expires_at)}</span></span>
                        </p>
                        <div class="inline-actions">
                            <ActionForm action=accept>
                                <input type="hidden" name="id" value=i.id/>
                                <button type="submit" class="button small">{t.accept}</button>
                            </ActionForm>
                            <ActionForm action=decline>
                                <input type="hidden" name="id" value=i.id/>
                                <button type="submit" class="button secondary small">{t.decline}</button>
                            </ActionForm>
                        </div>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    })
}

/// Joins a team with the code (or link) the inviter passed on: for invitations sent to
/// an address before it had an account, which are listed nowhere. `?invite=` (the link)
/// fills the field; the code is posted in the form's body, never in a URL of ours.
#[component]
fn JoinWithCode() -> impl IntoView {
    let t = i18n::Team::of(use_lang());
    let join = ServerAction::<JoinTeam>::new();
    let from_link = use_query_map().with_untracked(|q| q.get("invite"));
    view! {
        <section class="card" data-testid="join-with-code">
            <h2>{t.code_title}</h2>
            <p class="muted">{t.code_intro}</p>
            <ActionForm action=join>
                <FormError error=general_error(join.value())/>
                <div class="inline-form">
                    <Field
                        name="code"
                        label=t.code_label
                        hint=t.code_hint
                        error=field_error(join.value(), "code")
                        value=from_link.unwrap_or_default()
                    />
                    <button type="submit" class="button">{t.join}</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// An Enterprise account without a team names one.
#[component]
fn CreateTeam() -> impl IntoView {
    let t = i18n::Team::of(use_lang());
    let name = ServerAction::<NameTeam>::new();
    view! {
        <section class="card">
            <ActionForm action=name>
                <FormError error=general_error(name.value())/>
                <div class="inline-form">
                    <Field name="name" label=t.name_label hint=t.name_hint error=field_error(name.value(), "name")/>
                    <button type="submit" class="button">{t.create_team}</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn TeamView(team: TeamInfo, lang: Lang) -> impl IntoView {
    let t = i18n::Team::of(lang);
    let kt = i18n::Keys::of(lang);
    let c = i18n::Common::of(lang);
    let manages = team.role != "member";
    let owner = team.role == "owner";
    let rename = ServerAction::<NameTeam>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let leave = ServerAction::<LeaveTeam>::new();
    let revoke = ServerAction::<RevokeTeamKey>::new();
    let me = team.me;
    let total_requests: i64 = team.members.iter().filter_map(|m| m.requests).sum();
    let total_credits: i64 = team.members.iter().filter_map(|m| m.credits).sum();
    let csv = format!("/api/team/usage.csv?from={}&to={}", team.from, team.to);
    view! {
        <section class="card team-head">
            <h2 data-testid="team-name"><bdi>{team.name.clone()}</bdi></h2>
            <p class="muted">{t.your_role} ": " <span data-testid="team-role">{role_name(t, &team.role)}</span></p>
            {(!team.plan_active).then(|| view! { <p class="warning" role="status" data-testid="team-lapsed">{t.lapsed}</p> })}
            {owner.then(|| view! {
                <ActionForm action=rename>
                    <FormError error=general_error(rename.value())/>
                    <div class="inline-form">
                        <Field name="name" label=t.name_label error=field_error(rename.value(), "name")/>
                        <button type="submit" class="button secondary">{t.rename}</button>
                    </div>
                </ActionForm>
            })}
        </section>

        <section class="card">
            <h2>{t.members_title}</h2>
            <FormError error=general_error(remove.value())/>
            <FormError error=general_error(leave.value())/>
            <div class="table-wrap">
                <table class="table stack" data-testid="members">
                    <thead>
                        <tr>
                            <th scope="col">{t.email_col}</th>
                            <th scope="col">{t.role_col}</th>
                            <th scope="col">{t.joined_col}</th>
                            <th scope="col">{t.keys_col}</th>
                            <th scope="col">{t.requests_col}</th>
                            <th scope="col">{t.credits_col}</th>
                            <th scope="col"><span class="sr-only">{t.remove}</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {team.members.clone().into_iter().map(|m| {
                            let dash = || "—".to_owned();
                            view! {
                                <tr data-member=m.email.clone()>
                                    <td data-label=t.email_col>{email_address(&m.email)}</td>
                                    <td data-label=t.role_col>{role_name(t, &m.role)}</td>
                                    <td data-label=t.joined_col><span class="nowrap" dir="ltr">{fmt_kuwait_time(m.joined_at)}</span></td>
                                    <td data-label=t.keys_col>{m.keys.map(|n| fmt_int(lang, i64::from(n))).unwrap_or_else(dash)}</td>
                                    <td data-label=t.requests_col data-testid="member-requests">{m.requests.map(|n| fmt_int(lang, n)).unwrap_or_else(dash)}</td>
                                    <td data-label=t.credits_col data-testid="member-credits">{m.credits.map(|n| fmt_int(lang, n)).unwrap_or_else(dash)}</td>
                                    <td class="actions">
                                        {(manages && m.role != "owner" && m.account_id != me).then(|| view! {
                                            <ActionForm action=remove>
                                                <input type="hidden" name="id" value=m.account_id/>
                                                <button type="submit" class="button danger small">{t.remove}</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {(!owner).then(|| view! {
                <ActionForm action=leave>
                    <button type="submit" class="button secondary small" data-testid="leave">{t.leave}</button>
                </ActionForm>
            })}
        </section>

        {manages.then(|| view! { <InviteSection pending=team.pending.clone() lang=lang/> })}

        <section class="card">
            <h2>{t.keys_title}</h2>
            <p class="muted">{t.keys_intro}</p>
            {team.plan_active.then(|| view! { <TeamKeyCreator lang=lang/> })}
            <FormError error=general_error(revoke.value())/>
            {if team.keys.is_empty() {
                view! { <p class="muted" data-testid="no-team-keys">{t.no_keys}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table stack" data-testid="team-keys">
                            <thead>
                                <tr>
                                    <th scope="col">{kt.label}</th>
                                    <th scope="col">{kt.key_col}</th>
                                    <th scope="col">{t.member_col}</th>
                                    <th scope="col">{kt.created_col}</th>
                                    <th scope="col">{kt.last_used_col}</th>
                                    <th scope="col"><span class="sr-only">{t.revoke}</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {team.keys.clone().into_iter().map(|k| view! {
                                    <tr>
                                        <td data-label=kt.label><bdi>{k.label.clone()}</bdi></td>
                                        <td data-label=kt.key_col><code class="key-prefix" dir="ltr">{k.prefix.clone()} "…"</code></td>
                                        <td data-label=t.member_col>{email_address(&k.member_email)}</td>
                                        <td data-label=kt.created_col><span class="nowrap" dir="ltr">{fmt_kuwait_time(k.created_at)}</span></td>
                                        <td data-label=kt.last_used_col><span class="nowrap" dir="ltr">{k.last_used_at.map(fmt_kuwait_time).unwrap_or_else(|| kt.never.to_owned())}</span></td>
                                        <td class="actions">
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="id" value=k.id/>
                                                <button type="submit" class="button danger small">{t.revoke}</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>

        <section class="card" data-testid="team-usage">
            <h2>{t.usage_title}</h2>
            <form method="get" action="/team" class="inline-form">
                <div class="field">
                    <label for="f-from">{t.from}</label>
                    <input id="f-from" name="from" type="date" value=team.from.clone()/>
                </div>
                <div class="field">
                    <label for="f-to">{t.to}</label>
                    <input id="f-to" name="to" type="date" value=team.to.clone()/>
                </div>
                <button type="submit" class="button secondary">{t.show}</button>
                <a href=csv rel="external" download class="button secondary" data-testid="usage-csv">{t.export_csv}</a>
            </form>
            <div class="grid">
                <crate::components::chart::Chart lang=lang spec=team.requests_chart.clone()/>
                <crate::components::chart::Chart lang=lang spec=team.credits_chart.clone()/>
            </div>
            <p class="muted">
                {t.total} ": " <span data-testid="team-total-requests">{fmt_int(lang, total_requests)}</span>
                " " {t.requests_col} " · " <span data-testid="team-total-credits">{fmt_int(lang, total_credits)}</span>
                " " {c.credits}
            </p>
        </section>
    }
}

/// Invite by e-mail with a role; the open invitations with withdraw (owner and admins).
#[component]
fn InviteSection(pending: Vec<InvitationRow>, lang: Lang) -> impl IntoView {
    let t = i18n::Team::of(lang);
    let withdraw = ServerAction::<WithdrawInvitation>::new();
    view! {
        <section class="card">
            <h2>{t.invite_title}</h2>
            <InviteForm lang=lang/>
            <h3>{t.pending_title}</h3>
            <FormError error=general_error(withdraw.value())/>
            {if pending.is_empty() {
                view! { <p class="muted">{t.no_pending}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table stack" data-testid="pending-invitations">
                            <thead>
                                <tr>
                                    <th scope="col">{t.email_col}</th>
                                    <th scope="col">{t.role_col}</th>
                                    <th scope="col">{t.expires_col}</th>
                                    <th scope="col"><span class="sr-only">{t.withdraw}</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {pending.into_iter().map(|i| view! {
                                    <tr>
                                        <td data-label=t.email_col>
                                            {email_address(&i.email)}
                                            {i.needs_code.then(|| view! { " " <span class="muted" data-testid="needs-code">"(" {t.with_code} ")"</span> })}
                                        </td>
                                        <td data-label=t.role_col>{role_name(t, &i.role)}</td>
                                        <td data-label=t.expires_col><span class="nowrap" dir="ltr">{fmt_kuwait_time(i.expires_at)}</span></td>
                                        <td class="actions">
                                            <ActionForm action=withdraw>
                                                <input type="hidden" name="id" value=i.id/>
                                                <button type="submit" class="button secondary small">{t.withdraw}</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// Invites by e-mail with a role. To an existing account the server sends the browser
/// back to `/team` (the invitation is listed as pending); to an address with no account
/// it answers with the invitation's code and link, shown here once for the inviter to
/// pass on.
#[island(lazy)]
fn InviteForm(lang: Lang) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Team::of(lang);
    let k = i18n::Keys::of(lang);
    let invite = ServerAction::<InviteMember>::new();
    let done = invite.value();
    let copied = RwSignal::new(None::<&'static str>);
    let copy = move |what: &'static str, text: String| {
        copy_to_clipboard(&text);
        copied.set(Some(what));
    };
    view! {
        <ActionForm action=invite>
            <FormError error=general_error(done)/>
            <div class="inline-form">
                <Field name="email" label=t.invite_email kind="email" inputmode="email" hint=t.invite_hint error=field_error(done, "email")/>
                <div class="field">
                    <label for="f-role">{t.invite_role}</label>
                    <select id="f-role" name="role">
                        <option value="member" selected>{t.role_member}</option>
                        <option value="admin">{t.role_admin}</option>
                    </select>
                </div>
                <button type="submit" class="button" disabled=move || invite.pending().get()>{t.invite}</button>
            </div>
        </ActionForm>
        {move || done.get().and_then(Result::ok).and_then(|r| {
            let (code, link) = (r.code?, r.link?);
            let (code2, link2) = (code.clone(), link.clone());
            Some(view! {
                <div class="new-key" role="status" data-testid="invite-code-box">
                    <h3>{t.invited_title} " " <bdi dir="ltr">{r.email.clone()}</bdi></h3>
                    <p class="warning">{t.invited_once}</p>
                    <p>{t.invite_link_label}</p>
                    <div class="key-box">
                        <code dir="ltr" data-testid="invite-link">{link.clone()}</code>
                        <button type="button" class="button secondary small" on:click=move |_| copy("link", link2.clone())>
                            {move || if copied.get() == Some("link") { k.copied } else { t.copy_link }}
                        </button>
                    </div>
                    <p>{t.invite_code_label}</p>
                    <div class="key-box">
                        <code dir="ltr" data-testid="invite-code">{code.clone()}</code>
                        <button type="button" class="button secondary small" on:click=move |_| copy("code", code2.clone())>
                            {move || if copied.get() == Some("code") { k.copied } else { t.copy_code }}
                        </button>
                    </div>
                    <p class="muted">{t.invited_hint}</p>
                    <a href="/team" rel="external" class="button secondary small">{t.invited_done}</a>
                </div>
            })
        })}
    }
}

/// Creates a team key and shows its secret once (the list updates on the next load).
#[island(lazy)]
fn TeamKeyCreator(lang: Lang) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Keys::of(lang);
    let create = ServerAction::<CreateTeamKey>::new();
    let created = create.value();
    let copied = RwSignal::new(false);
    view! {
        <ActionForm action=create>
            <FormError error=general_error(created)/>
            <div class="inline-form">
                <Field name="label" label=t.label hint=t.label_hint error=field_error(created, "label")/>
                <button type="submit" class="button" disabled=move || create.pending().get()>
                    {t.create_key}
                </button>
            </div>
        </ActionForm>
        {move || created.get().and_then(Result::ok).map(|k| {
            let secret = k.secret.clone();
            view! {
                <div class="new-key" role="status">
                    <h3>{t.new_key_title}</h3>
                    <p class="warning">{t.new_key_once}</p>
                    <div class="key-box">
                        <code data-testid="new-team-key">{k.secret.clone()}</code>
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
        })}
    }
}

/// On the dashboard: the team invitations waiting for this account, with a link to
/// answer them on `/team`.
#[component]
pub fn InvitationNotice() -> impl IntoView {
    let t = i18n::Team::of(use_lang());
    let rows = Resource::new(|| (), |_| my_invitations());
    view! {
        <Transition fallback=|| ()>
            {move || rows.get().and_then(Result::ok).filter(|r| !r.is_empty()).map(|r| view! {
                <section class="card" data-testid="dashboard-invitations">
                    <h2>{t.invitations_title}</h2>
                    <ul class="plain-list">
                        {r.into_iter().map(|i| view! {
                            <li>
                                {t.invited_to} " " <strong><bdi>{i.team_name.clone()}</bdi></strong>
                                " " {t.as_role} " " {role_name(t, &i.role)}
                            </li>
                        }).collect_view()}
                    </ul>
                    <a href="/team" class="button">{t.open_team}</a>
                </section>
            })}
        </Transition>
    }
}
