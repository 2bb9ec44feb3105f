//! Server functions of the usage views (issue 11: DASH-02 chart, DASH-05 table) and what
//! they send: the chart's series per model and the filtered, paged usage table with its
//! per-model summary. Both read only the caller's own rows; sums come from the hourly
//! buckets (`domain::rollup`), never from a scan of the rows.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dto::AppError;
#[cfg(feature = "ssr")]
use crate::server::*;

/// The chart's time span: the last 24 hours by hour, the last 7 or 30 Kuwait days by day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Day,
    #[default]
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// Hourly points (else daily ones).
    pub fn hourly(self) -> bool {
        self == Self::Day
    }

    /// The starts of its points (unix seconds) at time `now`: hours ending with the current
    /// one, or Kuwait days ending with today.
    pub fn points(self, now: i64) -> Vec<i64> {
        match self {
            Self::Day => {
                let hour = now.div_euclid(3600) * 3600;
                (0..24).rev().map(|i| hour - i * 3600).collect()
            }
            Self::Week | Self::Month => {
                let n = if self == Self::Week { 7 } else { 30 };
                let today = locale::kuwait_midnight(now);
                (0..n).rev().map(|i| today - i * 86_400).collect()
            }
        }
    }
}

/// The usage chart's data: requests and credits per model at each point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageChartData {
    pub period: Period,
    /// The start of each point (unix seconds): an hour, or a Kuwait day.
    pub starts: Vec<i64>,
    /// One per model with usage in the span, the busiest first.
    pub models: Vec<ModelSeries>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSeries {
    pub model: String,
    /// Requests (answered and refused) at each point of `starts`.
    pub requests: Vec<i64>,
    pub credits: Vec<i64>,
}

/// The chart's series for `period` (`day`, `week`, `month`); 401 without a session.
#[server(prefix = "/api", endpoint = "usage_series")]
pub async fn usage_series(period: String) -> Result<UsageChartData, AppError> {
    use domain::rollup::{self, Scope, Step};
    let (svc, account) = signed_in().await?;
    let period = Period::parse(&period).ok_or_else(|| {
        fail(domain::Error::invalid(
            "period",
            crate::dto::ErrorCode::Required,
        ))
    })?;
    let starts = period.points(domain::time::now());
    let step = if period.hourly() {
        Step::Hour
    } else {
        Step::Day
    };
    let width = if period.hourly() { 3600 } else { 86_400 };
    let from = starts.first().copied().unwrap_or_default();
    let to = starts.last().copied().unwrap_or_default() + width;
    let buckets = rollup::series(&svc.db, &Scope::account(account.id, from, to), step)
        .await
        .map_err(fail)?;
    let mut models: Vec<ModelSeries> = Vec::new();
    for b in buckets {
        let (Some(start), Some(model)) = (b.start, b.model) else {
            continue;
        };
        let Some(i) = starts.iter().position(|s| *s == start) else {
            continue;
        };
        let m = match models.iter().position(|m| m.model == model) {
            Some(p) => &mut models[p],
            None => {
                models.push(ModelSeries {
                    model,
                    requests: vec![0; starts.len()],
                    credits: vec![0; starts.len()],
                });
                models.last_mut().expect("just pushed")
            }
        };
        m.requests[i] += b.totals.requests;
        m.credits[i] += b.totals.credits;
    }
    models.sort_by_key(|m| {
        (
            std::cmp::Reverse(m.requests.iter().sum::<i64>()),
            m.model.clone(),
        )
    });
    Ok(UsageChartData {
        period,
        starts,
        models,
    })
}

/// The usage table's filters as typed in the address (`GET /usage?from=…`): all text, so
/// a malformed value becomes a message on the page, never a failed request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub key: Option<String>,
    pub model: Option<String>,
    pub status: Option<String>,
    pub page: Option<String>,
}

