//! `GET /usage/export.csv` (issue 11, CSV export): the signed-in customer's own usage rows
//! with the usage page's filters (`from`, `to`, `key`, `model`, `status`; `page` is
//! ignored), as CSV: a header row, UTF-8, times in ISO-8601 UTC, one line per request,
//! oldest first, and a file name with the range
//! (`resayil-usage-2026-10-31_2026-11-29.csv`).
//!
//! The body is streamed: rows are read in keyset-paged chunks of [`CHUNK`]
//! (`domain::usage_report::chunk_after`), each written out before the next is read, so an
//! account with millions of rows never sits in memory and a slow client holds back the
//! reading (no buffer grows). Without a session: 401; a malformed filter: 400 with the
//! same words as the usage page, in the page language.
use std::collections::HashMap;

use app::api::usage::{understand, KeyChoice, UsageQuery};
use app::Lang;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use domain::usage_report::{self, Cursor, Filter};
use domain::Services;

/// Rows read per query.
pub const CHUNK: u64 = 2000;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/usage/export.csv", get(export))
        .with_state(services)
}

async fn export(
    State(svc): State<Services>,
    lang: Option<Extension<Lang>>,
    headers: HeaderMap,
    Query(mut q): Query<UsageQuery>,
) -> Response {
    let lang = lang.map(|l| l.0).unwrap_or_default();
    let account = match app::server::cookie_in(&headers, domain::sessions::COOKIE) {
        Some(token) => domain::sessions::account(&svc.db, token).await.ok(),
        None => None,
    };
    let Some(account) = account else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let keys = match usage_report::key_labels(&svc.db, account.id).await {
        Ok(k) => k,
        Err(e) => return server_error(e),
    };
    let choices: Vec<KeyChoice> = keys
        .iter()
        .map(|(id, label, deleted)| KeyChoice {
            id: *id,
            label: label.clone(),
            deleted: *deleted,
        })
        .collect();
    q.page = None;
    let (shown, understood) = understand(&q, account.id, &choices, domain::time::now());
    let filter = match understood {
        Ok(f) => f,
        Err(p) => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                app::pages::usage::problem_text(lang, p),
            )
                .into_response()
        }
    };
    let labels: HashMap<i64, String> = keys.into_iter().map(|(id, l, _)| (id, l)).collect();
    let name = format!("resayil-usage-{}_{}.csv", shown.from, shown.to);
    let ctx = std::sync::Arc::new((svc, filter, labels));
    let stream = futures::stream::unfold(Some(Next::Header), move |state| {
        let ctx = ctx.clone();
        async move { next_chunk(&ctx.0, &ctx.1, &ctx.2, state?).await }
    });
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// What the stream writes next.
enum Next {
    Header,
    After(Option<Cursor>),
}

type Item = Result<Bytes, std::io::Error>;

/// The next piece of the body and the state after it; None when done. A database error
/// ends the body early with an error (the client sees a broken download, never a file
/// that looks complete).
async fn next_chunk(
    svc: &Services,
    filter: &Filter,
    labels: &HashMap<i64, String>,
    state: Next,
) -> Option<(Item, Option<Next>)> {
    let after = match state {
        Next::Header => {
            return Some((
                Ok(Bytes::from_static(usage_report::CSV_HEADER.as_bytes())),
                Some(Next::After(None)),
            ))
        }
        Next::After(after) => after,
    };
    let rows = match usage_report::chunk_after(&svc.db, filter, after, CHUNK).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("usage export stopped: {e}");
            return Some((Err(std::io::Error::other("usage export failed")), None));
        }
    };
    let last = rows.last().map(|r| (r.created_at, r.id))?;
    let mut out = String::with_capacity(rows.len() * 160);
    for r in &rows {
        let label = r
            .key_id
            .and_then(|k| labels.get(&k))
            .map_or("", |l| l.as_str());
        usage_report::csv_line(&mut out, r, label);
    }
    let more = rows.len() as u64 == CHUNK;
    Some((
        Ok(Bytes::from(out)),
        more.then_some(Next::After(Some(last))),
    ))
}

fn server_error(e: domain::Error) -> Response {
    tracing::error!("usage export failed: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, "try again later").into_response()
}
