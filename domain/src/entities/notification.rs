//! The `notifications` table: events that call for messages (see [`crate::notify`]).
use sea_orm::entity::prelude::*;

/// One event that calls for messages; `expanded_at` once its outbox rows exist.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_key: String,
    pub kind: String,
    pub account_id: Option<i64>,
    pub payload: String,
    pub created_at: i64,
    pub expanded_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
