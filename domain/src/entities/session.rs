//! The `sessions` table: browser sessions (see [`crate::sessions`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub token_hash: String,
    pub account_id: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// Last request seen with this session (written at most every few minutes).
    pub last_seen_at: Option<i64>,
    /// The client address the session was started from.
    pub ip: Option<String>,
    /// The browser's `User-Agent` at sign-in, clipped.
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
