//! The `usage_platform_hourly` table: requests and credits per UTC hour and provider for
//! the whole platform (the admin overview; see [`crate::admin::platform`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_platform_hourly")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: i64,
    /// `local`, `cloud`, or `""` (refused before any upstream).
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    pub requests: i64,
    pub credits: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
