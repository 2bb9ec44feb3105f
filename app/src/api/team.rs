//! Server functions of the team page (TEAM-01..04). Every rule (who may invite, remove,
//! see what) is in `domain::teams`; these authorise the session and map to DTOs. The
//! forms post without JavaScript (their errors come back to `/team` in the query); only
//! the team key creation runs in an island (the secret is shown once).
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, StreamingText, TextStream};

use crate::dto::{AppError, InvitationRow, InviteResult, NewKey, TeamOverview};
#[cfg(feature = "ssr")]
use crate::server::*;

#[cfg(feature = "ssr")]
fn invitation_row(i: domain::teams::Invitation) -> InvitationRow {
    InvitationRow {
        id: i.id,
        team_name: i.team_name,
        email: i.email,
        role: i.role.as_str().to_owned(),
        expires_at: i.expires_at,
        needs_code: i.needs_code,
    }
}

/// `[from, to]` as Kuwait dates (`YYYY-MM-DD`), defaulting to the last 30 days; returns
/// the dates and the unix range `[start of from, end of to)`.
#[cfg(feature = "ssr")]
fn period(from: Option<String>, to: Option<String>) -> (String, String, i64, i64) {
    use locale::{kuwait_date, kuwait_midnight};
    let now = domain::time::now();
    let parse = |s: Option<String>| s.as_deref().and_then(kuwait_day_start);
    let to_start = parse(to).unwrap_or_else(|| kuwait_midnight(now));
    let from_start = parse(from)
        .filter(|f| *f <= to_start)
        .unwrap_or(to_start - 29 * 86_400);
    // At most a year at once.
    let from_start = from_start.max(to_start - 366 * 86_400);
    (
        kuwait_date(from_start),
        kuwait_date(to_start),
        from_start,
        to_start + 86_400,
    )
}

/// The unix time of midnight Asia/Kuwait starting the date `YYYY-MM-DD`.
#[cfg(feature = "ssr")]
fn kuwait_day_start(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(2000..=2200).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let start = days * 86_400 - locale::KUWAIT_OFFSET_SECS;
    // A day that does not exist (31 February) is refused, not rolled over.
    (locale::kuwait_date(start) == format!("{y:04}-{m:02}-{d:02}")).then_some(start)
}

/// After a form's success, back to a clean `/team` (without the query of an earlier
/// refusal, which would show that error again).
#[cfg(feature = "ssr")]
fn back_to_team() {
    leptos_axum::redirect("/team");
}

#[server(prefix = "/api", endpoint = "team")]
pub async fn team_page(from: Option<String>, to: Option<String>) -> Result<TeamOverview, AppError> {
    use crate::dto::{MemberRow, TeamInfo, TeamKeyRow};
    use domain::teams;
    let lang = crate::request_lang();
    let (svc, account) = signed_in().await?;
    let invitations = teams::invitations_for(&svc.db, &account)
        .await
        .map_err(fail)?
        .into_iter()
        .map(invitation_row)
        .collect();
    let Some(m) = teams::membership(&svc.db, account.id).await.map_err(fail)? else {
        return Ok(TeamOverview {
            team: None,
            can_create: teams::allows_teams(&svc, &account),
            invitations,
        });
    };
    let owner = domain::accounts::find(&svc.db, m.team.owner_id)
        .await
        .map_err(fail)?;
    let (from, to, start, end) = period(from, to);
    let members = teams::members(&svc.db, m.team.id).await.map_err(fail)?;
    let keys = teams::visible_keys(&svc, &account).await.map_err(fail)?;
    let daily = teams::usage_by_member_and_day(&svc, &account, start, end)
        .await
        .map_err(fail)?;
    let usage = sum_per_member(&daily);
    let (requests_chart, credits_chart) = charts(lang, &members, &daily, start, end);
    let manages = m.role.manages();
    let email_of = |id: Option<i64>| {
        members
            .iter()
            .find(|x| Some(x.account_id) == id)
            .map(|x| x.email.clone())
            .unwrap_or_default()
    };
    let member_rows = members
        .iter()
        .map(|x| {
            let visible = manages || x.account_id == account.id;
            let u = usage.iter().find(|u| u.member_id == x.account_id);
            MemberRow {
                account_id: x.account_id,
                email: x.email.clone(),
                role: x.role.as_str().to_owned(),
                joined_at: x.joined_at,
                keys: visible.then(|| {
                    keys.iter()
                        .filter(|k| k.member_id == Some(x.account_id))
                        .count() as u32
                }),
                requests: visible.then(|| u.map_or(0, |u| u.requests)),
                credits: visible.then(|| u.map_or(0, |u| u.credits)),
            }
        })
        .collect();
    let pending = if manages {
        teams::open_invitations(&svc, &account)
            .await
            .map_err(fail)?
            .into_iter()
            .map(invitation_row)
            .collect()
    } else {
        Vec::new()
    };
    let key_rows = keys
        .into_iter()
        .map(|k| TeamKeyRow {
            member_email: email_of(k.member_id),
            id: k.id,
            label: k.label,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        })
        .collect();
    Ok(TeamOverview {
        team: Some(TeamInfo {
            name: m.team.name,
            role: m.role.as_str().to_owned(),
            me: account.id,
            plan_active: teams::allows_teams(&svc, &owner),
            members: member_rows,
            pending,
            keys: key_rows,
            from,
            to,
            requests_chart,
            credits_chart,
        }),
        can_create: false,
        invitations,
    })
}

