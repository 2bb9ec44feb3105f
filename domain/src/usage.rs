//! One usage row per API request (success or failure), written off the request path in
//! batches by the writer of [`crate::meter::Meter`], together with the request's charge.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
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
    pub(crate) fn into_active(self) -> api_usage::ActiveModel {
        let clip = |s: String, n: usize| s.chars().take(n).collect::<String>();
        api_usage::ActiveModel {
            request_id: Set(clip(self.request_id, 64)),
            account_id: Set(self.account_id),
            key_id: Set(self.key_id),
            endpoint: Set(self.endpoint.to_owned()),
            requested_model: Set(clip(self.requested_model, 128)),
            served_model: Set(self.served_model.map(|s| clip(s, 128))),
            provider: Set(self.provider.map(str::to_owned)),
            prompt_tokens: Set(self.prompt_tokens),
            completion_tokens: Set(self.completion_tokens),
            credits: Set(self.credits),
            latency_ms: Set(self.latency_ms),
            status: Set(i32::from(self.status)),
            error: Set(self.error.map(|s| clip(s, 64))),
            created_at: Set(self.created_at),
            // Left out of a batch without team rows (the column then keeps its default),
            // so the statement is the one of a schema before teams as well.
            member_id: match self.member_id {
                Some(m) => Set(Some(m)),
                None => sea_orm::ActiveValue::NotSet,
            },
            playground: Set(self.playground),
            ..Default::default()
        }
    }
}

/// Writes `rows` in a few multi-row INSERTs of 256, 64, 16, 4 or 1 rows: a handful of
/// distinct statements, so they stay in the connection's prepared-statement cache instead
/// of pushing the hot path's statements out of it.
pub async fn insert_batch<C: ConnectionTrait>(db: &C, rows: Vec<UsageRecord>) -> Result<(), Error> {
    let mut rows = rows.into_iter().peekable();
    let mut left = rows.len();
    while left > 0 {
        let n = [256, 64, 16, 4, 1]
            .into_iter()
            .find(|n| *n <= left)
            .unwrap_or(1);
        let chunk: Vec<_> = rows
            .by_ref()
            .take(n)
            .map(UsageRecord::into_active)
            .collect();
        left -= chunk.len();
        api_usage::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Cloud requests recorded since `since` (unix seconds): seeds the daily cloud counter of
/// a single instance after a restart.
pub async fn cloud_requests_since(db: &DatabaseConnection, since: i64) -> Result<u64, Error> {
    Ok(api_usage::Entity::find()
        .filter(api_usage::Column::Provider.eq("cloud"))
        .filter(api_usage::Column::CreatedAt.gte(since))
        .count(db)
        .await?)
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
            let cloud = cloud_requests_since(&svc.db, crate::time::now() - 60)
                .await
                .unwrap();
            assert!(cloud >= 200);
        })
        .await;
    }
}
