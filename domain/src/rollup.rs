//! Hourly usage buckets (issue 11, item 7): what charts and summaries read instead of the
//! raw `api_usage` rows.
//!
//! One row of `usage_hourly` per (account, hour, key, model, provider) holds the sums of the
//! usage rows in it: `requests` (every row, refusals included), `errors` (status ≥ 400),
//! prompt and completion tokens and credits. The metering writer adds a batch's rows to
//! their buckets ([`add`]) in the same transaction as it inserts them, so the buckets'
//! totals always equal the raw rows; the migration `m20261129_000100_usage_hourly`
//! backfilled them from the rows written before.
//!
//! - `hour` is the start of the UTC hour in unix seconds. Asia/Kuwait is UTC+3 all year,
//!   so a Kuwait day is exactly 24 buckets ([`Step::Day`] folds them at Kuwait midnight).
//! - `key_id` is 0 for a row without a key; `model` the served model, else the requested
//!   one (the usage table filters on the same [`row_model`]); `provider` `local`, `cloud`
//!   or `""` (no upstream was called: a refusal such as 402 or 429).
//! - Rows without an account (an unknown key) are not bucketed.
//!
//! Reading: [`query`] sums the buckets of a [`Scope`] (an account or the whole platform,
//! some keys, a time range) grouped as asked ([`GroupBy`]); [`series`], [`by_model`],
//! [`by_key`], [`totals`] and [`platform_by_day`] are the common shapes. All are index
//! reads: the primary key starts with (account_id, hour), `idx_usage_hourly_key` is
//! (key_id, hour), `idx_usage_hourly_hour` is (hour, provider).
use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::ConnectionTrait;

use crate::entities::usage_hourly::{self, Column as C};
use crate::usage::UsageRecord;
use crate::Error;

const HOUR: i64 = 3600;

/// The sums of some usage rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Rows: every request, answered or refused.
    pub requests: i64,
    /// Rows with status ≥ 400.
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub credits: i64,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
        self.credits += o.credits;
    }

    pub fn total_tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// The model a usage row is counted under: the served one, else the requested one, as
/// stored (the usage row clips it to 128 characters).
pub fn row_model(requested: &str, served: Option<&str>) -> String {
    let model = served.unwrap_or(requested);
    // A name within the limit in bytes is within it in characters: no scan (the writer
    // calls this for every row).
    if model.len() <= 128 {
        model.to_owned()
    } else {
        model.chars().take(128).collect()
    }
}

type BucketKey = (i64, i64, i64, String, &'static str);

/// Adds `rows` to their buckets (insert, or increment on conflict). Called by the
/// metering writer inside the transaction that inserts the rows. Buckets are written in
/// key order, so concurrent writers (several instances on PostgreSQL) lock them in one
/// order and never deadlock on them.
pub async fn add<Db: ConnectionTrait>(db: &Db, rows: &[&UsageRecord]) -> Result<(), Error> {
    let mut buckets: BTreeMap<BucketKey, Totals> = BTreeMap::new();
    for r in rows {
        let Some(account_id) = r.account_id else {
            continue;
        };
        let key = (
            account_id,
            r.created_at.div_euclid(HOUR) * HOUR,
            r.key_id.unwrap_or(0),
            row_model(&r.requested_model, r.served_model.as_deref()),
            r.provider.unwrap_or(""),
        );
        buckets.entry(key).or_default().add(&Totals {
            requests: 1,
            errors: i64::from(r.status >= 400),
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            credits: r.credits,
        });
    }
    let mut buckets = buckets.into_iter().peekable();
    let mut left = buckets.len();
    // A few distinct statement sizes, as for the usage rows (prepared-statement cache).
    while left > 0 {
        let n = [64, 16, 4, 1].into_iter().find(|n| *n <= left).unwrap_or(1);
        let mut q = Query::insert();
        q.into_table(usage_hourly::Entity).columns([
            C::AccountId,
            C::Hour,
            C::KeyId,
            C::Model,
            C::Provider,
            C::Requests,
            C::Errors,
            C::PromptTokens,
            C::CompletionTokens,
            C::Credits,
        ]);
        for ((account, hour, key, model, provider), t) in buckets.by_ref().take(n) {
            q.values_panic([
                account.into(),
                hour.into(),
                key.into(),
                model.into(),
                provider.into(),
                t.requests.into(),
                t.errors.into(),
                t.prompt_tokens.into(),
                t.completion_tokens.into(),
                t.credits.into(),
            ]);
        }
        left -= n;
        let mut conflict =
            OnConflict::columns([C::AccountId, C::Hour, C::KeyId, C::Model, C::Provider]);
        for (col, name) in [
            (C::Requests, "requests"),
            (C::Errors, "errors"),
            (C::PromptTokens, "prompt_tokens"),
            (C::CompletionTokens, "completion_tokens"),
            (C::Credits, "credits"),
        ] {
            conflict.value(
                col,
                Expr::cust(format!("usage_hourly.{name} + excluded.{name}")),
            );
        }
        q.on_conflict(conflict);
        db.execute(&q).await?;
    }
    // The platform-wide hours of the admin overview, in the same transaction.
    crate::admin::platform::add(db, rows).await
}

/// The time step of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Hour,
    /// A day in Asia/Kuwait (starting at 21:00 UTC).
    Day,
}

