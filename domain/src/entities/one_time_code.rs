//! The `one_time_codes` table: WhatsApp codes for password reset and phone verification,
//! stored as a salted hash only (see [`crate::codes`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub purpose: crate::codes::Purpose,
    /// The phone number (E.164) the code was sent to.
    pub target: String,
    /// Random, hex; hashed before the code.
    pub salt: String,
    /// SHA-256 (hex) of the salt and the code.
    pub code_hash: String,
    /// Wrong tries so far.
    pub attempts: i32,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was accepted, or replaced by a newer code.
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
