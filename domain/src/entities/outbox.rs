//! The `outbox` table: one WhatsApp message per row (see [`crate::notify`]).
use sea_orm::entity::prelude::*;

/// One WhatsApp message to one number in one language.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notification_id: i64,
    pub kind: String,
    pub account_id: Option<i64>,
    /// E.164 with the leading `+`.
    pub recipient: String,
    pub lang: String,
    /// The Meta template name.
    pub template: String,
    /// The placeholder values, a JSON array of `[name, value]` pairs.
    pub params: String,
    pub body: String,
    pub status: crate::notify::Status,
    pub attempts: i32,
    pub next_attempt_at: i64,
    /// Who holds the row while it is `sending`.
    pub claim: Option<String>,
    /// When a `sending` claim may be taken over.
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub provider_message_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
