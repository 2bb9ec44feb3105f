//! `api_usage.playground`: true on the rows of requests sent from the portal's playground
//! (`/playground`, a signed-in session instead of an API key; `key_id` is NULL on them).
//! They are metered and charged exactly like API requests; the marker lets the usage
//! views tell them apart. Existing rows are API requests (false).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiUsage {
    Table,
    Playground,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiUsage::Table)
                .add_column(
                    ColumnDef::new(ApiUsage::Playground)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiUsage::Table)
                .drop_column(ApiUsage::Playground)
                .to_owned(),
        )
        .await
    }
}
