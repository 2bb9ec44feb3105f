//! The admin console (issue 12): the append-only `audit_log` of every admin and operator
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
}

#[derive(DeriveIden)]
enum CatalogDisabledModels {
    Table,
    Model,
}

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
