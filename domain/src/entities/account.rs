//! The `accounts` table: one row per customer account, with its cached balance.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub phone: String,
    pub password_hash: String,
    pub role: crate::accounts::Role,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub credits: i64,
    /// Credits set aside by gateway instances' holds (`crate::meter`); not spent yet.
    pub held: i64,
    pub lang: String,
    pub created_at: i64,
    /// The name the customer chose to be called by (profile); optional.
    pub name: Option<String>,
    /// When the phone number was confirmed with a WhatsApp code; `None` until then.
    pub phone_verified_at: Option<i64>,
    /// Set while an admin has suspended the account: no sign-in, no API (`crate::admin`).
    pub suspended_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