/// Why the table shows no rows for the address as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsageProblem {
    /// `from` or `to` is not a date (YYYY-MM-DD).
    BadDate,
    /// `from` is after `to`.
    Reversed,
    /// More than [`MAX_DAYS`] days.
    TooLong,
    /// Not one of the account's keys, or not a number.
    UnknownKey,
    /// Not all / ok / error.
    BadStatus,
    /// Not a page number.
    BadPage,
    /// After the last page (which is `pages`).
    PastEnd { pages: u64 },
}

/// The longest range the table and export take at once.
pub const MAX_DAYS: i64 = 366;
/// Rows per page.
pub const PAGE_SIZE: u64 = 50;
/// The default range: the last 30 Kuwait days.
pub const DEFAULT_DAYS: i64 = 30;

/// The filters as understood (dates as `YYYY-MM-DD`, Kuwait days, both included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageFilter {
    pub from: String,
    pub to: String,
    pub key: Option<i64>,
    pub model: Option<String>,
    /// `all`, `ok` or `error`.
    pub status: String,
    pub page: u64,
}

impl UsageFilter {
    /// The address of this filter on `path` (`/usage`, `/usage/export.csv`), at `page`.
    pub fn href(&self, path: &str, page: Option<u64>) -> String {
        let mut q = vec![format!("from={}", self.from), format!("to={}", self.to)];
        if let Some(k) = self.key {
            q.push(format!("key={k}"));
        }
        if let Some(m) = &self.model {
            q.push(format!("model={}", encode(m)));
        }
        if self.status != "all" {
            q.push(format!("status={}", self.status));
        }
        if let Some(p) = page {
            q.push(format!("page={p}"));
        }
        format!("{path}?{}", q.join("&"))
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One request in the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    pub at: i64,
    pub request_id: String,
    /// The key's label (None: no key, e.g. the playground); `key_deleted` when it is gone.
    pub key_label: Option<String>,
    pub key_deleted: bool,
    pub requested_model: String,
    pub served_model: Option<String>,
    /// `local`, `cloud`, or None (no upstream was called).
    pub provider: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub credits: i64,
    pub status: i32,
    pub error: Option<String>,
    pub latency_ms: i64,
}

/// One model's sums in the range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub model: String,
    pub requests: i64,
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub credits: i64,
}

/// A key the filter can choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyChoice {
    pub id: i64,
    pub label: String,
    pub deleted: bool,
}

/// The usage page's data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTableData {
    pub filter: UsageFilter,
    /// What was wrong with the address; then `rows` is empty.
    pub problem: Option<UsageProblem>,
    pub rows: Vec<UsageRow>,
    /// Rows matching the filter, and pages of [`PAGE_SIZE`].
    pub total: i64,
    pub pages: u64,
    /// Per model over the range (key and model filters applied; every status).
    pub summary: Vec<ModelSummary>,
    pub keys: Vec<KeyChoice>,
    pub models: Vec<String>,
}

