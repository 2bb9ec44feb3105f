//! A suspended team member's team keys stop (issue 13): team keys live on the owner's
//! account, so finding the keys an account uses means looking by `api_keys.member_id` as
//! well as by `account_id`, and the gateway's revocation poll (every 200 ms on every
//! instance) asks which accounts were suspended in the last seconds.
//! - `idx_api_keys_member` (`member_id`): the team keys a member uses;
//! - `idx_accounts_suspended_at` (`suspended_at`): the poll reads a few index entries
//!   instead of scanning every account five times a second.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    MemberId,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    SuspendedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_api_keys_member")
                .table(ApiKeys::Table)
                .col(ApiKeys::MemberId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_accounts_suspended_at")
                .table(Accounts::Table)
                .col(Accounts::SuspendedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_accounts_suspended_at")
                .table(Accounts::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_api_keys_member")
                .table(ApiKeys::Table)
                .to_owned(),
        )
        .await
    }
}
