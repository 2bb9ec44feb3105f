//! The two tables of the outbox and the changes of their rows (expansion, from the first
//! table into the second, is in `expand`).
//!
//! An `outbox` row is claimed for one send at a time: `sending` with a random claim and a lease, and
//! only the holder of the claim may mark it `sent`, back to `pending` (retry) or `failed`.
//! A claim whose lease ran out (the sender died mid-send) is taken over by the next worker.
use sea_orm::sea_query::StringLen;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DeriveActiveEnum, EntityTrait, EnumIter, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::entities::{notification, outbox};
use crate::{time, Error};

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Status {
    /// Waiting for `next_attempt_at` (new, or retrying after a temporary failure).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// A worker is sending it now.
    #[sea_orm(string_value = "sending")]
    Sending,
    /// The provider accepted it.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Refused for good, or retried too often; an admin may resend it.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl Status {
    /// The name the admin page shows: the stored value (a test keeps them equal).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }
}

/// A message as the admin view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    /// The event kind (`welcome`, `ip_banned` …).
    pub kind: String,
    pub account_id: Option<i64>,
    /// The phone number, E.164.
    pub to: String,
    pub lang: String,
    pub status: Status,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub body: String,
    /// Unix seconds.
    pub created: i64,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
}

/// What a one-time code is replaced with wherever it is shown or kept after sending.
pub const MASK: &str = "******";

/// The one-time codes among a message's parameters (`code`, or `code_ar` / `code_en` in a
/// bilingual message), as they appear in its body.
pub(crate) fn secrets(params: &[(String, String)]) -> Vec<&str> {
    params
        .iter()
        .filter(|(k, _)| k == "code" || k.starts_with("code_"))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty() && !v.contains(MASK))
        .collect()
}

/// `body` and the stored `params` (JSON) with their one-time codes masked; `None` when
/// they carry none.
pub(crate) fn masked(body: &str, params: &str) -> Option<(String, String)> {
    let list: Vec<(String, String)> = serde_json::from_str(params).ok()?;
    let secret = secrets(&list);
    if secret.is_empty() {
        return None;
    }
    let mut body = body.to_owned();
    for s in &secret {
        body = body.replace(s, MASK);
    }
    let list: Vec<(String, String)> = list
        .iter()
        .map(|(k, v)| {
            let hidden = k == "code" || k.starts_with("code_");
            (k.clone(), if hidden { MASK.to_owned() } else { v.clone() })
        })
        .collect();
    Some((
        body,
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()),
    ))
}

impl From<outbox::Model> for OutboxRow {
    fn from(m: outbox::Model) -> Self {
        // Admins see that a code was sent, never the code.
        let body = masked(&m.body, &m.params).map_or(m.body, |(b, _)| b);
        Self {
            id: m.id,
            kind: m.kind,
            account_id: m.account_id,
            to: m.recipient,
            lang: m.lang,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            body,
            created: m.created_at,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
        }
    }
}

