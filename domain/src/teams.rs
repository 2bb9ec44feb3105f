//! Teams for Enterprise accounts (TEAM-01..04).
//!
//! An account on an active plan of the highest tier ([`team_plan`], Enterprise) may name a
//! team and invite people to it by e-mail, with a role: `admin` (invite, remove, see all
//! usage) or `member` (own team keys, own usage); the owner is the one `owner`. An account
//! is in at most one team. Invitations last [`INVITATION_DAYS`], are single-use, can be
//! withdrawn, and are answered (accepted or declined) by the account with that address.
//!
//! E-mail addresses are never verified in this portal, so an address alone does not say
//! who the invitee is. An invitation to an address that **already has an account** is
//! shown to that account on `/team` (and announced on WhatsApp), and answered there. An
//! invitation to an address **nobody has registered yet** carries a single-use
//! [`InviteCode`] (192 random bits, base64url) returned once to the inviter, who passes it
//! on to the invitee themselves; only its SHA-256 is stored. Such an invitation is never
//! listed, announced or answerable by id: the account with that address joins with
//! [`accept_with_code`] (compared in constant time; [`CODE_TRIES_PER_HOUR`] tries per
//! account and hour), so whoever registers the address first cannot take the seat
//! without the code.
//!
//! A **team key** is an `api_keys` row whose `account_id` is the owner's (so the gateway
//! spends the owner's credits under the owner's plan, models and rate limit, exactly like
//! a personal key of the owner) with `team_id` and `member_id` naming who uses it; the
//! gateway refuses team keys while the owner's plan is not [`team_plan`] and writes the
//! member on each usage row. Removing a member (or leaving) revokes their team keys in
//! the same transaction and announces the revocation to every gateway instance.
use sea_orm::sea_query::{Expr, StringLen};
use sea_orm::ActiveEnum;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DeriveActiveEnum, EntityTrait, EnumIter,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::accounts::Account;
use crate::catalog::{Catalog, Plan};
use crate::entities::{account, api_key, team, team_invitation, team_member};
use crate::keys::KeyInfo;
use crate::validate::{Email, Label};
use crate::{events, keys, time, Error, ErrorCode, Services};

/// How long an invitation can be answered.
pub const INVITATION_DAYS: i64 = 7;
/// Tries at invitation codes an account gets per hour, right or wrong (in memory, per
/// instance, like the other hourly allowances in [`crate::rate`]; with 192-bit codes the
/// limit is a brake on scripts, not what keeps a code secret).
pub const CODE_TRIES_PER_HOUR: u32 = 5;
/// Random bytes of an invitation code: 32 base64url characters.
const CODE_BYTES: usize = 24;
const CODE_LEN: usize = 32;

/// An invitation code in clear: only between creating the invitation and showing it once
/// to the inviter. Never logged: it prints as `******`.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteCode(String);

impl std::fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteCode(******)")
    }
}

impl InviteCode {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The code in what the invitee pasted: the bare code, or the invitation link (its
/// `invite=` parameter); surrounding spaces are ignored. `None` when it cannot be a code.
pub fn normalize_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let code = match raw.find("invite=") {
        Some(at) => raw[at + "invite=".len()..]
            .split(['&', '#'])
            .next()
            .unwrap_or_default(),
        None => raw,
    };
    (code.len() == CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| code.to_owned())
}

/// A member's rights in the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TeamRole {
    /// Pays for the team; one per team; cannot be removed.
    #[sea_orm(string_value = "owner")]
    Owner,
    /// Invites and removes members, sees everyone's usage.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Uses the team: own team keys, own usage.
    #[sea_orm(string_value = "member")]
    Member,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Owner => "owner",
            TeamRole::Admin => "admin",
            TeamRole::Member => "member",
        }
    }

    /// May invite, withdraw, remove, and see every member's keys and usage.
    pub fn manages(self) -> bool {
        matches!(self, TeamRole::Owner | TeamRole::Admin)
    }

    /// A role an invitation may give (never `owner`).
    pub fn parse_invited(raw: &str) -> Result<Self, Error> {
        match raw.trim() {
            "admin" => Ok(TeamRole::Admin),
            "member" => Ok(TeamRole::Member),
            "owner" => Err(Error::invalid("role", ErrorCode::TeamOwner)),
            _ => Err(Error::invalid("role", ErrorCode::Required)),
        }
    }
}