/// The invitations addressed to the signed-in account (the dashboard's notice).
#[server(prefix = "/api", endpoint = "team/invitations")]
pub async fn my_invitations() -> Result<Vec<InvitationRow>, AppError> {
    let (svc, account) = signed_in().await?;
    Ok(domain::teams::invitations_for(&svc.db, &account)
        .await
        .map_err(fail)?
        .into_iter()
        .map(invitation_row)
        .collect())
}

#[server(prefix = "/api", endpoint = "team/name")]
pub async fn name_team(name: String) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::name_team(&svc, &account, &name)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

/// Invites an address. To an existing account: back to `/team` (the invitation is listed
/// as pending). To an address with no account: the invitation's code and link, returned
/// this once for the inviter to pass on (the island shows them; no redirect, which
/// would lose them).
#[server(prefix = "/api", endpoint = "team/invite")]
pub async fn invite_member(email: String, role: String) -> Result<InviteResult, AppError> {
    let (svc, account) = signed_in().await?;
    let inv = domain::teams::invite(&svc, &account, &email, &role)
        .await
        .map_err(fail)?;
    let code = inv.code.as_ref().map(|c| c.expose().to_owned());
    if code.is_none() {
        back_to_team();
    }
    let link = code.as_ref().map(|c| {
        format!(
            "{}/team?invite={c}",
            svc.settings.public_base_url.trim_end_matches('/')
        )
    });
    Ok(InviteResult {
        email: inv.email,
        code,
        link,
    })
}

/// Joins the team of the invitation whose code (or link) was pasted; see
/// `domain::teams::accept_with_code`.
#[server(prefix = "/api", endpoint = "team/join")]
pub async fn join_team(code: String) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::accept_with_code(&svc, &account, &code)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

#[server(prefix = "/api", endpoint = "team/withdraw")]
pub async fn withdraw_invitation(id: i64) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::withdraw(&svc, &account, id)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

#[server(prefix = "/api", endpoint = "team/accept")]
pub async fn accept_invitation(id: i64) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::respond(&svc, &account, id, true)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

#[server(prefix = "/api", endpoint = "team/decline")]
pub async fn decline_invitation(id: i64) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::respond(&svc, &account, id, false)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

#[server(prefix = "/api", endpoint = "team/remove")]
pub async fn remove_member(id: i64) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::remove(&svc, &account, id)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

#[server(prefix = "/api", endpoint = "team/leave")]
pub async fn leave_team() -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::leave(&svc, &account).await.map_err(fail)?;
    back_to_team();
    Ok(())
}

/// Creates a team key for the signed-in member: the only time its secret leaves the
/// server.
#[server(prefix = "/api", endpoint = "team/keys/create")]
pub async fn create_team_key(label: String) -> Result<NewKey, AppError> {
    let (svc, account) = signed_in().await?;
    let (info, secret) = domain::teams::create_key(&svc, &account, &label)
        .await
        .map_err(fail)?;
    Ok(NewKey {
        row: key_row(info),
        secret,
    })
}

#[server(prefix = "/api", endpoint = "team/keys/delete")]
pub async fn revoke_team_key(id: i64) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::teams::revoke_key(&svc, &account, id)
        .await
        .map_err(fail)?;
    back_to_team();
    Ok(())
}

