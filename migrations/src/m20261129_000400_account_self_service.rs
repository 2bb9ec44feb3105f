//! Account self-service (issue 15): one-time codes sent by WhatsApp (password reset, phone
//! verification), the account's display name and phone verification, and what the session
//! list shows about each signed-in device.
//!
//! - `one_time_codes`: a 6-digit code is never stored, only SHA-256 of a random per-code
//!   salt and the code (`code_hash`); `target` is the phone the code was sent to;
//!   `attempts` counts wrong tries (at most 5); `used_at` marks a code consumed or replaced
//!   by a newer one. Consuming is a conditional UPDATE (`used_at IS NULL AND attempts < 5`),
//!   so two instances cannot both accept one code.
//! - `accounts.name` (optional display name) and `accounts.phone_verified_at`.
//!   **Existing accounts are marked verified** (`phone_verified_at = created_at`): they were
//!   registered before verification existed and have been receiving their notifications on
//!   that number; stopping those messages, or nagging every existing customer, would do
//!   more harm than the small risk of a wrong number. New accounts start unverified.
//! - `sessions.last_seen_at`, `sessions.ip`, `sessions.user_agent` (NULL for sessions
//!   started before this migration).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    Id,
    AccountId,
    Purpose,
    Target,
    Salt,
    CodeHash,
    Attempts,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Name,
    PhoneVerifiedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    LastSeenAt,
    Ip,
    UserAgent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OneTimeCodes::Table)
                .col(
                    ColumnDef::new(OneTimeCodes::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(OneTimeCodes::AccountId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OneTimeCodes::Purpose)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OneTimeCodes::Target)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(OneTimeCodes::Salt).string_len(32).not_null())
                .col(
                    ColumnDef::new(OneTimeCodes::CodeHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OneTimeCodes::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(OneTimeCodes::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OneTimeCodes::ExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(OneTimeCodes::UsedAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(OneTimeCodes::Table, OneTimeCodes::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_one_time_codes_account_purpose")
                .table(OneTimeCodes::Table)
                .col(OneTimeCodes::AccountId)
                .col(OneTimeCodes::Purpose)
                .to_owned(),
        )
        .await?;

        // One column per statement: SQLite alters one at a time.
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(ColumnDef::new(Accounts::Name).string_len(64).null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(
                    ColumnDef::new(Accounts::PhoneVerifiedAt)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE accounts SET phone_verified_at = created_at")
            .await?;

        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(ColumnDef::new(Sessions::LastSeenAt).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(ColumnDef::new(Sessions::Ip).string_len(45).null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(ColumnDef::new(Sessions::UserAgent).string_len(256).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [Sessions::UserAgent, Sessions::Ip, Sessions::LastSeenAt] {
            m.alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [Accounts::PhoneVerifiedAt, Accounts::Name] {
            m.alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(OneTimeCodes::Table).to_owned())
            .await
    }
}