/// Understands `q` for `account_id` at time `now`: the domain filter, the filter as shown,
/// or the problem (with the filter as far as it was understood).
#[cfg(feature = "ssr")]
pub fn understand(
    q: &UsageQuery,
    account_id: i64,
    keys: &[KeyChoice],
    now: i64,
) -> (
    UsageFilter,
    Result<domain::usage_report::Filter, UsageProblem>,
) {
    use domain::usage_report::{parse_kuwait_date, Filter, StatusFilter};
    let today = locale::kuwait_midnight(now);
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let mut shown = UsageFilter {
        from: text(&q.from)
            .map(str::to_owned)
            .unwrap_or_else(|| locale::kuwait_date(today - (DEFAULT_DAYS - 1) * 86_400)),
        to: text(&q.to)
            .map(str::to_owned)
            .unwrap_or_else(|| locale::kuwait_date(today)),
        key: None,
        model: text(&q.model).map(|m| m.chars().take(128).collect()),
        status: text(&q.status).unwrap_or("all").to_owned(),
        page: 1,
    };
    // Never echo a long or strange value back into the form.
    shown.from = shown.from.chars().take(10).collect();
    shown.to = shown.to.chars().take(10).collect();
    let result = (|| {
        let from = parse_kuwait_date(&shown.from).ok_or(UsageProblem::BadDate)?;
        let to = parse_kuwait_date(&shown.to).ok_or(UsageProblem::BadDate)?;
        if from > to {
            return Err(UsageProblem::Reversed);
        }
        if (to - from) / 86_400 + 1 > MAX_DAYS {
            return Err(UsageProblem::TooLong);
        }
        let key_id = match text(&q.key) {
            None | Some("all") => None,
            Some(k) => {
                let id: i64 = k.parse().map_err(|_| UsageProblem::UnknownKey)?;
                if !keys.iter().any(|c| c.id == id) {
                    return Err(UsageProblem::UnknownKey);
                }
                shown.key = Some(id);
                Some(id)
            }
        };
        let status = StatusFilter::parse(&shown.status).ok_or(UsageProblem::BadStatus)?;
        shown.page = match text(&q.page) {
            None => 1,
            Some(p) => p
                .parse::<u64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or(UsageProblem::BadPage)?,
        };
        Ok(Filter {
            account_id,
            from,
            to: to + 86_400,
            key_id,
            model: shown.model.clone(),
            status,
        })
    })();
    if result.is_err() {
        shown.status = StatusFilter::parse(&shown.status)
            .unwrap_or_default()
            .as_str()
            .to_owned();
    }
    (shown, result)
}

/// The usage table for the filters in `q`; 401 without a session. A malformed filter or a
/// page past the end is a `problem` in the answer, not an error.
#[server(prefix = "/api", endpoint = "usage_table")]
pub async fn usage_table(q: UsageQuery) -> Result<UsageTableData, AppError> {
    use domain::{rollup, usage_report};
    let (svc, account) = signed_in().await?;
    let keys: Vec<KeyChoice> = usage_report::key_labels(&svc.db, account.id)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|(id, label, deleted)| KeyChoice { id, label, deleted })
        .collect();
    let (shown, understood) = understand(&q, account.id, &keys, domain::time::now());
    let mut out = UsageTableData {
        filter: shown,
        keys,
        ..UsageTableData::default()
    };
    let f = match understood {
        Ok(f) => f,
        Err(p) => {
            out.problem = Some(p);
            return Ok(out);
        }
    };
    out.models = usage_report::models_in(&svc.db, &f).await.map_err(fail)?;
    out.summary = rollup::by_model(&svc.db, &f.scope())
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|b| f.model.is_none() || b.model == f.model)
        .map(|b| ModelSummary {
            model: b.model.unwrap_or_default(),
            requests: b.totals.requests,
            errors: b.totals.errors,
            prompt_tokens: b.totals.prompt_tokens,
            completion_tokens: b.totals.completion_tokens,
            credits: b.totals.credits,
        })
        .collect();
    out.summary
        .sort_by_key(|s| (std::cmp::Reverse(s.requests), s.model.clone()));
    out.total = usage_report::count(&svc.db, &f).await.map_err(fail)?;
    out.pages = (out.total.max(0) as u64).div_ceil(PAGE_SIZE).max(1);
    if out.filter.page > out.pages {
        out.problem = Some(UsageProblem::PastEnd { pages: out.pages });
        return Ok(out);
    }
    let rows = usage_report::page(&svc.db, &f, (out.filter.page - 1) * PAGE_SIZE, PAGE_SIZE)
        .await
        .map_err(fail)?;
    out.rows = rows
        .into_iter()
        .map(|r| {
            let key = r.key_id.and_then(|k| out.keys.iter().find(|c| c.id == k));
            UsageRow {
                at: r.created_at,
                request_id: r.request_id,
                key_label: key.map(|k| k.label.clone()),
                key_deleted: key.is_some_and(|k| k.deleted),
                requested_model: r.requested_model,
                served_model: r.served_model,
                provider: r.provider,
                prompt_tokens: r.prompt_tokens,
                completion_tokens: r.completion_tokens,
                credits: r.credits,
                status: r.status,
                error: r.error,
                latency_ms: r.latency_ms,
            }
        })
        .collect();
    Ok(out)
}
