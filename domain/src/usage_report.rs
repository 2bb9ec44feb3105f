//! A customer's own usage, row by row (issue 11, DASH-05): the filtered, paged usage table
//! and the CSV export, read in keyset-paged chunks so an account with millions of rows is
//! never held in memory. Counts and summaries come from the hourly buckets
//! ([`crate::rollup`]), which the filters here match exactly: ranges are whole Kuwait days
//! (so whole hours), and a row's model is [`rollup::row_model`].
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::entities::api_usage::{self, Column as C};
use crate::rollup::{self, Scope};
use crate::Error;

/// Which rows by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    All,
    /// Answered (status < 400).
    Ok,
    /// Refused or failed (status ≥ 400).
    Error,
}

impl StatusFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "all" => Some(Self::All),
            "ok" => Some(Self::Ok),
            "error" => Some(Self::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

/// The rows of one account in `from ≤ created_at < to`, narrowed by key, model and status.
/// `from` and `to` must be hour-aligned (Kuwait midnights are) for [`count`] to be exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub account_id: i64,
    pub from: i64,
    pub to: i64,
    pub key_id: Option<i64>,
    pub model: Option<String>,
    pub status: StatusFilter,
}

/// The model a row counts under, in SQL: `COALESCE(served_model, requested_model)`.
fn model_expr() -> Expr {
    Expr::cust("COALESCE(served_model, requested_model)")
}

impl Filter {
    fn select(&self) -> sea_orm::Select<api_usage::Entity> {
        self.select_from(self.from)
    }

    /// The filter's rows from `from` on (never before the filter's own start). One lower
    /// bound only: given two (`created_at >= a AND created_at >= b`), SQLite starts its
    /// index range at the first, however far below the second it is.
    fn select_from(&self, from: i64) -> sea_orm::Select<api_usage::Entity> {
        let mut q = api_usage::Entity::find()
            .filter(C::AccountId.eq(self.account_id))
            .filter(C::CreatedAt.gte(Ord::max(from, self.from)))
            .filter(C::CreatedAt.lt(self.to));
        if let Some(k) = self.key_id {
            q = q.filter(C::KeyId.eq(k));
        }
        if let Some(m) = &self.model {
            q = q.filter(model_expr().eq(m.as_str()));
        }
        match self.status {
            StatusFilter::All => q,
            StatusFilter::Ok => q.filter(C::Status.lt(400)),
            StatusFilter::Error => q.filter(C::Status.gte(400)),
        }
    }

    /// The buckets of this filter's account, range and key.
    pub fn scope(&self) -> Scope {
        Scope {
            account_id: Some(self.account_id),
            key_ids: self.key_id.map(|k| vec![k]),
            from: self.from,
            to: self.to,
        }
    }
}

/// How many rows match (from the hourly buckets: no scan of the rows).
pub async fn count<Db: ConnectionTrait>(db: &Db, f: &Filter) -> Result<i64, Error> {
    let models = rollup::by_model(db, &f.scope()).await?;
    Ok(models
        .iter()
        .filter(|b| f.model.is_none() || b.model == f.model)
        .map(|b| match f.status {
            StatusFilter::All => b.totals.requests,
            StatusFilter::Ok => b.totals.requests - b.totals.errors,
            StatusFilter::Error => b.totals.errors,
        })
        .sum())
}

