//! Database migrations, one file per change; a file is never edited after it lands.
//! They run at server start and with `resayil migrate`, on SQLite and PostgreSQL alike.
//! No migration reads a file that can change: seed data is frozen beside the migration
//! (`seeds/`). Later changes of `catalog/catalog.toml` reach a database through
//! `resayil catalog sync`.
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_accounts;
mod m20261126_000002_gateway;
mod m20261126_000003_payments;
mod m20261126_000004_notifications;
mod m20261126_000010_ledger_grant_index;
mod m20261126_000011_credit_holds;
mod m20261126_000020_catalog;
mod m20261127_000030_lower_welcome_grant;
mod m20261129_000030_request_limits;
mod m20261129_000100_usage_hourly;
mod m20261129_000150_usage_playground;
mod m20261129_000200_admin_console;
mod m20261129_000300_teams;
mod m20261129_000400_account_self_service;
mod m20261130_000100_team_member_keys;
mod m20261205_000100_team_invitation_tokens;
mod m20261206_000100_drop_usage_time_index;
mod m20261206_000200_ledger_grant_partial_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261126_000002_gateway::Migration),
            Box::new(m20261126_000003_payments::Migration),
            Box::new(m20261126_000004_notifications::Migration),
            Box::new(m20261126_000010_ledger_grant_index::Migration),
            Box::new(m20261126_000011_credit_holds::Migration),
            Box::new(m20261126_000020_catalog::Migration),
            Box::new(m20261127_000030_lower_welcome_grant::Migration),
            Box::new(m20261129_000030_request_limits::Migration),
            Box::new(m20261129_000100_usage_hourly::Migration),
            Box::new(m20261129_000150_usage_playground::Migration),
            Box::new(m20261129_000200_admin_console::Migration),
            Box::new(m20261129_000300_teams::Migration),
            Box::new(m20261129_000400_account_self_service::Migration),
            Box::new(m20261130_000100_team_member_keys::Migration),
            Box::new(m20261205_000100_team_invitation_tokens::Migration),
            Box::new(m20261206_000100_drop_usage_time_index::Migration),
            Box::new(m20261206_000200_ledger_grant_partial_index::Migration),
        ]
    }
}
