//! One usage row per API request (success or failure), written off the request path in
//! batches by the writer of [`crate::meter::Meter`], together with the request's charge.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic, PaginatorTrait,
    QueryFilter, Value,
};

use crate::entities::api_usage;
use crate::Error;

/// What one request used. `provider` is "local" or "cloud" (None when no upstream was
/// called); `status` is the HTTP status the client got; `error` a short machine code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageRecord {
    pub request_id: String,
    pub account_id: Option<i64>,
    pub key_id: Option<i64>,
    pub endpoint: &'static str,
    pub requested_model: String,
    pub served_model: Option<String>,
    pub provider: Option<&'static str>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub credits: i64,
    pub latency_ms: i64,
    pub status: u16,
    pub error: Option<String>,
    pub created_at: i64,
    /// The team member whose team key made the request.
    pub member_id: Option<i64>,
    /// Sent from the portal's playground (a signed-in session instead of a key).
    pub playground: bool,
}

impl UsageRecord {
    /// The columns of [`UsageRecord::values`]: those of the first schema, then the later
    /// ones in the order their migrations added them.
    pub(crate) fn columns() -> [&'static str; 16] {
        use api_usage::Column as C;
        [
            C::RequestId,
            C::AccountId,
            C::KeyId,
            C::Endpoint,
            C::RequestedModel,
            C::ServedModel,
            C::Provider,
            C::PromptTokens,
            C::CompletionTokens,
            C::Credits,
            C::LatencyMs,
            C::Status,
            C::Error,
            C::CreatedAt,
            C::Playground,
            C::MemberId,
        ]
        .map(|c| c.as_str())
    }

    /// The row's values in the order of [`UsageRecord::columns`] (texts clipped to their
    /// columns' lengths). Built from a reference: the batched writer keeps its rows for a
    /// retry and copies each text once, here.
    pub(crate) fn values(&self) -> [Value; 16] {
        let clip = |s: &str, n: usize| {
            if s.len() <= n {
                s.to_owned()
            } else {
                s.chars().take(n).collect::<String>()
            }
        };
        [
            clip(&self.request_id, 64).into(),
            self.account_id.into(),
            self.key_id.into(),
            self.endpoint.into(),
            clip(&self.requested_model, 128).into(),
            self.served_model.as_deref().map(|s| clip(s, 128)).into(),
            self.provider.into(),
            self.prompt_tokens.into(),
            self.completion_tokens.into(),
            self.credits.into(),
            self.latency_ms.into(),
            i32::from(self.status).into(),
            self.error.as_deref().map(|s| clip(s, 64)).into(),
            self.created_at.into(),
            self.playground.into(),
            self.member_id.into(),
        ]
    }
}

/// Writes `rows`, in the order given, in a few multi-row INSERTs
/// ([`crate::db::insert_rows`]).
pub async fn insert_batch<C, R>(db: &C, rows: &[R]) -> Result<(), Error>
where
    C: ConnectionTrait,
    R: std::borrow::Borrow<UsageRecord>,
{
    crate::db::insert_rows(
        db,
        api_usage::Entity.as_str(),
        UsageRecord::columns(),
        rows.iter().map(|r| r.borrow().values()),
    )
    .await?;
    Ok(())
}

/// Cloud requests recorded from the hour that starts at `since` (unix seconds, a whole
/// UTC hour: Kuwait midnights are) on: seeds the daily cloud counter of a single instance
/// after a restart. Read from the platform's hourly rollups, written in the same
/// transaction as the rows (a few rows per hour to sum; the raw rows may have been pruned).
pub async fn cloud_requests_since(db: &DatabaseConnection, since: i64) -> Result<u64, Error> {
    debug_assert_eq!(since % 3600, 0, "cloud_requests_since counts whole hours");
    let hours = crate::admin::platform::hours(db, since, i64::MAX).await?;
    Ok(hours
        .iter()
        .filter(|h| h.provider == "cloud")
        .map(|h| u64::try_from(h.requests).unwrap_or(0))
        .sum())
}

/// Rows in all (tests, operators).
pub async fn count_all(db: &DatabaseConnection) -> Result<u64, Error> {
    Ok(api_usage::Entity::find().count(db).await?)
}

/// The rows of one account, newest first (tests and dashboards).
pub async fn for_account(
    db: &DatabaseConnection,
    account_id: i64,
) -> Result<Vec<api_usage::Model>, Error> {
    use sea_orm::QueryOrder;
    Ok(api_usage::Entity::find()
        .filter(api_usage::Column::AccountId.eq(account_id))
        .order_by_desc(api_usage::Column::Id)
        .all(db)
        .await?)
}

