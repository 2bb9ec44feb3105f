//! Hourly usage buckets (issue 11, item 7): charts and summaries read these instead of
//! scanning `api_usage`. One row per (account, hour, key, model, provider) with the sums of
//! the usage rows that fall in it; the metering writer adds to them in the same transaction
//! as it writes the rows (`domain::rollup`), so their totals always equal the raw rows.
//!
//! - `hour`: unix seconds of the start of the UTC hour (Asia/Kuwait is UTC+3 all year, so
//!   an hour is also a Kuwait hour and a Kuwait day is 24 of them);
//! - `key_id`: 0 for rows without a key; `model`: the served model, else the requested one;
//!   `provider`: `local`, `cloud`, or `''` when no upstream was called (a refusal);
//! - `requests` counts every row (refusals too), `errors` those with status ≥ 400.
//!
//! Rows without an account (an unknown key) are not bucketed. The backfill below fills
//! the table from the rows already written.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageHourly {
    Table,
    AccountId,
    Hour,
    KeyId,
    Model,
    Provider,
    Requests,
    Errors,
    PromptTokens,
    CompletionTokens,
    Credits,
}

const BACKFILL: &str = "INSERT INTO usage_hourly \
    (account_id, hour, key_id, model, provider, requests, errors, prompt_tokens, \
     completion_tokens, credits) \
    SELECT account_id, (created_at / 3600) * 3600, COALESCE(key_id, 0), \
           COALESCE(served_model, requested_model), COALESCE(provider, ''), COUNT(*), \
           SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), SUM(prompt_tokens), \
           SUM(completion_tokens), SUM(credits) \
    FROM api_usage WHERE account_id IS NOT NULL \
    GROUP BY account_id, (created_at / 3600) * 3600, COALESCE(key_id, 0), \
             COALESCE(served_model, requested_model), COALESCE(provider, '')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let n = |c: UsageHourly| ColumnDef::new(c).big_integer().not_null().to_owned();
        m.create_table(
            Table::create()
                .table(UsageHourly::Table)
                .col(n(UsageHourly::AccountId))
                .col(n(UsageHourly::Hour))
                .col(n(UsageHourly::KeyId))
                .col(
                    ColumnDef::new(UsageHourly::Model)
                        .string_len(128)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(UsageHourly::Provider)
                        .string_len(8)
                        .not_null(),
                )
                .col(n(UsageHourly::Requests))
                .col(n(UsageHourly::Errors))
                .col(n(UsageHourly::PromptTokens))
                .col(n(UsageHourly::CompletionTokens))
                .col(n(UsageHourly::Credits))
                .primary_key(
                    Index::create()
                        .col(UsageHourly::AccountId)
                        .col(UsageHourly::Hour)
                        .col(UsageHourly::KeyId)
                        .col(UsageHourly::Model)
                        .col(UsageHourly::Provider),
                )
                .to_owned(),
        )
        .await?;
        // The platform's totals by hour (admin overview: local vs cloud per day).
        m.create_index(
            Index::create()
                .name("idx_usage_hourly_hour")
                .table(UsageHourly::Table)
                .col(UsageHourly::Hour)
                .col(UsageHourly::Provider)
                .to_owned(),
        )
        .await?;
        // One key's usage over time (per-key usage, team members' keys).
        m.create_index(
            Index::create()
                .name("idx_usage_hourly_key")
                .table(UsageHourly::Table)
                .col(UsageHourly::KeyId)
                .col(UsageHourly::Hour)
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(BACKFILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UsageHourly::Table).to_owned())
            .await
    }
}