/// Where an invitation stands. An invitation still `pending` after its `expires_at` is
/// expired (nothing rewrites it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum InvitationStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    pub created_at: i64,
}

impl From<team::Model> for Team {
    fn from(m: team::Model) -> Self {
        Self {
            id: m.id,
            owner_id: m.owner_id,
            name: m.name,
            created_at: m.created_at,
        }
    }
}

/// An account's place in its team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub team: Team,
    pub role: TeamRole,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: i64,
    pub email: String,
    pub role: TeamRole,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub team_id: i64,
    pub team_name: String,
    pub email: String,
    pub role: TeamRole,
    pub created_at: i64,
    pub expires_at: i64,
    /// Accepting it needs its code (it was sent to an address with no account).
    pub needs_code: bool,
    /// The code in clear: only in what [`invite`] returns, once.
    pub code: Option<InviteCode>,
}

/// One member's use of the team's keys in a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberUsage {
    pub member_id: i64,
    pub requests: i64,
    pub credits: i64,
}

/// The plan whose accounts may have teams: the highest one (Enterprise).
pub fn team_plan(catalog: &Catalog) -> &Plan {
    catalog
        .plans
        .iter()
        .max_by_key(|p| p.priority)
        .unwrap_or_else(|| catalog.lowest_plan())
}

/// Whether an account with this plan and expiry may have a team (and its team keys work)
/// at `now`.
pub fn plan_allows_teams(
    catalog: &Catalog,
    plan: Option<&str>,
    expires_at: Option<i64>,
    now: i64,
) -> bool {
    catalog.effective_plan(plan, expires_at, now).id == team_plan(catalog).id
}

pub fn allows_teams(svc: &Services, a: &Account) -> bool {
    plan_allows_teams(
        &svc.catalog,
        a.plan.as_deref(),
        a.plan_expires_at,
        time::now(),
    )
}