/// The row of `account_id`'s request `request_id` from the last hour (the playground
/// shows each answer's cost): read through the (account, time) index, so it is cheap and
/// another account's request id finds nothing.
pub async fn recent_request(
    db: &DatabaseConnection,
    account_id: i64,
    request_id: &str,
) -> Result<Option<api_usage::Model>, Error> {
    Ok(api_usage::Entity::find()
        .filter(api_usage::Column::AccountId.eq(account_id))
        .filter(api_usage::Column::CreatedAt.gte(crate::time::now() - 3600))
        .filter(api_usage::Column::RequestId.eq(request_id))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};

    #[tokio::test]
    async fn recorded_rows_are_written_in_batches_and_flush_waits_for_them() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let writer = crate::meter::Meter::start(svc.db.clone(), 20);
            let hour = crate::time::now().div_euclid(3600) * 3600;
            let cloud_before = cloud_requests_since(&svc.db, hour).await.unwrap();
            for n in 0..600 {
                writer.record(UsageRecord {
                    request_id: format!("r{n}"),
                    account_id: Some(a.id),
                    endpoint: "chat",
                    requested_model: "llama3.2:3b".into(),
                    provider: Some(if n % 3 == 0 { "cloud" } else { "local" }),
                    credits: 1,
                    status: 200,
                    created_at: crate::time::now(),
                    ..Default::default()
                });
            }
            writer.flush().await;
            let rows = for_account(&svc.db, a.id).await.unwrap();
            assert_eq!(rows.len(), 600);
            assert_eq!(rows[0].request_id, "r599");
            // Other tests share the PostgreSQL database: at least this test's 200.
            let cloud = cloud_requests_since(&svc.db, hour).await.unwrap();
            assert!(cloud >= cloud_before + 200, "{cloud_before} → {cloud}");
        })
        .await;
    }

    /// Every column written as the entity reads it back, on both databases: each statement
    /// shape (341 rows = 256 + 64 + 16 + 4 + 1), empty and filled optional columns, texts
    /// clipped by characters (not bytes), rows in the order given.
    #[tokio::test]
    async fn a_batch_is_written_column_for_column_in_order() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let records: Vec<UsageRecord> = (0..341)
                .map(|n: i64| {
                    let full = n % 2 == 0;
                    UsageRecord {
                        request_id: format!("req-{n}-{}", "x".repeat(80)),
                        account_id: Some(a.id),
                        key_id: full.then_some(n),
                        endpoint: "chat.completions",
                        requested_model: "نموذج".repeat(40),
                        served_model: full.then(|| format!("m{n}")),
                        provider: full.then_some("local"),
                        prompt_tokens: n,
                        completion_tokens: 2 * n,
                        credits: 3 * n,
                        latency_ms: n + 7,
                        status: if full { 200 } else { 503 },
                        error: (!full).then(|| "upstream_unavailable".to_owned()),
                        created_at: 1_700_000_000 + n,
                        member_id: (n % 3 == 0).then_some(n + 1),
                        playground: n % 5 == 0,
                    }
                })
                .collect();
            insert_batch(&svc.db, &records).await.unwrap();
            let mut rows = for_account(&svc.db, a.id).await.unwrap();
            rows.reverse();
            assert_eq!(rows.len(), records.len());
            for (row, r) in rows.iter().zip(&records) {
                assert_eq!(
                    row.request_id,
                    r.request_id.chars().take(64).collect::<String>()
                );
                assert_eq!(row.account_id, r.account_id);
                assert_eq!(row.key_id, r.key_id);
                assert_eq!(row.endpoint, r.endpoint);
                assert_eq!(row.requested_model.chars().count(), 128);
                assert!(r.requested_model.starts_with(&row.requested_model));
                assert_eq!(row.served_model, r.served_model);
                assert_eq!(row.provider.as_deref(), r.provider);
                assert_eq!(row.prompt_tokens, r.prompt_tokens);
                assert_eq!(row.completion_tokens, r.completion_tokens);
                assert_eq!(row.credits, r.credits);
                assert_eq!(row.latency_ms, r.latency_ms);
                assert_eq!(row.status, i32::from(r.status));
                assert_eq!(row.error, r.error);
                assert_eq!(row.created_at, r.created_at);
                assert_eq!(row.member_id, r.member_id);
                assert_eq!(row.playground, r.playground);
            }
        })
        .await;
    }
}
