//! The dashboard's usage chart (DASH-02): requests or credits over the last day (hourly
//! points), week or month (daily points, Kuwait days), stacked per model. An island: the
//! period switch asks the server for that period's series (the links also work without
//! JavaScript, `?period=`), the metric switch redraws what it has.
use leptos::prelude::*;

use crate::api::usage::{usage_series, Period, UsageChartData};
use crate::components::chart::{digits, ChartKind, ChartSeries, ChartSpec, ChartView};
use crate::components::{error_line, island_hydrated, load_error};
use crate::i18n::{self, Lang};

/// What the bars count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Requests,
    Credits,
}

/// The chart's spec for `data` in `lang`.
fn spec(lang: Lang, data: &UsageChartData, metric: Metric) -> ChartSpec {
    let t = i18n::Usage::of(lang);
    let labels = data
        .starts
        .iter()
        .map(|s| {
            let (_, m, d, secs) = locale::kuwait_civil(*s);
            if data.period.hourly() {
                digits(lang, &format!("{:02}:00", secs / 3600))
            } else {
                digits(lang, &format!("{d}/{m}"))
            }
        })
        .collect();
    let (what, period) = (
        match metric {
            Metric::Requests => t.requests,
            Metric::Credits => t.credits,
        },
        match data.period {
            Period::Day => t.last_day,
            Period::Week => t.last_week,
            Period::Month => t.last_month,
        },
    );
    ChartSpec {
        id: "usage-chart".into(),
        caption: format!("{what} — {period} ({})", t.per_model),
        label_header: if data.period.hourly() {
            t.hour_kuwait
        } else {
            t.day_kuwait
        }
        .into(),
        total_header: t.total.into(),
        kind: ChartKind::Bar,
        stacked: true,
        labels,
        series: data
            .models
            .iter()
            .map(|m| ChartSeries {
                name: m.model.clone(),
                values: match metric {
                    Metric::Requests => m.requests.clone(),
                    Metric::Credits => m.credits.clone(),
                },
            })
            .collect(),
    }
}

/// The dashboard's usage section: the series of the period in the address (`?period=`,
/// default week) read on the server, handed to the [`UsageChart`] island.
#[component]
pub fn UsageChartSection() -> impl IntoView {
    let lang = crate::i18n::use_lang();
    let query = leptos_router::hooks::use_query_map();
    let period = move || {
        query.with(|q| {
            q.get("period")
                .and_then(|p| Period::parse(&p))
                .unwrap_or_default()
        })
    };
    let data = Resource::new(period, |p| usage_series(p.as_str().to_owned()));
    view! {
        <Suspense fallback=|| ()>
            {move || {
                data.get()
                    .map(|r| match r {
                        Ok(initial) => view! { <UsageChart lang=lang initial=initial/> }.into_any(),
                        Err(e) => load_error(&e),
                    })
            }}
        </Suspense>
    }
}

#[island(lazy)]
pub fn UsageChart(lang: Lang, initial: UsageChartData) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Usage::of(lang);
    let data = RwSignal::new(initial);
    let metric = RwSignal::new(Metric::Requests);
    let error = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let chart = Signal::derive(move || data.with(|d| spec(lang, d, metric.get())));
    let empty = move || data.with(|d| d.models.is_empty());
    let switch = move |p: Period| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match usage_series(p.as_str().to_owned()).await {
                Ok(d) => {
                    data.set(d);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let head = view! {
            <div class="chart-head">
                <h2>{t.chart_title}</h2>
                <div class="segmented" role="group" aria-label=t.period>
                    {Period::ALL
                        .into_iter()
                        .map(|p| {
                            let label = match p {
                                Period::Day => t.day,
                                Period::Week => t.week,
                                Period::Month => t.month,
                            };
                            view! {
                                <a
                                    href=format!("?period={}", p.as_str())
                                    class="seg"
                                    data-testid=format!("period-{}", p.as_str())
                                    aria-current=move || (data.with(|d| d.period) == p).then_some("true")
                                    on:click=move |ev| {
                                        ev.prevent_default();
                                        switch(p);
                                    }
                                >
                                    {label}
                                </a>
                            }
                        })
                        .collect_view()}
                </div>
                <div class="segmented" role="group" aria-label=t.metric>
                    {[(Metric::Requests, t.requests, "requests"), (Metric::Credits, t.credits, "credits")]
                        .into_iter()
                        .map(|(m, label, id)| {
                            view! {
                                <button
                                    type="button"
                                    class="seg"
                                    data-testid=format!("metric-{id}")
                                    aria-pressed=move || (metric.get() == m).to_string()
                                    on:click=move |_| metric.set(m)
                                >
                                    {label}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </div>
    };
    view! {
        <section class="card usage-chart" aria-busy=move || busy.get().to_string()>
            {head}
            {move || error.get().map(|e| error_line(lang, &e))}
            <Show when=empty>
                <p class="muted" data-testid="chart-empty">{t.no_usage_yet}</p>
            </Show>
            <ChartView lang=lang spec=chart/>
            <p class="muted small">
                {t.chart_note} " " <a href="/usage">{t.see_table}</a>
            </p>
        </section>
    }
}
