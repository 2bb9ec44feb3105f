//! Teams for Enterprise accounts (TEAM-01..04):
//! - `teams`: one per owner account, with its name;
//! - `team_members`: who is in a team and with which role (`owner`, `admin`, `member`);
//!   an account is in at most one team;
//! - `team_invitations`: an invitation by e-mail with a role, pending for 7 days, then
//!   accepted, declined, withdrawn (or expired by its date); single-use;
//! - `api_keys.team_id` / `api_keys.member_id`: a team key is owned by a member
//!   (`member_id`) but its `account_id` is the team owner's account, whose credits, plan and
//!   rate limit it uses; personal keys have both NULL;
//! - `api_usage.member_id`: the member whose team key made the request (NULL otherwise).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    OwnerId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    TeamId,
    AccountId,
    Role,
    JoinedAt,
}

#[derive(DeriveIden)]
enum TeamInvitations {
    Table,
    Id,
    TeamId,
    Email,
    Role,
    InvitedBy,
    Status,
    CreatedAt,
    ExpiresAt,
    RespondedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TeamId,
    MemberId,
}

#[derive(DeriveIden)]
enum ApiUsage {
    Table,
    MemberId,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Teams::Table)
                .col(id(Teams::Id))
                .col(ColumnDef::new(Teams::OwnerId).big_integer().not_null())
                .col(ColumnDef::new(Teams::Name).string_len(64).not_null())
                .col(ColumnDef::new(Teams::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_teams_owner")
                .table(Teams::Table)
                .col(Teams::OwnerId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(id(TeamMembers::Id))
                .col(ColumnDef::new(TeamMembers::TeamId).big_integer().not_null())
                .col(
                    ColumnDef::new(TeamMembers::AccountId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(TeamMembers::Role).string_len(16).not_null())
                .col(
                    ColumnDef::new(TeamMembers::JoinedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        // An account is in at most one team.
        m.create_index(
            Index::create()
                .name("idx_team_members_account")
                .table(TeamMembers::Table)
                .col(TeamMembers::AccountId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_team_members_team")
                .table(TeamMembers::Table)
                .col(TeamMembers::TeamId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TeamInvitations::Table)
                .col(id(TeamInvitations::Id))
                .col(
                    ColumnDef::new(TeamInvitations::TeamId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::Email)
                        .string_len(254)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::Role)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::InvitedBy)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::ExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TeamInvitations::RespondedAt)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_team_invitations_email")
                .table(TeamInvitations::Table)
                .col(TeamInvitations::Email)
                .col(TeamInvitations::Status)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_team_invitations_team")
                .table(TeamInvitations::Table)
                .col(TeamInvitations::TeamId)
                .col(TeamInvitations::Status)
                .to_owned(),
        )
        .await?;
        // One column per statement: SQLite alters one at a time.
        for col in [ApiKeys::TeamId, ApiKeys::MemberId] {
            m.alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(ColumnDef::new(col).big_integer().null())
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_api_keys_team_member")
                .table(ApiKeys::Table)
                .col(ApiKeys::TeamId)
                .col(ApiKeys::MemberId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiUsage::Table)
                .add_column(ColumnDef::new(ApiUsage::MemberId).big_integer().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiUsage::Table)
                .drop_column(ApiUsage::MemberId)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_api_keys_team_member")
                .table(ApiKeys::Table)
                .to_owned(),
        )
        .await?;
        for col in [ApiKeys::MemberId, ApiKeys::TeamId] {
            m.alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for t in [
            TeamInvitations::Table.into_iden(),
            TeamMembers::Table.into_iden(),
            Teams::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
