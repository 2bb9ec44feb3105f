//! The usage page (`/usage`, DASH-05): every request of the account, filtered and paged on
//! the server from the address (`?from=&to=&key=&model=&status=&page=`), so it works
//! without JavaScript; the per-model summary of the range; the CSV export of the same
//! filters (`/usage/export.csv`, streamed by the server). No island: nothing runs in the
//! browser here.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::usage::{usage_table, UsageProblem, UsageQuery, UsageRow, UsageTableData};
use crate::components::{load_error, to_login};
use crate::dto::AppError;
use crate::i18n::{self, fmt_int, fmt_kuwait_time, use_lang, Lang};

#[component]
pub fn UsagePage() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Usage::of(lang);
    let c = i18n::Common::of(lang);
    let query = use_query_map();
    let q = move || {
        query.with(|m| UsageQuery {
            from: m.get("from"),
            to: m.get("to"),
            key: m.get("key"),
            model: m.get("model"),
            status: m.get("status"),
            page: m.get("page"),
        })
    };
    let data = Resource::new(q, usage_table);
    view! {
        <section class="page-head">
            <h1>{t.page_title}</h1>
        </section>
        <p class="muted">{t.page_intro}</p>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(table) => view! { <UsageView lang=lang table=table/> }.into_any(),
                        Err(AppError::Unauthorized) => to_login("/usage"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}

/// The words for what is wrong with a usage filter (also the CSV export's 400).
pub fn problem_text(lang: Lang, p: UsageProblem) -> String {
    let t = i18n::Usage::of(lang);
    match p {
        UsageProblem::BadDate => t.bad_date.into(),
        UsageProblem::Reversed => t.reversed.into(),
        UsageProblem::TooLong => t.too_long.into(),
        UsageProblem::UnknownKey => t.unknown_key.into(),
        UsageProblem::BadStatus => t.bad_status.into(),
        UsageProblem::BadPage => t.bad_page.into(),
        UsageProblem::PastEnd { pages } => {
            format!("{} {}", t.past_end, fmt_int(lang, pages as i64))
        }
    }
}

#[component]
fn UsageView(lang: Lang, table: UsageTableData) -> impl IntoView {
    let t = i18n::Usage::of(lang);
    let f = table.filter.clone();
    let n = move |v: i64| fmt_int(lang, v);
    let problem = table.problem.map(|p| {
        let last = match p {
            UsageProblem::PastEnd { pages } => Some(f.href("/usage", Some(pages))),
            _ => None,
        };
        view! {
            <div class="form-error" role="alert" data-testid="usage-problem">
                <p>{problem_text(lang, p)}</p>
                {last.map(|href| view! { <a href=href>{t.last_page}</a> })}
            </div>
        }
    });
    let status_opt = |value: &'static str, label: &'static str| {
        view! { <option value=value selected=f.status == value>{label}</option> }
    };
    let filters = view! {
        <form method="get" action="/usage" class="card filters" data-testid="usage-filters">
            <label>
                <span>{t.from}</span>
                <input type="date" name="from" value=f.from.clone() required/>
            </label>
            <label>
                <span>{t.to}</span>
                <input type="date" name="to" value=f.to.clone() required/>
            </label>
            <label>
                <span>{t.key}</span>
                <select name="key">
                    <option value="all">{t.all}</option>
                    {table
                        .keys
                        .iter()
                        .map(|k| {
                            let label = if k.deleted {
                                format!("{} ({})", k.label, t.deleted)
                            } else {
                                k.label.clone()
                            };
                            view! { <option value=k.id.to_string() selected=f.key == Some(k.id)>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span>{t.model}</span>
                <select name="model">
                    <option value="">{t.all}</option>
                    {table
                        .models
                        .iter()
                        .map(|m| {
                            view! { <option value=m.clone() selected=f.model.as_deref() == Some(m.as_str())>{m.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span>{t.status}</span>
                <select name="status">
                    {status_opt("all", t.all)}
                    {status_opt("ok", t.ok)}
                    {status_opt("error", t.failed)}
                </select>
            </label>
            <div class="filter-actions">
                <button type="submit" class="button">{t.apply}</button>
                <a
                    class="button secondary"
                    rel="external"
                    download=""
                    data-testid="usage-csv"
                    href=f.href("/usage/export.csv", None)
                >
                    {t.export_csv}
                </a>
            </div>
        </form>
    };
    let summary = (!table.summary.is_empty()).then(|| {
        let mut total = crate::api::usage::ModelSummary::default();
        for s in &table.summary {
            total.requests += s.requests;
            total.errors += s.errors;
            total.prompt_tokens += s.prompt_tokens;
            total.completion_tokens += s.completion_tokens;
            total.credits += s.credits;
        }
        view! {
            <section class="usage-summary">
                <h2>{t.summary_title}</h2>
                <p class="muted small">{t.summary_note}</p>
                <div class="table-wrap">
                    <table class="table numeric" data-testid="usage-summary">
                        <thead>
                            <tr>
                                <th scope="col">{t.model}</th>
                                <th scope="col">{t.requests}</th>
                                <th scope="col">{t.errors}</th>
                                <th scope="col">{t.prompt_tokens}</th>
                                <th scope="col">{t.completion_tokens}</th>
                                <th scope="col">{t.credits}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {table
                                .summary
                                .iter()
                                .map(|s| {
                                    view! {
                                        <tr data-model=s.model.clone()>
                                            <th scope="row"><bdi>{s.model.clone()}</bdi></th>
                                            <td data-col="requests">{n(s.requests)}</td>
                                            <td>{n(s.errors)}</td>
                                            <td>{n(s.prompt_tokens)}</td>
                                            <td>{n(s.completion_tokens)}</td>
                                            <td data-col="credits">{n(s.credits)}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                        <tfoot>
                            <tr>
                                <th scope="row">{t.total}</th>
                                <td>{n(total.requests)}</td>
                                <td>{n(total.errors)}</td>
                                <td>{n(total.prompt_tokens)}</td>
                                <td>{n(total.completion_tokens)}</td>
                                <td>{n(total.credits)}</td>
                            </tr>
                        </tfoot>
                    </table>
                </div>
            </section>
        }
    });
    let rows = if table.problem.is_some() {
        None
    } else if table.rows.is_empty() {
        Some(view! { <p class="muted" data-testid="usage-empty">{t.no_rows}</p> }.into_any())
    } else {
        Some(
            view! {
                <p class="muted small">{t.rows_found} " " <span data-testid="usage-total">{n(table.total)}</span></p>
                <div class="table-wrap">
                    <table class="table usage-rows" data-testid="usage-rows">
                        <thead>
                            <tr>
                                <th scope="col">{t.time}</th>
                                <th scope="col">{t.key}</th>
                                <th scope="col">{t.requested_model}</th>
                                <th scope="col">{t.served_model}</th>
                                <th scope="col">{t.where_}</th>
                                <th scope="col">{t.prompt_tokens}</th>
                                <th scope="col">{t.completion_tokens}</th>
                                <th scope="col">{t.credits}</th>
                                <th scope="col">{t.status}</th>
                                <th scope="col">{t.latency}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {table.rows.iter().map(|r| row(lang, r)).collect_view()}
                        </tbody>
                    </table>
                </div>
                {pager(lang, &table)}
            }
                .into_any(),
        )
    };
    view! {
        {filters}
        {problem}
        {summary}
        {rows}
    }
}

fn row(lang: Lang, r: &UsageRow) -> impl IntoView {
    let t = i18n::Usage::of(lang);
    let n = move |v: i64| fmt_int(lang, v);
    let key = match (&r.key_label, r.key_deleted) {
        (Some(l), false) => l.clone(),
        (Some(l), true) => format!("{l} ({})", t.deleted),
        (None, _) => t.no_key.to_owned(),
    };
    let provider = match r.provider.as_deref() {
        Some("local") => t.local,
        Some("cloud") => t.cloud,
        _ => "—",
    };
    let status = match &r.error {
        Some(e) => format!("{} {e}", n(i64::from(r.status))),
        None => n(i64::from(r.status)),
    };
    let refused = r.status >= 400;
    view! {
        <tr data-request-id=r.request_id.clone() class:refused=refused>
            <td class="nowrap">{crate::components::chart::digits(lang, &fmt_kuwait_time(r.at))}</td>
            <td><bdi>{key}</bdi></td>
            <td><bdi>{r.requested_model.clone()}</bdi></td>
            <td><bdi>{r.served_model.clone().unwrap_or_else(|| "—".into())}</bdi></td>
            <td>{provider}</td>
            <td>{n(r.prompt_tokens)}</td>
            <td>{n(r.completion_tokens)}</td>
            <td data-col="credits">{n(r.credits)}</td>
            <td class="nowrap">{status}</td>
            <td>{n(r.latency_ms)}</td>
        </tr>
    }
}

fn pager(lang: Lang, table: &UsageTableData) -> impl IntoView {
    let t = i18n::Usage::of(lang);
    let f = &table.filter;
    let page = f.page;
    let newer = (page > 1).then(|| f.href("/usage", Some(page - 1)));
    let older = (page < table.pages).then(|| f.href("/usage", Some(page + 1)));
    view! {
        <nav class="pager" aria-label=t.nav_label>
            {newer.map(|h| view! { <a href=h rel="prev" data-testid="page-newer">{t.newer}</a> })}
            <span>
                {t.page_of} " " {fmt_int(lang, page as i64)} " " {t.of} " "
                {fmt_int(lang, table.pages as i64)}
            </span>
            {older.map(|h| view! { <a href=h rel="next" data-testid="page-older">{t.older}</a> })}
        </nav>
    }
}
