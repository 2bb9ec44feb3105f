//! One usage row per API request (success or failure), written off the request path by a
//! bounded, batched [`UsageWriter`] that drains everything on [`UsageWriter::shutdown`].
use std::time::Duration;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use tokio::sync::{mpsc, oneshot};

use crate::Error;

pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_usage")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub request_id: String,
        pub account_id: Option<i64>,
        pub key_id: Option<i64>,
        pub endpoint: String,
        pub requested_model: String,
        pub served_model: Option<String>,
        pub provider: Option<String>,
        pub prompt_tokens: i64,
        pub completion_tokens: i64,
        pub credits: i64,
        pub latency_ms: i64,
        pub status: i32,
        pub error: Option<String>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
}

impl UsageRecord {
    fn into_active(self) -> row::ActiveModel {
        let clip = |s: String, n: usize| s.chars().take(n).collect::<String>();
        row::ActiveModel {
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
            ..Default::default()
        }
    }
}

/// Writes `rows` in a few multi-row INSERTs of 256, 64, 16, 4 or 1 rows: a handful of
/// distinct statements, so they stay in the connection's prepared-statement cache instead
/// of pushing the hot path's statements out of it.
pub async fn insert_batch(db: &DatabaseConnection, rows: Vec<UsageRecord>) -> Result<(), Error> {
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
        row::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Cloud requests recorded since `since` (unix seconds): seeds the daily cloud counter of
/// a single instance after a restart.
pub async fn cloud_requests_since(db: &DatabaseConnection, since: i64) -> Result<u64, Error> {
    Ok(row::Entity::find()
        .filter(row::Column::Provider.eq("cloud"))
        .filter(row::Column::CreatedAt.gte(since))
        .count(db)
        .await?)
}

/// The rows of one account, newest first (tests and dashboards).
pub async fn for_account(
    db: &DatabaseConnection,
    account_id: i64,
) -> Result<Vec<row::Model>, Error> {
    use sea_orm::QueryOrder;
    Ok(row::Entity::find()
        .filter(row::Column::AccountId.eq(account_id))
        .order_by_desc(row::Column::Id)
        .all(db)
        .await?)
}

enum Msg {
    Row(Box<UsageRecord>),
    /// Answer once everything received before this message is written.
    Flush(oneshot::Sender<()>),
}

/// A cheap handle to the background writer.
#[derive(Clone)]
pub struct UsageWriter {
    tx: mpsc::Sender<Msg>,
}

/// Rows per INSERT, and how long a row may wait for its batch to fill.
const BATCH: usize = 256;
const MAX_WAIT: Duration = Duration::from_millis(200);
/// Rows queued at most; past it `record` waits (in a task, off the request path).
const CAPACITY: usize = 16_384;

impl UsageWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: DatabaseConnection) -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        tokio::spawn(run(db, rx));
        Self { tx }
    }

    /// Queues a row without waiting; when the queue is full the row waits in a task.
    pub fn record(&self, row: UsageRecord) {
        match self.tx.try_send(Msg::Row(Box::new(row))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(msg)) => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    if tx.send(msg).await.is_err() {
                        tracing::error!("usage row dropped: writer stopped");
                    }
                });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("usage row dropped: writer stopped");
            }
        }
    }

    /// Waits until every row recorded before this call is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<UsageRecord> = Vec::with_capacity(BATCH);
    loop {
        let first = rx.recv().await;
        let mut waiters = Vec::new();
        match first {
            None => return,
            Some(Msg::Row(r)) => batch.push(*r),
            Some(Msg::Flush(w)) => waiters.push(w),
        }
        // Fill the batch with what is already queued, waiting a little for more.
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        while batch.len() < BATCH && waiters.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Msg::Row(r))) => batch.push(*r),
                Ok(Some(Msg::Flush(w))) => waiters.push(w),
                Ok(None) | Err(_) => break,
            }
        }
        write(&db, std::mem::take(&mut batch)).await;
        batch.reserve(BATCH);
        for w in waiters {
            let _ = w.send(());
        }
    }
}

/// Writes a batch, retrying a few times before giving up (and saying so in the log).
async fn write(db: &DatabaseConnection, rows: Vec<UsageRecord>) {
    if rows.is_empty() {
        return;
    }
    for attempt in 1..=5u32 {
        match insert_batch(db, rows.clone()).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(attempt, rows = rows.len(), "usage batch failed: {e}");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
    }
    tracing::error!(rows = rows.len(), "usage batch lost after retries");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, new_account};

    #[tokio::test]
    async fn recorded_rows_are_written_in_batches_and_flush_waits_for_them() {
        each_db(|svc| async move {
            let a = new_account(&svc).await;
            let writer = UsageWriter::start(svc.db.clone());
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
