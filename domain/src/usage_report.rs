//! A customer's own usage, row by row (issue 11, DASH-05): the filtered, paged usage table
//! and the CSV export, read in keyset-paged chunks so an account with millions of rows is
//! never held in memory. Counts and summaries come from the hourly buckets
//! ([`crate::rollup`]), which the filters here match exactly: ranges are whole Kuwait days
//! (so whole hours), and a row's model is [`rollup::row_model`].
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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
        let mut q = api_usage::Entity::find()
            .filter(C::AccountId.eq(self.account_id))
            .filter(C::CreatedAt.gte(self.from))
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

/// Up to `limit` rows after `after`, oldest first (the CSV export's keyset paging: each
/// chunk is an index range read, however deep into the account's rows it is).
pub async fn chunk_after<Db: ConnectionTrait>(
    db: &Db,
    f: &Filter,
    after: Option<Cursor>,
    limit: u64,
) -> Result<Vec<api_usage::Model>, Error> {
    let mut q = f.select();
    if let Some((at, id)) = after {
        q = q.filter(
            Expr::col(C::CreatedAt)
                .gt(at)
                .or(Expr::col(C::CreatedAt).eq(at).and(Expr::col(C::Id).gt(id))),
        );
    }
    Ok(q.order_by_asc(C::CreatedAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?)
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
pub fn csv_line(out: &mut String, r: &api_usage::Model, key_label: &str) {
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