/// Queues the notification of a newly recorded event, on the event's connection.
pub(crate) async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    account_id: Option<i64>,
    event_key: &str,
    payload: String,
) -> Result<(), Error> {
    notification::Entity::insert(notification::ActiveModel {
        event_key: Set(event_key.to_owned()),
        kind: Set(kind.to_owned()),
        account_id: Set(account_id),
        payload: Set(payload),
        created_at: Set(time::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(notification::Column::EventKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The most recent messages, newest first (the admin view).
pub async fn recent<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<OutboxRow>, Error> {
    Ok(outbox::Entity::find()
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(OutboxRow::from)
        .collect())
}

/// Makes a failed message due again (admin "resend"), with a fresh count of attempts.
/// [`Error::NotFound`] for an unknown id, [`Error::Conflict`] unless it failed.
pub async fn resend(db: &DatabaseConnection, id: i64) -> Result<(), Error> {
    let now = time::now();
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(Status::Pending))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(Status::Failed))
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(());
    }
    match outbox::Entity::find_by_id(id).one(db).await? {
        Some(_) => Err(Error::Conflict("only a failed message can be resent")),
        None => Err(Error::NotFound),
    }
}

/// Claims the oldest message due at `due_at` for one send: `sending`, a new claim, a
/// lease of `lease_secs`, one more attempt. Due: `pending` and its time has come, or
/// `sending` with a lease that ran out. (A pass passes its start time, so a message it
/// reschedules waits for the next pass.)
pub(crate) async fn claim_one(
    db: &DatabaseConnection,
    lease_secs: i64,
    due_at: i64,
) -> Result<Option<outbox::Model>, Error> {
    let now = time::now();
    let due = Condition::any()
        .add(
            Condition::all()
                .add(outbox::Column::Status.eq(Status::Pending))
                .add(outbox::Column::NextAttemptAt.lte(due_at)),
        )
        .add(
            Condition::all()
                .add(outbox::Column::Status.eq(Status::Sending))
                .add(outbox::Column::LockedUntil.lt(due_at)),
        );
    let mut pick = Query::select();
    pick.column(outbox::Column::Id)
        .from(outbox::Entity)
        .cond_where(due)
        .order_by(outbox::Column::NextAttemptAt, Order::Asc)
        .order_by(outbox::Column::Id, Order::Asc)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let token = crate::keys::random_token(16);
    let mut claim = Query::update();
    claim
        .table(outbox::Entity)
        .value(outbox::Column::Status, Status::Sending)
        .value(outbox::Column::Claim, token)
        .value(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .value(outbox::Column::LockedUntil, now + lease_secs)
        .value(outbox::Column::UpdatedAt, now)
        .and_where(outbox::Column::Id.in_subquery(pick))
        .returning_all();
    let stmt = db.get_database_backend().build(&claim);
    Ok(outbox::Entity::find().from_raw_sql(stmt).one(db).await?)
}

/// How a send ended.
pub(crate) enum Outcome {
    Sent {
        provider_id: Option<String>,
    },
    /// Try again at `at` (unix seconds).
    Retry {
        error: String,
        at: i64,
    },
    Failed {
        error: String,
    },
}

/// Records how the send of a claimed message ended. False when the claim was lost (its
/// lease ran out and another worker took the row), so nothing was changed.
pub(crate) async fn finish(
    db: &DatabaseConnection,
    m: &outbox::Model,
    outcome: Outcome,
) -> Result<bool, Error> {
    let now = time::now();
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Claim, Expr::value(Option::<String>::None))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now));
    // A code is kept only until its message is delivered or given up.
    if matches!(outcome, Outcome::Sent { .. } | Outcome::Failed { .. }) {
        if let Some((body, params)) = masked(&m.body, &m.params) {
            update = update
                .col_expr(outbox::Column::Body, Expr::value(body))
                .col_expr(outbox::Column::Params, Expr::value(params));
        }
    }
    update = match outcome {
        Outcome::Sent { provider_id } => update
            .col_expr(outbox::Column::Status, Expr::value(Status::Sent))
            .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
            .col_expr(outbox::Column::ProviderMessageId, Expr::value(provider_id)),
        Outcome::Retry { error, at } => update
            .col_expr(outbox::Column::Status, Expr::value(Status::Pending))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
            .col_expr(outbox::Column::LastError, Expr::value(Some(clip(&error)))),
        Outcome::Failed { error } => update
            .col_expr(outbox::Column::Status, Expr::value(Status::Failed))
            .col_expr(outbox::Column::LastError, Expr::value(Some(clip(&error)))),
    };
    let res = update
        .filter(outbox::Column::Id.eq(m.id))
        .filter(outbox::Column::Status.eq(Status::Sending))
        .filter(outbox::Column::Claim.eq(m.claim.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

fn clip(s: &str) -> String {
    s.chars().take(1000).collect()
}