/// The per-member usage of a period as CSV (`member,role,requests,credits`), streamed.
#[server(prefix = "/api", endpoint = "team/usage.csv", input = GetUrl, output = StreamingText)]
pub async fn team_usage_csv(
    from: Option<String>,
    to: Option<String>,
) -> Result<TextStream<AppError>, AppError> {
    use domain::teams;
    let (svc, account) = signed_in().await?;
    let m = teams::membership(&svc.db, account.id)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail(domain::Error::NotFound))?;
    let (from, to, start, end) = period(from, to);
    let members = teams::members(&svc.db, m.team.id).await.map_err(fail)?;
    let usage = teams::usage_by_member(&svc, &account, start, end)
        .await
        .map_err(fail)?;
    let mut lines = vec!["member,role,from,to,requests,credits\n".to_owned()];
    for u in usage {
        let (email, role) = members
            .iter()
            .find(|x| x.account_id == u.member_id)
            .map(|x| (x.email.clone(), x.role.as_str()))
            .unwrap_or_else(|| (format!("former member {}", u.member_id), "former"));
        lines.push(format!(
            "{},{role},{from},{to},{},{}\n",
            csv_field(&email),
            u.requests,
            u.credits
        ));
    }
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = http::HeaderValue::from_str(&format!(
            "attachment; filename=\"team-usage-{from}-{to}.csv\""
        )) {
            res.insert_header(http::header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(TextStream::new(futures::stream::iter(
        lines.into_iter().map(Ok),
    )))
}

#[cfg(feature = "ssr")]
fn sum_per_member(daily: &[(i64, i64, domain::rollup::Totals)]) -> Vec<domain::teams::MemberUsage> {
    let mut out: Vec<domain::teams::MemberUsage> = Vec::new();
    for (member, _, t) in daily {
        match out.iter_mut().find(|u| u.member_id == *member) {
            Some(u) => {
                u.requests += t.requests;
                u.credits = u.credits.saturating_add(t.credits);
            }
            None => out.push(domain::teams::MemberUsage {
                member_id: *member,
                requests: t.requests,
                credits: t.credits,
            }),
        }
    }
    out
}

/// The period's charts: one bar per Kuwait day, stacked per member.
#[cfg(feature = "ssr")]
fn charts(
    lang: crate::i18n::Lang,
    members: &[domain::teams::Member],
    daily: &[(i64, i64, domain::rollup::Totals)],
    start: i64,
    end: i64,
) -> (
    crate::components::chart::ChartSpec,
    crate::components::chart::ChartSpec,
) {
    use crate::components::chart::{digits, ChartKind, ChartSeries, ChartSpec};
    let t = crate::i18n::Team::of(lang);
    let days: Vec<i64> = (0..(end - start) / 86_400)
        .map(|n| start + n * 86_400)
        .collect();
    let labels: Vec<String> = days
        .iter()
        .map(|d| {
            let (_, m, day, _) = locale::kuwait_civil(*d);
            digits(lang, &format!("{day}/{m}"))
        })
        .collect();
    let mut ids: Vec<i64> = daily.iter().map(|d| d.0).collect();
    ids.dedup();
    ids.sort_unstable();
    ids.dedup();
    let name = |id: i64| {
        members
            .iter()
            .find(|m| m.account_id == id)
            .map(|m| m.email.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let series = |pick: fn(&domain::rollup::Totals) -> i64| {
        ids.iter()
            .map(|id| ChartSeries {
                name: name(*id),
                values: days
                    .iter()
                    .map(|d| {
                        daily
                            .iter()
                            .filter(|(m, day, _)| m == id && day == d)
                            .map(|(_, _, t)| pick(t))
                            .sum()
                    })
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
    let spec = |id: &str, caption: &str, series| ChartSpec {
        id: id.into(),
        caption: caption.into(),
        label_header: t.day_kuwait.into(),
        total_header: t.total.into(),
        kind: ChartKind::Bar,
        stacked: true,
        labels: labels.clone(),
        series,
    };
    (
        spec("team-requests", t.chart_requests, series(|t| t.requests)),
        spec("team-credits", t.chart_credits, series(|t| t.credits)),
    )
}

/// A CSV field: quoted when needed, and never read as a formula by a spreadsheet.
#[cfg(feature = "ssr")]
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn dates_are_kuwait_days_and_nonsense_is_ignored() {
        let d = kuwait_day_start("2026-11-25").unwrap();
        assert_eq!(locale::kuwait_date(d), "2026-11-25");
        assert_eq!(locale::kuwait_date(d - 1), "2026-11-24");
        assert!(kuwait_day_start("2026-02-31").is_none());
        assert!(kuwait_day_start("x").is_none());
        let (f, t, s, e) = period(Some("2026-11-01".into()), Some("2026-11-03".into()));
        assert_eq!(
            (f.as_str(), t.as_str(), e - s),
            ("2026-11-01", "2026-11-03", 3 * 86_400)
        );
        // Reversed: the default 30 days ending at `to`.
        let (f, _, _, _) = period(Some("2026-12-01".into()), Some("2026-11-03".into()));
        assert_eq!(f, "2026-10-05");
        assert_eq!(csv_field("=cmd"), "'=cmd");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
