//! The `ip_bans` table: bans reported by fail2ban (see [`crate::notify::bans`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ip_bans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub jail: String,
    pub ip: String,
    pub username: Option<String>,
    pub failures: i32,
    pub banned_at: i64,
    pub bantime: i64,
    pub unbanned_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
