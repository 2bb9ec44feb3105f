//! The welcome grant drops from 1,000 to 100 credits (security issue 9: 25 throwaway
//! accounts collected 25,000 free credits). `catalog/catalog.toml` now says 100; the
//! catalog migration's frozen seed says 1000, so every database — fresh or seeded before —
//! is lowered here, unless an operator had already chosen another value.
//! `WELCOME_CREDITS` overrides either at run time.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE catalog_values SET value = '100' \
                 WHERE name = 'welcome_credits' AND value = '1000'",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE catalog_values SET value = '1000' \
                 WHERE name = 'welcome_credits' AND value = '100'",
            )
            .await
            .map(|_| ())
    }
}
