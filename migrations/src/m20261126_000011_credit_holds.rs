//! Credit holds: a gateway instance sets aside a block of an account's credits and meters
//! requests against it in memory, so the hot path writes nothing before answering.
//! `accounts.held` is the sum of the account's live holds; credits that are held are not
//! spent (the balance and the ledger do not change) until requests are charged against
//! them. A hold that its instance stops renewing expires and is swept, so a crash frees
//! its credits within a minute.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Held,
}

#[derive(DeriveIden)]
enum CreditHolds {
    Table,
    Id,
    AccountId,
    Instance,
    Amount,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(
                    ColumnDef::new(Accounts::Held)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CreditHolds::Table)
                .col(
                    ColumnDef::new(CreditHolds::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(CreditHolds::AccountId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(CreditHolds::Instance)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(CreditHolds::Amount).big_integer().not_null())
                .col(
                    ColumnDef::new(CreditHolds::ExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(CreditHolds::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_credit_holds_expires")
                .table(CreditHolds::Table)
                .col(CreditHolds::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CreditHolds::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .drop_column(Accounts::Held)
                .to_owned(),
        )
        .await
    }
}
