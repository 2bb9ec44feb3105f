//! Accounts, their server-side sessions, API keys and the credit ledger.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Email,
    Phone,
    PasswordHash,
    Role,
    Plan,
    PlanExpiresAt,
    Credits,
    Lang,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    AccountId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    AccountId,
    Label,
    Prefix,
    KeyHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Ledger {
    Table,
    Id,
    AccountId,
    Delta,
    BalanceAfter,
    Kind,
    Reason,
    Reference,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .col(pk(Accounts::Id))
                .col(
                    ColumnDef::new(Accounts::Email)
                        .string_len(254)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Accounts::Phone)
                        .string_len(16)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Accounts::PasswordHash).string().not_null())
                .col(
                    ColumnDef::new(Accounts::Role)
                        .string_len(16)
                        .not_null()
                        .default("user"),
                )
                .col(ColumnDef::new(Accounts::Plan).string_len(32).null())
                .col(ColumnDef::new(Accounts::PlanExpiresAt).big_integer().null())
                .col(
                    ColumnDef::new(Accounts::Credits)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Accounts::Lang)
                        .string_len(2)
                        .not_null()
                        .default("ar"),
                )
                .col(ColumnDef::new(Accounts::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(pk(Sessions::Id))
                .col(
                    ColumnDef::new(Sessions::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Sessions::AccountId).big_integer().not_null())
                .col(ColumnDef::new(Sessions::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Sessions::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(Sessions::RevokedAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(pk(ApiKeys::Id))
                .col(ColumnDef::new(ApiKeys::AccountId).big_integer().not_null())
                .col(ColumnDef::new(ApiKeys::Label).string_len(64).not_null())
                .col(ColumnDef::new(ApiKeys::Prefix).string_len(12).not_null())
                .col(
                    ColumnDef::new(ApiKeys::KeyHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(ApiKeys::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(ApiKeys::LastUsedAt).big_integer().null())
                .col(ColumnDef::new(ApiKeys::RevokedAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiKeys::Table, ApiKeys::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_api_keys_account")
                .table(ApiKeys::Table)
                .col(ApiKeys::AccountId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Ledger::Table)
                .col(pk(Ledger::Id))
                .col(ColumnDef::new(Ledger::AccountId).big_integer().not_null())
                .col(ColumnDef::new(Ledger::Delta).big_integer().not_null())
                .col(
                    ColumnDef::new(Ledger::BalanceAfter)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Ledger::Kind).string_len(16).not_null())
                .col(ColumnDef::new(Ledger::Reason).string_len(256).null())
                .col(ColumnDef::new(Ledger::Reference).string_len(64).null())
                .col(ColumnDef::new(Ledger::CreatedAt).big_integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Ledger::Table, Ledger::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ledger_account")
                .table(Ledger::Table)
                .col(Ledger::AccountId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Ledger::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Sessions::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
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
