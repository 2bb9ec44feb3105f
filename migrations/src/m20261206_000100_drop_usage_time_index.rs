//! `idx_api_usage_time` (usage rows by time alone) goes: every row the metering writer adds
//! paid for one more B-tree insert (and its bytes) for an index that served two readers
//! only, both now elsewhere — the retention job walks the rows by id (they are appended in
//! time order, give or take the longest request), and the start-up count of today's cloud
//! requests reads the platform's hourly rollups. The account's reads keep
//! `idx_api_usage_account_time`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiUsage {
    Table,
    CreatedAt,
}

const NAME: &str = "idx_api_usage_time";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(NAME)
                .table(ApiUsage::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(ApiUsage::Table)
                .col(ApiUsage::CreatedAt)
                .to_owned(),
        )
        .await
    }
}