/// One page of rows, newest first.
pub async fn page<Db: ConnectionTrait>(
    db: &Db,
    f: &Filter,
    offset: u64,
    limit: u64,
) -> Result<Vec<api_usage::Model>, Error> {
    Ok(f.select()
        .order_by_desc(C::CreatedAt)
        .order_by_desc(C::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

/// Where a chunk of [`chunk_after`] ended: the last row's (created_at, id).
pub type Cursor = (i64, i64);

/// One row as the CSV export writes it: only the columns it needs, in this order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ExportRow {
    pub id: i64,
    pub created_at: i64,
    pub request_id: String,
    pub key_id: Option<i64>,
    pub endpoint: String,
    pub requested_model: String,
    pub served_model: Option<String>,
    pub provider: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub credits: i64,
    pub status: i32,
    pub error: Option<String>,
    pub latency_ms: i64,
}

/// The columns of [`ExportRow`], in its fields' order.
const EXPORT_COLUMNS: [C; 14] = [
    C::Id,
    C::CreatedAt,
    C::RequestId,
    C::KeyId,
    C::Endpoint,
    C::RequestedModel,
    C::ServedModel,
    C::Provider,
    C::PromptTokens,
    C::CompletionTokens,
    C::Credits,
    C::Status,
    C::Error,
    C::LatencyMs,
];

/// Up to `limit` rows after `after`, oldest first (the CSV export's keyset paging: each
/// chunk is an index range read, however deep into the account's rows it is).
///
/// The database hands the whole chunk over as one JSON array of arrays (one value, one
/// row of the result), which is parsed by position into [`ExportRow`]s: read row by row,
/// the driver's per-row hand-over (sqlx-sqlite passes every row, each column copied, from
/// its worker thread through a channel) cost more than everything else of the export.
pub async fn chunk_after<Db: ConnectionTrait>(
    db: &Db,
    f: &Filter,
    after: Option<Cursor>,
    limit: u64,
) -> Result<Vec<ExportRow>, Error> {
    // The index range starts at the cursor's time: `created_at >= at` as the only lower
    // bound (with the OR alone, or beside the range's own start, SQLite read the account's
    // rows from the range's start for every chunk: each chunk slower than the last).
    let mut q = f
        .select_from(after.map_or(f.from, |(at, _)| at))
        .select_only()
        .columns(EXPORT_COLUMNS);
    if let Some((at, id)) = after {
        q = q.filter(Expr::col(C::CreatedAt).gt(at).or(Expr::col(C::Id).gt(id)));
    }
    let backend = db.get_database_backend();
    let inner = q
        .order_by_asc(C::CreatedAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .build(backend);
    let cols = EXPORT_COLUMNS
        .map(|c| sea_orm::IdenStatic::as_str(&c))
        .join(", ");
    // No ORDER BY inside the aggregate: SQLite would sort the chunk again in a temporary
    // b-tree (a third of the export's time). The rows arrive in the inner query's order
    // in practice; the sort below makes it certain, and costs one pass on sorted input.
    let sql = match backend {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT json_agg(json_build_array({cols}))::text FROM ({}) AS chunk",
            inner.sql
        ),
        _ => format!(
            "SELECT json_group_array(json_array({cols})) FROM ({}) AS chunk",
            inner.sql
        ),
    };
    let stmt = sea_orm::Statement { sql, ..inner };
    let json: Option<String> = match db.query_one_raw(stmt).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<ExportRow> = serde_json::from_str(&json)
        .map_err(|e| Error::Internal(format!("usage export chunk: {e}")))?;
    rows.sort_by_key(|r| (r.created_at, r.id));
    Ok(rows)
}

/// The models this account has rows under in the range (the table's model filter).
pub async fn models_in<Db: ConnectionTrait>(db: &Db, f: &Filter) -> Result<Vec<String>, Error> {
    let scope = Scope {
        key_ids: None,
        ..f.scope()
    };
    Ok(rollup::by_model(db, &scope)
        .await?
        .into_iter()
        .filter_map(|b| b.model)
        .collect())
}

/// Every key of the account, deleted ones too (old rows still name them): (id, label,
/// deleted), oldest first.
pub async fn key_labels<Db: ConnectionTrait>(
    db: &Db,
    account_id: i64,
) -> Result<Vec<(i64, String, bool)>, Error> {
    use crate::entities::api_key;
    Ok(api_key::Entity::find()
        .filter(api_key::Column::AccountId.eq(account_id))
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k.label, k.revoked_at.is_some()))
        .collect())
}

/// The CSV export's header row.
pub const CSV_HEADER: &str = "time,request_id,key_id,key_label,endpoint,requested_model,\
served_model,provider,prompt_tokens,completion_tokens,credits,status,error,latency_ms\r\n";

