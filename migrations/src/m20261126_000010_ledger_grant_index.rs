//! An index for "the account's last grant or purchase", which the gateway asks after every
//! settlement (credit warning thresholds): without it the query walks every ledger row of
//! the account, and heavy API users have one or two rows per request.
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_ledger_account_kind")
                .table(Ledger::Table)
                .col(Ledger::AccountId)
                .col(Ledger::Kind)
                .col(Ledger::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_ledger_account_kind")
                .table(Ledger::Table)
                .to_owned(),
        )
        .await
    }
}