fn refused(code: ErrorCode) -> Error {
    Error::Refused(code)
}

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The team an account is in, with its role.
pub async fn membership<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Option<Membership>, Error> {
    let Some(m) = team_member::Entity::find()
        .filter(team_member::Column::AccountId.eq(account_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(t) = team::Entity::find_by_id(m.team_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(Membership {
        team: t.into(),
        role: m.role,
        joined_at: m.joined_at,
    }))
}

async fn membership_of(svc: &Services, actor: &Account) -> Result<Membership, Error> {
    membership(&svc.db, actor.id)
        .await?
        .ok_or(refused(ErrorCode::Forbidden))
}

/// The actor's team if the actor may manage it.
async fn managed_by(svc: &Services, actor: &Account) -> Result<Membership, Error> {
    let m = membership_of(svc, actor).await?;
    if m.role.manages() {
        Ok(m)
    } else {
        Err(refused(ErrorCode::Forbidden))
    }
}

/// The owner's account, refused unless its plan allows teams now.
async fn paying_owner(svc: &Services, team: &Team) -> Result<Account, Error> {
    let owner = crate::accounts::find(&svc.db, team.owner_id).await?;
    if allows_teams(svc, &owner) {
        Ok(owner)
    } else {
        Err(refused(ErrorCode::TeamPlanRequired))
    }
}

fn parse_name(raw: &str) -> Result<Label, Error> {
    Label::parse(raw).map_err(|e| match e {
        Error::Invalid { code, .. } => Error::invalid("name", code),
        other => other,
    })
}

/// The owner names the team (creating it the first time). Only an account whose plan
/// allows teams; an account that is a member of someone else's team cannot own one.
pub async fn name_team(svc: &Services, owner: &Account, name: &str) -> Result<Team, Error> {
    let name = parse_name(name)?;
    if !allows_teams(svc, owner) {
        return Err(refused(ErrorCode::TeamPlanRequired));
    }
    match membership(&svc.db, owner.id).await? {
        Some(m) if m.role == TeamRole::Owner => {
            team::Entity::update_many()
                .col_expr(team::Column::Name, Expr::value(name.as_str()))
                .filter(team::Column::Id.eq(m.team.id))
                .exec(&svc.db)
                .await?;
            Ok(Team {
                name: name.as_str().to_owned(),
                ..m.team
            })
        }
        Some(_) => Err(refused(ErrorCode::AlreadyInTeam)),
        None => {
            let now = time::now();
            let txn = crate::db::begin_write(&svc.db).await?;
            let t = team::Entity::insert(team::ActiveModel {
                owner_id: Set(owner.id),
                name: Set(name.as_str().to_owned()),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(&txn)
            .await;
            let t = match t {
                Ok(t) => t,
                Err(e) if is_unique_violation(&e) => return Err(refused(ErrorCode::AlreadyInTeam)),
                Err(e) => return Err(e.into()),
            };
            let joined = team_member::Entity::insert(team_member::ActiveModel {
                team_id: Set(t.id),
                account_id: Set(owner.id),
                role: Set(TeamRole::Owner),
                joined_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await;
            match joined {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Err(refused(ErrorCode::AlreadyInTeam)),
                Err(e) => return Err(e.into()),
            }
            txn.commit().await?;
            Ok(t.into())
        }
    }
}

/// The team's members, the owner first, then by joining date.
pub async fn members<C: ConnectionTrait>(db: &C, team_id: i64) -> Result<Vec<Member>, Error> {
    let rows = team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .order_by_asc(team_member::Column::JoinedAt)
        .order_by_asc(team_member::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.account_id).collect();
    let emails: std::collections::HashMap<i64, String> = account::Entity::find()
        .filter(account::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.email))
        .collect();
    let mut out: Vec<Member> = rows
        .into_iter()
        .map(|r| Member {
            email: emails.get(&r.account_id).cloned().unwrap_or_default(),
            account_id: r.account_id,
            role: r.role,
            joined_at: r.joined_at,
        })
        .collect();
    out.sort_by_key(|m| (m.role != TeamRole::Owner, m.joined_at));
    Ok(out)
}

/// An owner or admin invites `email` with `role` (admin or member). An existing account
/// with that address is told on WhatsApp (through the outbox, in the same transaction)
/// and answers on `/team`; for an address with no account the returned invitation
/// carries its code (`code`, the only time it is seen in clear), which the invitee needs
/// to join.
pub async fn invite(
    svc: &Services,
    actor: &Account,
    email: &str,
    role: &str,
) -> Result<Invitation, Error> {
    let m = match membership(&svc.db, actor.id).await? {
        Some(m) if m.role.manages() => m,
        Some(_) => return Err(refused(ErrorCode::Forbidden)),
        // No team: say what it takes to have one.
        None if !allows_teams(svc, actor) => return Err(refused(ErrorCode::TeamPlanRequired)),
        None => return Err(refused(ErrorCode::Forbidden)),
    };
    let owner = paying_owner(svc, &m.team).await?;
    let email = Email::parse(email)?;
    let role = TeamRole::parse_invited(role)?;
    if owner.email == email.as_str() {
        return Err(Error::invalid("email", ErrorCode::TeamOwner));
    }
    let invitee = account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .one(&svc.db)
        .await?;
    if let Some(a) = &invitee {
        if let Some(theirs) = membership(&svc.db, a.id).await? {
            if theirs.team.id == m.team.id {
                return Err(Error::invalid("email", ErrorCode::AlreadyInTeam));
            }
        }
    }
    let now = time::now();
    let pending = team_invitation::Entity::find()
        .filter(team_invitation::Column::TeamId.eq(m.team.id))
        .filter(team_invitation::Column::Email.eq(email.as_str()))
        .filter(team_invitation::Column::Status.eq(InvitationStatus::Pending))
        .filter(team_invitation::Column::ExpiresAt.gt(now))
        .count(&svc.db)
        .await?;
    if pending > 0 {
        return Err(Error::invalid("email", ErrorCode::AlreadyInvited));
    }
    // Nobody can be shown this invitation by address alone: it needs a code. (An account
    // registered between the look-up above and here only means a code is needed.)
    let code = invitee
        .is_none()
        .then(|| InviteCode(keys::random_token(CODE_BYTES)));
    let txn = crate::db::begin_write(&svc.db).await?;
    let inv = team_invitation::Entity::insert(team_invitation::ActiveModel {
        team_id: Set(m.team.id),
        email: Set(email.as_str().to_owned()),
        role: Set(role),
        invited_by: Set(actor.id),
        status: Set(InvitationStatus::Pending),
        created_at: Set(now),
        expires_at: Set(now + INVITATION_DAYS * 86_400),
        responded_at: Set(None),
        token_hash: Set(code.as_ref().map(|c| keys::sha256_hex(c.expose()))),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    if let Some(a) = &invitee {
        notify_invitee(&txn, &inv, &m.team.name, a.id).await?;
    }
    txn.commit().await?;
    Ok(Invitation {
        code,
        ..invitation(inv, m.team.name)
    })
}

async fn notify_invitee<C: ConnectionTrait>(
    conn: &C,
    inv: &team_invitation::Model,
    team_name: &str,
    account_id: i64,
) -> Result<(), Error> {
    let payload = serde_json::json!({
        "invitation_id": inv.id,
        "team": team_name,
        "role": inv.role.as_str(),
        "expires_at": inv.expires_at,
    });
    let key = format!("team_invitation:{}:{account_id}", inv.id);
    events::record(
        conn,
        events::Kind::TeamInvitation,
        Some(account_id),
        &key,
        payload,
    )
    .await?;
    Ok(())
}

fn invitation(m: team_invitation::Model, team_name: String) -> Invitation {
    Invitation {
        id: m.id,
        team_id: m.team_id,
        team_name,
        email: m.email,
        role: m.role,
        created_at: m.created_at,
        expires_at: m.expires_at,
        needs_code: m.token_hash.is_some(),
        code: None,
    }
}

/// The team's open invitations (pending, not expired), newest first: for its managers.
pub async fn open_invitations(svc: &Services, actor: &Account) -> Result<Vec<Invitation>, Error> {
    let m = managed_by(svc, actor).await?;
    Ok(team_invitation::Entity::find()
        .filter(team_invitation::Column::TeamId.eq(m.team.id))
        .filter(team_invitation::Column::Status.eq(InvitationStatus::Pending))
        .filter(team_invitation::Column::ExpiresAt.gt(time::now()))
        .order_by_desc(team_invitation::Column::Id)
        .all(&svc.db)
        .await?
        .into_iter()
        .map(|i| invitation(i, m.team.name.clone()))
        .collect())
}

/// An owner or admin withdraws an open invitation of their team.
pub async fn withdraw(svc: &Services, actor: &Account, invitation_id: i64) -> Result<(), Error> {
    let m = managed_by(svc, actor).await?;
    let res = team_invitation::Entity::update_many()
        .col_expr(
            team_invitation::Column::Status,
            Expr::value(InvitationStatus::Withdrawn.to_value()),
        )
        .col_expr(
            team_invitation::Column::RespondedAt,
            Expr::value(time::now()),
        )
        .filter(team_invitation::Column::Id.eq(invitation_id))
        .filter(team_invitation::Column::TeamId.eq(m.team.id))
        .filter(team_invitation::Column::Status.eq(InvitationStatus::Pending))
        .exec(&svc.db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(());
    }
    let exists = team_invitation::Entity::find_by_id(invitation_id)
        .filter(team_invitation::Column::TeamId.eq(m.team.id))
        .one(&svc.db)
        .await?;
    Err(match exists {
        Some(_) => refused(ErrorCode::InvitationClosed),
        None => Error::NotFound,
    })
}

/// The open invitations addressed to this account's e-mail that it may answer without a
/// code, newest first. An invitation with a code is not listed: the account holding the
/// address may not be the person it was meant for.
pub async fn invitations_for<C: ConnectionTrait>(
    db: &C,
    a: &Account,
) -> Result<Vec<Invitation>, Error> {
    let rows = team_invitation::Entity::find()
        .filter(team_invitation::Column::Email.eq(a.email.as_str()))
        .filter(team_invitation::Column::TokenHash.is_null())
        .filter(team_invitation::Column::Status.eq(InvitationStatus::Pending))
        .filter(team_invitation::Column::ExpiresAt.gt(time::now()))
        .order_by_desc(team_invitation::Column::Id)
        .all(db)
        .await?;
    let team_ids: Vec<i64> = rows.iter().map(|r| r.team_id).collect();
    let names: std::collections::HashMap<i64, String> = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let name = names.get(&r.team_id).cloned().unwrap_or_default();
            invitation(r, name)
        })
        .collect())
}

/// The invitee accepts (joining the team with the invitation's role) or declines.
/// Someone else's invitation is `NotFound`, and so is one that needs a code (answered
/// only with [`accept_with_code`]); a used or withdrawn one is refused, as is an expired
/// one; accepting needs the account to be in no team and the owner's plan to allow teams.
pub async fn respond(
    svc: &Services,
    a: &Account,
    invitation_id: i64,
    accept: bool,
) -> Result<Option<Membership>, Error> {
    let inv = team_invitation::Entity::find_by_id(invitation_id)
        .one(&svc.db)
        .await?
        .filter(|i| i.email == a.email && i.token_hash.is_none())
        .ok_or(Error::NotFound)?;
    answer(svc, a, inv, accept).await
}

/// The signed-in account joins the team of the invitation whose code it pasted (the bare
/// code or the invitation link). The invitation must be addressed to the account's
/// e-mail; a code that is malformed, unknown or another address's is the same
/// `InvalidInviteCode`, so a try never tells whether an invitation exists. Every try
/// counts against [`CODE_TRIES_PER_HOUR`] (then `TooManyInviteCodes`); a used, withdrawn
/// or expired invitation is refused as with [`respond`].
pub async fn accept_with_code(svc: &Services, a: &Account, raw: &str) -> Result<Membership, Error> {
    if raw.trim().is_empty() {
        return Err(Error::invalid("code", ErrorCode::Required));
    }
    svc.hourly
        .take(
            &format!("team-code:{}", a.id),
            CODE_TRIES_PER_HOUR,
            svc.clock.instant(),
        )
        .map_err(|_| {
            tracing::warn!(
                account = a.id,
                "team invitation code refused: too many tries"
            );
            refused(ErrorCode::TooManyInviteCodes)
        })?;
    let wrong = || {
        tracing::info!(account = a.id, "wrong team invitation code");
        Error::invalid("code", ErrorCode::InvalidInviteCode)
    };
    let Some(typed) = normalize_code(raw) else {
        return Err(wrong());
    };
    let typed = keys::sha256_hex(&typed);
    let mut found = None;
    for inv in team_invitation::Entity::find()
        .filter(team_invitation::Column::Email.eq(a.email.as_str()))
        .filter(team_invitation::Column::TokenHash.is_not_null())
        .all(&svc.db)
        .await?
    {
        let stored = inv.token_hash.as_deref().unwrap_or_default();
        if bool::from(stored.as_bytes().ct_eq(typed.as_bytes())) {
            found = Some(inv);
        }
    }
    let inv = found.ok_or_else(wrong)?;
    answer(svc, a, inv, true).await?.ok_or(Error::Internal(
        "an accepted invitation without a membership".into(),
    ))
}

/// Answers an invitation already known to be the account's to answer.
async fn answer(
    svc: &Services,
    a: &Account,
    inv: team_invitation::Model,
    accept: bool,
) -> Result<Option<Membership>, Error> {
    if inv.status != InvitationStatus::Pending {
        return Err(refused(ErrorCode::InvitationClosed));
    }
    let now = time::now();
    if inv.expires_at <= now {
        return Err(refused(ErrorCode::InvitationExpired));
    }
    let t: Team = team::Entity::find_by_id(inv.team_id)
        .one(&svc.db)
        .await?
        .ok_or(Error::NotFound)?
        .into();
    if accept {
        if membership(&svc.db, a.id).await?.is_some() {
            return Err(refused(ErrorCode::AlreadyInTeam));
        }
        paying_owner(svc, &t).await?;
    }
    let status = if accept {
        InvitationStatus::Accepted
    } else {
        InvitationStatus::Declined
    };
    let txn = crate::db::begin_write(&svc.db).await?;
    // Single use: only the first answer moves it out of `pending`.
    let res = team_invitation::Entity::update_many()
        .col_expr(
            team_invitation::Column::Status,
            Expr::value(status.to_value()),
        )
        .col_expr(team_invitation::Column::RespondedAt, Expr::value(now))
        .filter(team_invitation::Column::Id.eq(inv.id))
        .filter(team_invitation::Column::Status.eq(InvitationStatus::Pending))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(refused(ErrorCode::InvitationClosed));
    }
    if !accept {
        txn.commit().await?;
        return Ok(None);
    }
    let joined = team_member::Entity::insert(team_member::ActiveModel {
        team_id: Set(t.id),
        account_id: Set(a.id),
        role: Set(inv.role),
        joined_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await;
    match joined {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(refused(ErrorCode::AlreadyInTeam)),
        Err(e) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(Some(Membership {
        team: t,
        role: inv.role,
        joined_at: now,
    }))
}

/// An owner or admin removes a member (their own account: [`leave`]). The owner cannot be
/// removed. The member's team keys are revoked at once, on every instance.
pub async fn remove(svc: &Services, actor: &Account, member_id: i64) -> Result<(), Error> {
    if member_id == actor.id {
        return leave(svc, actor).await;
    }
    let m = managed_by(svc, actor).await?;
    let target = team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(m.team.id))
        .filter(team_member::Column::AccountId.eq(member_id))
        .one(&svc.db)
        .await?
        .ok_or(Error::NotFound)?;
    if target.role == TeamRole::Owner {
        return Err(refused(ErrorCode::TeamOwner));
    }
    end_membership(svc, m.team.id, member_id).await
}

/// A member (or admin) leaves the team; the owner cannot.
pub async fn leave(svc: &Services, a: &Account) -> Result<(), Error> {
    let m = membership(&svc.db, a.id).await?.ok_or(Error::NotFound)?;
    if m.role == TeamRole::Owner {
        return Err(refused(ErrorCode::TeamOwner));
    }
    end_membership(svc, m.team.id, a.id).await
}

async fn end_membership(svc: &Services, team_id: i64, member_id: i64) -> Result<(), Error> {
    let txn = crate::db::begin_write(&svc.db).await?;
    let gone = team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::AccountId.eq(member_id))
        .filter(team_member::Column::Role.ne(TeamRole::Owner))
        .exec(&txn)
        .await?;
    if gone.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    let ids = revoke_team_keys(&txn, team_id, Some(member_id)).await?;
    txn.commit().await?;
    keys::announce_revoked(&ids);
    Ok(())
}

/// Revokes the live team keys of a team (of one member, or all); returns their ids.
async fn revoke_team_keys<C: ConnectionTrait>(
    conn: &C,
    team_id: i64,
    member_id: Option<i64>,
) -> Result<Vec<i64>, Error> {
    let mut find = api_key::Entity::find()
        .select_only()
        .column(api_key::Column::Id)
        .filter(api_key::Column::TeamId.eq(team_id))
        .filter(api_key::Column::RevokedAt.is_null());
    if let Some(m) = member_id {
        find = find.filter(api_key::Column::MemberId.eq(m));
    }
    let ids: Vec<i64> = find.into_tuple().all(conn).await?;
    if !ids.is_empty() {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(time::now()))
            .filter(api_key::Column::Id.is_in(ids.clone()))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
    }
    Ok(ids)
}

/// A member creates a team key (label; the secret returned once): it spends the owner's
/// credits. At most the plan's `max_keys` live team keys per member.
pub async fn create_key(
    svc: &Services,
    a: &Account,
    label: &str,
) -> Result<(KeyInfo, String), Error> {
    let label = Label::parse(label)?;
    let m = membership_of(svc, a).await?;
    let owner = paying_owner(svc, &m.team).await?;
    let plan =
        svc.catalog
            .effective_plan(owner.plan.as_deref(), owner.plan_expires_at, time::now());
    let live = api_key::Entity::find()
        .filter(api_key::Column::TeamId.eq(m.team.id))
        .filter(api_key::Column::MemberId.eq(a.id))
        .filter(api_key::Column::RevokedAt.is_null())
        .count(&svc.db)
        .await?;
    if live >= u64::from(plan.max_keys) {
        return Err(Error::invalid("label", ErrorCode::KeyLimitReached));
    }
    let (info, secret) = keys::insert(&svc.db, owner.id, Some((m.team.id, a.id)), &label).await?;
    // A removal that ran between the check above and the insert did not see this key:
    // look again now that it is written, and take it back if the member is gone.
    let still = membership(&svc.db, a.id).await?;
    if still.is_none_or(|s| s.team.id != m.team.id) {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(time::now()))
            .filter(api_key::Column::Id.eq(info.id))
            .exec(&svc.db)
            .await?;
        keys::announce_revoked(&[info.id]);
        return Err(refused(ErrorCode::Forbidden));
    }
    Ok((info, secret))
}

/// The live team keys a member may see: their own, or for managers every member's.
pub async fn visible_keys(svc: &Services, a: &Account) -> Result<Vec<KeyInfo>, Error> {
    let m = membership_of(svc, a).await?;
    let mut find = api_key::Entity::find()
        .filter(api_key::Column::TeamId.eq(m.team.id))
        .filter(api_key::Column::RevokedAt.is_null());
    if !m.role.manages() {
        find = find.filter(api_key::Column::MemberId.eq(a.id));
    }
    Ok(find
        .order_by_desc(api_key::Column::Id)
        .all(&svc.db)
        .await?
        .into_iter()
        .map(KeyInfo::from)
        .collect())
}

/// Revokes a team key: the member's own, or any of the team's for its managers.
pub async fn revoke_key(svc: &Services, a: &Account, key_id: i64) -> Result<(), Error> {
    let m = membership_of(svc, a).await?;
    let key = api_key::Entity::find_by_id(key_id)
        .filter(api_key::Column::TeamId.eq(m.team.id))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(&svc.db)
        .await?
        .ok_or(Error::NotFound)?;
    if key.member_id != Some(a.id) && !m.role.manages() {
        return Err(Error::NotFound);
    }
    let res = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(time::now()))
        .filter(api_key::Column::Id.eq(key.id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&svc.db)
        .await?;
    if res.rows_affected == 1 {
        keys::announce_revoked(&[key.id]);
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Requests and credits per member and Kuwait day in `[from, to)` (Kuwait midnights),
/// from the hourly usage rollups of the members' team keys (revoked keys included):
/// every member for managers, only their own for members. Sorted by member, then day.
pub async fn usage_by_member_and_day(
    svc: &Services,
    a: &Account,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, crate::rollup::Totals)>, Error> {
    use crate::rollup::{query, GroupBy, Scope, Step};
    let m = membership_of(svc, a).await?;
    let mut find = api_key::Entity::find()
        .select_only()
        .column(api_key::Column::Id)
        .column(api_key::Column::MemberId)
        .filter(api_key::Column::TeamId.eq(m.team.id));
    if !m.role.manages() {
        find = find.filter(api_key::Column::MemberId.eq(a.id));
    }
    let keys: Vec<(i64, Option<i64>)> = find.into_tuple().all(&svc.db).await?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let member_of: std::collections::HashMap<i64, i64> = keys
        .iter()
        .filter_map(|(k, m)| m.map(|m| (*k, m)))
        .collect();
    let scope = Scope {
        account_id: Some(m.team.owner_id),
        key_ids: Some(keys.iter().map(|k| k.0).collect()),
        from,
        to,
    };
    let group = GroupBy {
        step: Some(Step::Day),
        key: true,
        ..GroupBy::default()
    };
    let mut sums: std::collections::BTreeMap<(i64, i64), crate::rollup::Totals> =
        Default::default();
    for b in query(&svc.db, &scope, group).await? {
        let (Some(day), Some(key)) = (b.start, b.key_id) else {
            continue;
        };
        let Some(member) = member_of.get(&key) else {
            continue;
        };
        let t = sums.entry((*member, day)).or_default();
        t.requests += b.totals.requests;
        t.errors += b.totals.errors;
        t.prompt_tokens += b.totals.prompt_tokens;
        t.completion_tokens += b.totals.completion_tokens;
        t.credits = t.credits.saturating_add(b.totals.credits);
    }
    Ok(sums.into_iter().map(|((m, d), t)| (m, d, t)).collect())
}

/// Requests and credits per member through the team's keys in `[from, to)` (Kuwait
/// midnights; from the hourly rollups): every member for managers, only their own for
/// members.
pub async fn usage_by_member(
    svc: &Services,
    a: &Account,
    from: i64,
    to: i64,
) -> Result<Vec<MemberUsage>, Error> {
    let mut sums: std::collections::BTreeMap<i64, MemberUsage> = Default::default();
    for (member, _, t) in usage_by_member_and_day(svc, a, from, to).await? {
        let e = sums.entry(member).or_insert(MemberUsage {
            member_id: member,
            ..Default::default()
        });
        e.requests += t.requests;
        e.credits = e.credits.saturating_add(t.credits);
    }
    Ok(sums.into_values().collect())
}

/// A newly registered account: the open invitations to its address that need no code
/// are announced to it on WhatsApp. Runs in the registration's transaction.
///
/// Invitations with a code — every invitation sent while the address had no account —
/// are deliberately *not* announced: addresses are not verified, so the registrant may
/// not be the person the owner meant, and an announcement would tell them the team's name
/// and that an invitation exists. The real invitee hears of it from the inviter, who
/// hands over the code (or link), and joins with it on `/team`.
pub async fn on_registered<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
    email: &str,
) -> Result<(), Error> {
    let rows = team_invitation::Entity::find()
        .filter(team_invitation::Column::Email.eq(email))
        .filter(team_invitation::Column::TokenHash.is_null())
        .filter(team_invitation::Column::Status.eq(InvitationStatus::Pending))
        .filter(team_invitation::Column::ExpiresAt.gt(time::now()))
        .all(conn)
        .await?;
    for inv in rows {
        let name = team::Entity::find_by_id(inv.team_id)
            .one(conn)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        notify_invitee(conn, &inv, &name, account_id).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