/// One CSV line (RFC 4180, CRLF) of a row: the time in ISO-8601 UTC, the key's label.
pub fn csv_line(out: &mut String, r: &ExportRow, key_label: &str) {
    use std::fmt::Write;
    let _ = write!(out, "{},", iso8601(r.created_at));
    field(out, &r.request_id);
    let _ = write!(
        out,
        "{},",
        r.key_id.map(|k| k.to_string()).unwrap_or_default()
    );
    field(out, key_label);
    field(out, &r.endpoint);
    field(out, &r.requested_model);
    field(out, r.served_model.as_deref().unwrap_or(""));
    field(out, r.provider.as_deref().unwrap_or(""));
    let _ = write!(
        out,
        "{},{},{},{},",
        r.prompt_tokens, r.completion_tokens, r.credits, r.status
    );
    field(out, r.error.as_deref().unwrap_or(""));
    let _ = write!(out, "{}\r\n", r.latency_ms);
}

/// A text field, quoted when it must be; a leading `=`, `+`, `-` or `@` is prefixed with
/// `'` so a spreadsheet never runs it as a formula (labels and model names are typed by
/// customers).
fn field(out: &mut String, s: &str) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || s.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
        if formula {
            out.push('\'');
        }
        for ch in s.chars() {
            if ch == '"' {
                out.push('"');
            }
            out.push(ch);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
    out.push(',');
}

/// Kuwait midnight at the start of `YYYY-MM-DD` (unix seconds); None when it is not a
/// date (or outside years 2000–2999).
pub fn parse_kuwait_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(2000..=2999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > days_in[(m - 1) as usize] {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), the inverse of `kuwait_civil`.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 - locale::KUWAIT_OFFSET_SECS)
}

