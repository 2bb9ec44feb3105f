//! The `team_invitations` table: invitations by e-mail, single-use, 7 days.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "team_invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub team_id: i64,
    /// The invitee's address, normalised like account e-mails.
    pub email: String,
    pub role: crate::teams::TeamRole,
    pub invited_by: i64,
    pub status: crate::teams::InvitationStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub responded_at: Option<i64>,
    /// SHA-256 (hex) of the single-use invitation code, for an invitation to an address
    /// that had no account when it was sent; NULL otherwise (see `teams::invite`).
    pub token_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
