//! The admin console (issue 12): indexes of the overview (accounts by creation and plan
//! expiry, paid orders by payment time), `usage_platform_hourly` (requests and credits per
//! hour and provider for the whole platform, backfilled from `usage_hourly`), the
//! append-only `audit_log` of every admin and operator
//! action, `accounts.suspended_at` (a suspended account keeps its data but cannot sign in
//! or use its keys), `catalog_disabled_models` (models an admin switched off; the catalog
//! loads without them) and `catalog_revision`, a counter every catalog edit raises in its
//! transaction so each instance notices the change and reloads (no restart).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    CreatedAt,
    ActorId,
    Actor,
    Ip,
    Action,
    TargetAccountId,
    Target,
    Before,
    After,
    Reason,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    SuspendedAt,
    CreatedAt,
    PlanExpiresAt,
    Plan,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Status,
    PaidAt,
}

#[derive(DeriveIden)]
enum CatalogDisabledModels {
    Table,
    Model,
}

#[derive(DeriveIden)]
enum UsagePlatformHourly {
    Table,
    Hour,
    Provider,
    Requests,
    Credits,
}

/// The platform's hours from the per-account rollups already there.
const BACKFILL: &str = "INSERT INTO usage_platform_hourly (hour, provider, requests, credits) \
    SELECT hour, provider, SUM(requests), SUM(credits) FROM usage_hourly GROUP BY hour, provider";

#[derive(DeriveIden)]
enum CatalogRevision {
    Table,
    Id,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(
                    ColumnDef::new(AuditLog::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(AuditLog::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(AuditLog::ActorId).big_integer().null())
                .col(ColumnDef::new(AuditLog::Actor).string_len(320).not_null())
                .col(ColumnDef::new(AuditLog::Ip).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                .col(
                    ColumnDef::new(AuditLog::TargetAccountId)
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(AuditLog::Target).string_len(320).null())
                .col(ColumnDef::new(AuditLog::Before).text().null())
                .col(ColumnDef::new(AuditLog::After).text().null())
                .col(ColumnDef::new(AuditLog::Reason).string_len(512).null())
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_audit_log_actor", AuditLog::ActorId),
            ("idx_audit_log_target", AuditLog::TargetAccountId),
            ("idx_audit_log_action", AuditLog::Action),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(AuditLog::Table)
                    .col(col)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(ColumnDef::new(Accounts::SuspendedAt).big_integer().null())
                .to_owned(),
        )
        .await?;
        // The admin overview: new accounts this week, active plans, paid orders by day.
        m.create_index(
            Index::create()
                .name("idx_accounts_created_at")
                .table(Accounts::Table)
                .col(Accounts::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_accounts_plan_expires")
                .table(Accounts::Table)
                .col(Accounts::PlanExpiresAt)
                .col(Accounts::Plan)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_orders_status_paid_at")
                .table(Orders::Table)
                .col(Orders::Status)
                .col(Orders::PaidAt)
                .to_owned(),
        )
        .await?;
        let n = |c: UsagePlatformHourly| ColumnDef::new(c).big_integer().not_null().to_owned();
        m.create_table(
            Table::create()
                .table(UsagePlatformHourly::Table)
                .col(n(UsagePlatformHourly::Hour))
                .col(
                    ColumnDef::new(UsagePlatformHourly::Provider)
                        .string_len(8)
                        .not_null(),
                )
                .col(n(UsagePlatformHourly::Requests))
                .col(n(UsagePlatformHourly::Credits))
                .primary_key(
                    Index::create()
                        .col(UsagePlatformHourly::Hour)
                        .col(UsagePlatformHourly::Provider),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(BACKFILL).await?;
        m.create_table(
            Table::create()
                .table(CatalogDisabledModels::Table)
                .col(
                    ColumnDef::new(CatalogDisabledModels::Model)
                        .string_len(128)
                        .not_null()
                        .primary_key(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogRevision::Table)
                .col(
                    ColumnDef::new(CatalogRevision::Id)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(CatalogRevision::Revision)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(CatalogRevision::Table)
                .columns([CatalogRevision::Id, CatalogRevision::Revision])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CatalogRevision::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(CatalogDisabledModels::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(UsagePlatformHourly::Table).to_owned())
            .await?;
        for (name, table) in [
            ("idx_orders_status_paid_at", Orders::Table.into_iden()),
            ("idx_accounts_plan_expires", Accounts::Table.into_iden()),
            ("idx_accounts_created_at", Accounts::Table.into_iden()),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .drop_column(Accounts::SuspendedAt)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