/// `2026-11-26T09:30:00Z`.
pub fn iso8601(ts: i64) -> String {
    // The Kuwait civil date of ts − 3 h is the UTC one.
    let (y, m, d, secs) = locale::kuwait_civil(ts - locale::KUWAIT_OFFSET_SECS);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};
    use crate::usage::{for_account, insert_batch, UsageRecord};

    /// Kuwait midnight of 2026-11-26.
    const DAY: i64 = 1_795_640_400;

    /// Texts a customer can put in a model name or that an error can carry.
    const NASTY: [&str; 9] = [
        "plain",
        "a,b",
        "say \"hi\"",
        "=cmd()",
        "line\nbreak\r\n",
        "مفتاح 🔑",
        "back\\slash \u{1}\u{7f}",
        "",
        "  spaced  ",
    ];

    fn record(n: usize, account: i64, at: i64) -> UsageRecord {
        UsageRecord {
            request_id: format!("req-{n}-{}", NASTY[n % NASTY.len()]),
            account_id: Some(account),
            key_id: (!n.is_multiple_of(3)).then_some(n as i64),
            endpoint: "chat.completions",
            requested_model: NASTY[(n + 1) % NASTY.len()].into(),
            served_model: (!n.is_multiple_of(4)).then(|| NASTY[(n + 2) % NASTY.len()].into()),
            provider: (!n.is_multiple_of(4)).then_some("local"),
            prompt_tokens: n as i64,
            // Past 2^53: a JSON number a float-based parser would round.
            completion_tokens: 9_007_199_254_740_993 + n as i64,
            credits: i64::MAX - n as i64,
            latency_ms: 7,
            status: if n.is_multiple_of(5) { 429 } else { 200 },
            error: n.is_multiple_of(5).then(|| NASTY[n % NASTY.len()].into()),
            created_at: at,
            member_id: None,
            playground: n.is_multiple_of(2),
        }
    }

    fn export_row(m: api_usage::Model) -> ExportRow {
        ExportRow {
            id: m.id,
            created_at: m.created_at,
            request_id: m.request_id,
            key_id: m.key_id,
            endpoint: m.endpoint,
            requested_model: m.requested_model,
            served_model: m.served_model,
            provider: m.provider,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            credits: m.credits,
            status: m.status,
            error: m.error,
            latency_ms: m.latency_ms,
        }
    }

    /// Every chunk of the export, read `limit` at a time.
    async fn export(svc: &crate::Services, f: &Filter, limit: u64) -> Vec<ExportRow> {
        let (mut out, mut after) = (Vec::new(), None);
        loop {
            let chunk = chunk_after(&svc.db, f, after, limit).await.unwrap();
            assert!(chunk.len() as u64 <= limit);
            let Some(last) = chunk.last() else { break };
            after = Some((last.created_at, last.id));
            let full = chunk.len() as u64 == limit;
            out.extend(chunk);
            if !full {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn the_export_reads_every_row_of_the_filter_once_exactly_as_stored() {
        each_db(|svc| async move {
            let me = new_account(&svc).await;
            let other = new_account(&svc).await;
            // 40 rows in the range, several in the same second (the keyset's tie on
            // created_at is broken by id), one before and one after it, another
            // account's rows at the same times.
            let mut rows: Vec<UsageRecord> = (0..40)
                .map(|n| record(n, me.id, DAY + 60 * (n as i64 / 3)))
                .collect();
            rows.push(record(40, me.id, DAY - 1));
            rows.push(record(41, me.id, DAY + 86_400));
            rows.extend((0..10).map(|n| record(n, other.id, DAY + 60 * n as i64)));
            insert_batch(&svc.db, &rows).await.unwrap();

            let all = Filter {
                account_id: me.id,
                from: DAY,
                to: DAY + 86_400,
                ..Filter::default()
            };
            let mut expected: Vec<ExportRow> = for_account(&svc.db, me.id)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.created_at >= DAY && r.created_at < DAY + 86_400)
                .map(export_row)
                .collect();
            expected.sort_by_key(|r| (r.created_at, r.id));
            assert_eq!(expected.len(), 40);
            for limit in [1, 4, 7, 40, 1000] {
                assert_eq!(
                    export(&svc, &all, limit).await,
                    expected,
                    "chunks of {limit}"
                );
            }

            // The filters narrow the same rows.
            let errors = Filter {
                status: StatusFilter::Error,
                ..all.clone()
            };
            let want: Vec<_> = expected
                .iter()
                .filter(|r| r.status >= 400)
                .cloned()
                .collect();
            assert_eq!(want.len(), 8);
            assert_eq!(export(&svc, &errors, 3).await, want);
            let model = NASTY[2].to_owned();
            let by_model = Filter {
                model: Some(model.clone()),
                ..all.clone()
            };
            let want: Vec<_> = expected
                .iter()
                .filter(|r| r.served_model.as_ref().unwrap_or(&r.requested_model) == &model)
                .cloned()
                .collect();
            assert!(!want.is_empty());
            assert_eq!(export(&svc, &by_model, 2).await, want);
            let by_key = Filter {
                key_id: Some(5),
                ..all.clone()
            };
            assert_eq!(
                export(&svc, &by_key, 2).await,
                expected
                    .iter()
                    .filter(|r| r.key_id == Some(5))
                    .cloned()
                    .collect::<Vec<_>>()
            );

            // An empty range and a cursor past the end: no rows, no error.
            let empty = Filter {
                from: DAY + 2 * 86_400,
                to: DAY + 3 * 86_400,
                ..all.clone()
            };
            assert!(chunk_after(&svc.db, &empty, None, 10)
                .await
                .unwrap()
                .is_empty());
            assert!(chunk_after(&svc.db, &all, Some((DAY + 86_400, 0)), 10)
                .await
                .unwrap()
                .is_empty());
        })
        .await;
    }

    #[test]
    fn times_are_iso_8601_utc() {
        // 2026-11-25T21:30:00Z is 00:30 on the 26th in Kuwait.
        assert_eq!(iso8601(1_795_642_200), "2026-11-25T21:30:00Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn dates_are_kuwait_midnights_and_nonsense_is_refused() {
        assert_eq!(parse_kuwait_date("2026-11-26"), Some(1_795_640_400));
        assert_eq!(locale::kuwait_date(1_795_640_400), "2026-11-26");
        assert_eq!(
            parse_kuwait_date("2024-02-29").map(locale::kuwait_date),
            Some("2024-02-29".into())
        );
        for bad in [
            "",
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-11-26",
            "2026/11/26",
            "2026-1-026",
            "+026-11-26",
            "1999-12-31",
            "2026-11-2x",
        ] {
            assert_eq!(parse_kuwait_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        let mut s = String::new();
        field(&mut s, "plain");
        field(&mut s, "a,b");
        field(&mut s, "say \"hi\"");
        field(&mut s, "=cmd()");
        field(&mut s, "مفتاح");
        assert_eq!(s, "plain,\"a,b\",\"say \"\"hi\"\"\",\"'=cmd()\",مفتاح,");
    }
}
