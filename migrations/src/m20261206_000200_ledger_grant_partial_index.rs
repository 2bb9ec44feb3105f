//! The index for "the account's last grant or purchase" (`idx_ledger_account_kind`, on
//! account, kind and id) held an entry for every ledger row, so every charged request paid
//! for one B-tree insert (and its bytes) that no reader of usage rows needed. It becomes a
//! partial index of the grant and purchase rows only (`idx_ledger_grants`, on account and
//! id): a few rows per account, and none written per request. The query that uses it
//! (`domain::events::last_grant`) repeats the index's condition word for word, which is
//! how SQLite knows the partial index answers it.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Ledger {
    Table,
    AccountId,
    Kind,
    Id,
}

const OLD: &str = "idx_ledger_account_kind";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_ledger_grants ON ledger (account_id, id) \
                 WHERE kind IN ('grant', 'purchase')",
            )
            .await?;
        m.drop_index(
            Index::drop()
                .name(OLD)
                .table(Ledger::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(OLD)
                .table(Ledger::Table)
                .col(Ledger::AccountId)
                .col(Ledger::Kind)
                .col(Ledger::Id)
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_ledger_grants")
            .await?;
        Ok(())
    }
}