/// Which buckets to sum: `from ≤ hour < to` (unix seconds; pass hour-aligned bounds —
/// Kuwait midnights are), of one account or all (`None`: the platform), of some keys or all.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub account_id: Option<i64>,
    /// Only these keys (0 = rows without a key); `None`: every key.
    pub key_ids: Option<Vec<i64>>,
    pub from: i64,
    pub to: i64,
}

impl Scope {
    pub fn account(account_id: i64, from: i64, to: i64) -> Self {
        Self {
            account_id: Some(account_id),
            key_ids: None,
            from,
            to,
        }
    }
}

/// How to group the sums; what is not grouped is summed over (and `None` in the answer).
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupBy {
    pub step: Option<Step>,
    pub account: bool,
    pub key: bool,
    pub model: bool,
    pub provider: bool,
}

/// One group's sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the hour or Kuwait day (unix seconds), when grouped by time.
    pub start: Option<i64>,
    pub account_id: Option<i64>,
    pub key_id: Option<i64>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub totals: Totals,
}

/// Sums the buckets of `scope` grouped by `by`, ordered by (start, account, key, model,
/// provider). Groups with no rows are absent (a chart fills the gaps).
pub async fn query<Db: ConnectionTrait>(
    db: &Db,
    scope: &Scope,
    by: GroupBy,
) -> Result<Vec<Bucket>, Error> {
    let mut q = Query::select();
    q.from(usage_hourly::Entity)
        .and_where(Expr::col(C::Hour).gte(scope.from))
        .and_where(Expr::col(C::Hour).lt(scope.to));
    if let Some(a) = scope.account_id {
        q.and_where(Expr::col(C::AccountId).eq(a));
    }
    if let Some(keys) = &scope.key_ids {
        q.and_where(Expr::col(C::KeyId).is_in(keys.iter().copied()));
    }
    let groups = [
        (by.step.is_some(), C::Hour),
        (by.account, C::AccountId),
        (by.key, C::KeyId),
        (by.model, C::Model),
        (by.provider, C::Provider),
    ];
    for (on, col) in groups {
        match (on, col) {
            (false, _) => {}
            // Kuwait days are summed by the database: fewer rows to send back.
            (true, C::Hour) if by.step == Some(Step::Day) => {
                let day = format!(
                    "((hour + {off}) / 86400) * 86400 - {off}",
                    off = locale::KUWAIT_OFFSET_SECS
                );
                q.expr_as(
                    Expr::cust(day.clone()),
                    sea_orm::sea_query::Alias::new("hour"),
                )
                .add_group_by([Expr::cust(day)]);
            }
            (true, col) => {
                q.column(col).group_by_col(col);
            }
        }
    }
    for name in [
        "requests",
        "errors",
        "prompt_tokens",
        "completion_tokens",
        "credits",
    ] {
        // SUM of a BIGINT is NUMERIC on PostgreSQL: read back as BIGINT on both.
        q.expr_as(
            Expr::cust(format!("CAST(SUM({name}) AS BIGINT)")),
            sea_orm::sea_query::Alias::new(name),
        );
    }
    let rows = db.query_all(&q).await?;
    let mut out: BTreeMap<(i64, i64, i64, String, String), Totals> = BTreeMap::new();
    for row in rows {
        let get = |c: &str| row.try_get::<i64>("", c);
        // A sum over no rows is NULL.
        let sum = |c: &str| {
            row.try_get::<Option<i64>>("", c)
                .map(Option::unwrap_or_default)
        };
        let start = match by.step {
            None => 0,
            Some(Step::Hour) => get("hour")?,
            Some(Step::Day) => locale::kuwait_midnight(get("hour")?),
        };
        let key = (
            start,
            if by.account { get("account_id")? } else { 0 },
            if by.key { get("key_id")? } else { 0 },
            if by.model {
                row.try_get::<String>("", "model")?
            } else {
                String::new()
            },
            if by.provider {
                row.try_get::<String>("", "provider")?
            } else {
                String::new()
            },
        );
        out.entry(key).or_default().add(&Totals {
            requests: sum("requests")?,
            errors: sum("errors")?,
            prompt_tokens: sum("prompt_tokens")?,
            completion_tokens: sum("completion_tokens")?,
            credits: sum("credits")?,
        });
    }
    Ok(out
        .into_iter()
        // Without grouping, an empty scope still yields one row (of NULL sums): skip it.
        .filter(|(_, t)| t.requests > 0)
        .map(|((start, account, key, model, provider), totals)| Bucket {
            start: by.step.map(|_| start),
            account_id: by.account.then_some(account),
            key_id: by.key.then_some(key),
            model: by.model.then_some(model),
            provider: by.provider.then_some(provider),
            totals,
        })
        .collect())
}

