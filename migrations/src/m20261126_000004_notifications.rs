//! WhatsApp notifications (NOTIF in PRODUCT.md) and the bans fail2ban reports.
//!
//! - `notifications`: one row per event that calls for a message, written in the event's
//!   own transaction (so it is never lost and never written twice: `event_key` is the
//!   event's dedupe key). The worker expands it into `outbox` rows.
//! - `outbox`: one row per message (recipient × language), with its delivery state.
//! - `ip_bans`: what fail2ban banned, as reported to the portal.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    EventKey,
    Kind,
    AccountId,
    Payload,
    CreatedAt,
    ExpandedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    NotificationId,
    Kind,
    AccountId,
    Recipient,
    Lang,
    Template,
    Params,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    Claim,
    LockedUntil,
    LastError,
    ProviderMessageId,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum IpBans {
    Table,
    Id,
    Jail,
    Ip,
    Username,
    Failures,
    BannedAt,
    Bantime,
    UnbannedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(pk(Notifications::Id))
                .col(
                    ColumnDef::new(Notifications::EventKey)
                        .string_len(128)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Notifications::Kind)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Notifications::AccountId)
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(Notifications::Payload).text().not_null())
                .col(
                    ColumnDef::new(Notifications::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Notifications::ExpandedAt)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_expanded")
                .table(Notifications::Table)
                .col(Notifications::ExpandedAt)
                .col(Notifications::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(pk(Outbox::Id))
                .col(
                    ColumnDef::new(Outbox::NotificationId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Outbox::Kind).string_len(32).not_null())
                .col(ColumnDef::new(Outbox::AccountId).big_integer().null())
                .col(ColumnDef::new(Outbox::Recipient).string_len(20).not_null())
                .col(ColumnDef::new(Outbox::Lang).string_len(8).not_null())
                .col(ColumnDef::new(Outbox::Template).string_len(64).not_null())
                .col(ColumnDef::new(Outbox::Params).text().not_null())
                .col(ColumnDef::new(Outbox::Body).text().not_null())
                .col(ColumnDef::new(Outbox::Status).string_len(16).not_null())
                .col(
                    ColumnDef::new(Outbox::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Outbox::NextAttemptAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Outbox::Claim).string_len(32).null())
                .col(ColumnDef::new(Outbox::LockedUntil).big_integer().null())
                .col(ColumnDef::new(Outbox::LastError).text().null())
                .col(
                    ColumnDef::new(Outbox::ProviderMessageId)
                        .string_len(256)
                        .null(),
                )
                .col(ColumnDef::new(Outbox::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Outbox::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(Outbox::SentAt).big_integer().null())
                .to_owned(),
        )
        .await?;
        // One message per recipient and language of a notification, whoever expands it.
        m.create_index(
            Index::create()
                .name("idx_outbox_message")
                .table(Outbox::Table)
                .col(Outbox::NotificationId)
                .col(Outbox::Recipient)
                .col(Outbox::Lang)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_outbox_due")
                .table(Outbox::Table)
                .col(Outbox::Status)
                .col(Outbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_outbox_created")
                .table(Outbox::Table)
                .col(Outbox::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IpBans::Table)
                .col(pk(IpBans::Id))
                .col(ColumnDef::new(IpBans::Jail).string_len(64).not_null())
                .col(ColumnDef::new(IpBans::Ip).string_len(64).not_null())
                .col(ColumnDef::new(IpBans::Username).string_len(254).null())
                .col(ColumnDef::new(IpBans::Failures).integer().not_null())
                .col(ColumnDef::new(IpBans::BannedAt).big_integer().not_null())
                .col(ColumnDef::new(IpBans::Bantime).big_integer().not_null())
                .col(ColumnDef::new(IpBans::UnbannedAt).big_integer().null())
                .col(ColumnDef::new(IpBans::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ip_bans_ban")
                .table(IpBans::Table)
                .col(IpBans::Jail)
                .col(IpBans::Ip)
                .col(IpBans::BannedAt)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IpBans::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Notifications::Table).to_owned())
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
