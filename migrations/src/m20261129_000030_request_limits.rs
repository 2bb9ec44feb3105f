//! Limits that keep one account from holding the model servers (security review, issue 9):
//! - `catalog_models.context_tokens`: the model's context window; a request asking for more
//!   completion tokens than that is refused (400);
//! - `catalog_models.max_output_tokens`: the most completion tokens one request may ask
//!   of the model (NULL: the catalog's `[gateway] max_output_tokens`);
//! - `catalog_plans.concurrent_requests`: requests one account may have open at once
//!   (NULL: the catalog's `[gateway] concurrent_requests`).
//!
//! The values for the models and plans seeded by `m20261126_000020_catalog` are frozen
//! here, not read from `catalog/catalog.toml`, so this migration means the same forever.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogModels {
    Table,
    Id,
    ContextTokens,
    MaxOutputTokens,
}

#[derive(DeriveIden)]
enum CatalogPlans {
    Table,
    Id,
    ConcurrentRequests,
}

/// (model, context window, completion tokens per request at most).
const MODELS: &[(&str, i64, i64)] = &[
    ("llama3.2:3b", 131_072, 8_192),
    ("smollm2:135m", 8_192, 4_096),
    ("qwen2.5-coder:14b", 32_768, 8_192),
    ("mistral-small3.2:24b", 131_072, 8_192),
    ("qwen3-30b-40k", 40_960, 8_192),
    ("Qwen3-VL-32B", 131_072, 8_192),
    ("gpt-oss:20b", 131_072, 8_192),
    ("qwen3.5:cloud", 262_144, 16_384),
    ("deepseek-v3.2:cloud", 163_840, 16_384),
    ("all-minilm", 512, 0),
];

/// (plan, requests open at once per account).
const PLANS: &[(&str, i64)] = &[("basic", 2), ("pro", 4), ("enterprise", 8)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for col in [CatalogModels::ContextTokens, CatalogModels::MaxOutputTokens] {
            m.alter_table(
                Table::alter()
                    .table(CatalogModels::Table)
                    .add_column(ColumnDef::new(col).big_integer().null())
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(CatalogPlans::Table)
                .add_column(
                    ColumnDef::new(CatalogPlans::ConcurrentRequests)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        for (id, context, max_output) in MODELS {
            m.exec_stmt(
                Query::update()
                    .table(CatalogModels::Table)
                    .value(CatalogModels::ContextTokens, *context)
                    .value(CatalogModels::MaxOutputTokens, *max_output)
                    .and_where(Expr::col(CatalogModels::Id).eq(*id))
                    .to_owned(),
            )
            .await?;
        }
        for (id, n) in PLANS {
            m.exec_stmt(
                Query::update()
                    .table(CatalogPlans::Table)
                    .value(CatalogPlans::ConcurrentRequests, *n)
                    .and_where(Expr::col(CatalogPlans::Id).eq(*id))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [CatalogModels::ContextTokens, CatalogModels::MaxOutputTokens] {
            m.alter_table(
                Table::alter()
                    .table(CatalogModels::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(CatalogPlans::Table)
                .drop_column(CatalogPlans::ConcurrentRequests)
                .to_owned(),
        )
        .await
    }
}
