//! The `api_usage` table: one row per API request (see [`crate::usage`]).
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
    /// The team member whose team key made the request (NULL for personal keys).
    pub member_id: Option<i64>,
    /// Sent from the portal's playground (a session, no key).
    pub playground: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