/// An account's series per model: requests, credits … per hour or Kuwait day.
pub async fn series<Db: ConnectionTrait>(
    db: &Db,
    scope: &Scope,
    step: Step,
) -> Result<Vec<Bucket>, Error> {
    let by = GroupBy {
        step: Some(step),
        model: true,
        ..GroupBy::default()
    };
    query(db, scope, by).await
}

/// Sums per model (the usage page's summary).
pub async fn by_model<Db: ConnectionTrait>(db: &Db, scope: &Scope) -> Result<Vec<Bucket>, Error> {
    let by = GroupBy {
        model: true,
        ..GroupBy::default()
    };
    query(db, scope, by).await
}

/// Sums per key (per-key usage, team members' keys).
pub async fn by_key<Db: ConnectionTrait>(db: &Db, scope: &Scope) -> Result<Vec<Bucket>, Error> {
    let by = GroupBy {
        key: true,
        ..GroupBy::default()
    };
    query(db, scope, by).await
}

/// The sums of the whole scope (zero when empty).
pub async fn totals<Db: ConnectionTrait>(db: &Db, scope: &Scope) -> Result<Totals, Error> {
    Ok(query(db, scope, GroupBy::default())
        .await?
        .first()
        .map(|b| b.totals)
        .unwrap_or_default())
}

/// The platform per Kuwait day and provider (`local`, `cloud`, `""` for refusals), every
/// account together (admin overview).
pub async fn platform_by_day<Db: ConnectionTrait>(
    db: &Db,
    from: i64,
    to: i64,
) -> Result<Vec<Bucket>, Error> {
    let scope = Scope {
        account_id: None,
        key_ids: None,
        from,
        to,
    };
    let by = GroupBy {
        step: Some(Step::Day),
        provider: true,
        ..GroupBy::default()
    };
    query(db, &scope, by).await
}

#[cfg(test)]
mod tests;
