//! Invitations to an address nobody has registered yet carry a secret (issue 13): e-mail
//! addresses are never verified here, so without one such an invitation would complete
//! for whoever registers that address first.
//! - `team_invitations.token_hash`: SHA-256 (hex) of the invitation's single-use code,
//!   given once to the inviter, who passes it to the invitee; NULL for an invitation to
//!   an address that had an account when it was sent (answered on `/team` without a code).
//! - Pending invitations (from before this change) to an address that still has no
//!   account are withdrawn: they have no code, so nobody could safely accept them; the
//!   owner invites again and gets a code.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TeamInvitations {
    Table,
    TokenHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(TeamInvitations::Table)
                .add_column(
                    ColumnDef::new(TeamInvitations::TokenHash)
                        .string_len(64)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE team_invitations SET status = 'withdrawn' \
                 WHERE status = 'pending' AND token_hash IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM accounts WHERE accounts.email = team_invitations.email)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(TeamInvitations::Table)
                .drop_column(TeamInvitations::TokenHash)
                .to_owned(),
        )
        .await
    }
}
