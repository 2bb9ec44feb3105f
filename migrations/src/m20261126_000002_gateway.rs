//! The gateway's tables: one usage row per API request, and threshold events (credit
//! warnings, cloud budget) for the notification work to send.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiUsage {
    Table,
    Id,
    RequestId,
    AccountId,
    KeyId,
    Endpoint,
    RequestedModel,
    ServedModel,
    Provider,
    PromptTokens,
    CompletionTokens,
    Credits,
    LatencyMs,
    Status,
    Error,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Kind,
    AccountId,
    DedupeKey,
    Payload,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApiUsage::Table)
                .col(pk(ApiUsage::Id))
                .col(
                    ColumnDef::new(ApiUsage::RequestId)
                        .string_len(64)
                        .not_null(),
                )
                // No foreign keys: rows are written in batches off the request path, and
                // one deleted account must not make a whole batch fail.
                .col(ColumnDef::new(ApiUsage::AccountId).big_integer().null())
                .col(ColumnDef::new(ApiUsage::KeyId).big_integer().null())
                .col(ColumnDef::new(ApiUsage::Endpoint).string_len(32).not_null())
                .col(
                    ColumnDef::new(ApiUsage::RequestedModel)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(ApiUsage::ServedModel).string_len(128).null())
                .col(ColumnDef::new(ApiUsage::Provider).string_len(8).null())
                .col(
                    ColumnDef::new(ApiUsage::PromptTokens)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ApiUsage::CompletionTokens)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ApiUsage::Credits).big_integer().not_null())
                .col(ColumnDef::new(ApiUsage::LatencyMs).big_integer().not_null())
                .col(ColumnDef::new(ApiUsage::Status).integer().not_null())
                .col(ColumnDef::new(ApiUsage::Error).string_len(64).null())
                .col(ColumnDef::new(ApiUsage::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_api_usage_account_time")
                .table(ApiUsage::Table)
                .col(ApiUsage::AccountId)
                .col(ApiUsage::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_api_usage_time")
                .table(ApiUsage::Table)
                .col(ApiUsage::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(pk(Events::Id))
                .col(ColumnDef::new(Events::Kind).string_len(32).not_null())
                .col(ColumnDef::new(Events::AccountId).big_integer().null())
                .col(
                    ColumnDef::new(Events::DedupeKey)
                        .string_len(128)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Events::Payload).text().not_null())
                .col(ColumnDef::new(Events::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ApiUsage::Table).to_owned())
            .await
    }
}

/// An auto-increment 64-bit primary key that works on SQLite and PostgreSQL.
fn pk<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}
