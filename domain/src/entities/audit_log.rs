//! The `audit_log` table: append-only record of admin and operator actions (see
//! [`crate::audit`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_at: i64,
    /// The admin's account; NULL for the operator CLI.
    pub actor_id: Option<i64>,
    /// The admin's e-mail, or `cli`.
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target_account_id: Option<i64>,
    /// What was changed when it is not an account (a model, a plan, a setting).
    pub target: Option<String>,
    /// JSON of the value before and after.
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
