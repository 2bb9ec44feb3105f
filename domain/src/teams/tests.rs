//! The rules of teams: the invitation lifecycle, every refusal (each changing nothing),
//! team keys on the owner's account, and removal revoking them at once.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::*;
use crate::testing::{each_db, enterprise_account, new_account, unique_email, unique_phone};

/// The code of a refusal (field error, refusal, or not found).
fn code<T: std::fmt::Debug>(res: Result<T, Error>) -> ErrorCode {
    match res {
        Err(Error::Invalid { code, .. }) | Err(Error::Refused(code)) => code,
        Err(Error::NotFound) => ErrorCode::NotFound,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Invitations sent by `inviter`'s team (the PostgreSQL database is shared by tests
/// running at the same time: never count the whole table).
async fn invitation_rows(svc: &Services, inviter: &Account) -> u64 {
    let team_id = membership(&svc.db, inviter.id)
        .await
        .unwrap()
        .map_or(-1, |m| m.team.id);
    team_invitation::Entity::find()
        .filter(team_invitation::Column::TeamId.eq(team_id))
        .count(&svc.db)
        .await
        .unwrap()
}

async fn events_for(svc: &Services, account_id: i64) -> Vec<crate::entities::event::Model> {
    crate::entities::event::Entity::find()
        .filter(crate::entities::event::Column::AccountId.eq(account_id))
        .filter(crate::entities::event::Column::Kind.eq("team_invitation"))
        .all(&svc.db)
        .await
        .unwrap()
}

/// An Enterprise owner with a named team, and a member who accepted an invitation.
async fn team_with_member(svc: &Services, credits: i64) -> (Account, Account) {
    let owner = enterprise_account(svc, credits).await;
    name_team(svc, &owner, "Acme AI").await.unwrap();
    let member = new_account(svc).await;
    let inv = invite(svc, &owner, &member.email, "member").await.unwrap();
    respond(svc, &member, inv.id, true).await.unwrap();
    (owner, member)
}

#[tokio::test]
async fn an_invitation_is_sent_seen_accepted_once_and_notified() {
    each_db(|svc| async move {
        let owner = enterprise_account(&svc, 1000).await;
        let t = name_team(&svc, &owner, "  Acme AI ").await.unwrap();
        assert_eq!(t.name, "Acme AI");
        assert_eq!(name_team(&svc, &owner, "Acme").await.unwrap().id, t.id);
        let sara = new_account(&svc).await;
        let inv = invite(&svc, &owner, &sara.email.to_uppercase(), "admin")
            .await
            .unwrap();
        assert_eq!(
            (inv.email.as_str(), inv.role),
            (sara.email.as_str(), TeamRole::Admin)
        );
        assert_eq!(inv.expires_at - inv.created_at, 7 * 86_400);
        // The invitee is told on WhatsApp, through an event (and so the outbox).
        let ev = events_for(&svc, sara.id).await;
        assert_eq!(ev.len(), 1);
        assert!(ev[0].payload.contains("Acme"), "{}", ev[0].payload);
        assert_eq!(open_invitations(&svc, &owner).await.unwrap().len(), 1);
        let mine = invitations_for(&svc.db, &sara).await.unwrap();
        assert_eq!((mine.len(), mine[0].team_name.as_str()), (1, "Acme"));

        let joined = respond(&svc, &sara, inv.id, true).await.unwrap().unwrap();
        assert_eq!((joined.team.id, joined.role), (t.id, TeamRole::Admin));
        assert!(invitations_for(&svc.db, &sara).await.unwrap().is_empty());
        assert!(open_invitations(&svc, &owner).await.unwrap().is_empty());
        // Single use.
        assert_eq!(
            code(respond(&svc, &sara, inv.id, true).await),
            ErrorCode::InvitationClosed
        );
        assert_eq!(
            code(respond(&svc, &sara, inv.id, false).await),
            ErrorCode::InvitationClosed
        );
        let list = members(&svc.db, t.id).await.unwrap();
        let roles: Vec<_> = list.iter().map(|m| (m.email.clone(), m.role)).collect();
        assert_eq!(
            roles,
            vec![
                (owner.email.clone(), TeamRole::Owner),
                (sara.email.clone(), TeamRole::Admin)
            ]
        );
        // An admin invites too; a declined invitation leaves the invitee outside.
        let omar = new_account(&svc).await;
        let inv2 = invite(&svc, &sara, &omar.email, "member").await.unwrap();
        assert!(respond(&svc, &omar, inv2.id, false)
            .await
            .unwrap()
            .is_none());
        assert!(membership(&svc.db, omar.id).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn every_bad_invitation_is_refused_and_changes_nothing() {
    each_db(|svc| async move {
        let (owner, member) = team_with_member(&svc, 1000).await;
        let stranger = new_account(&svc).await;
        let before = invitation_rows(&svc, &owner).await;
        assert_eq!(
            code(invite(&svc, &owner, "not-an-email", "member").await),
            ErrorCode::InvalidEmail
        );
        assert_eq!(
            code(invite(&svc, &owner, "", "member").await),
            ErrorCode::Required
        );
        assert_eq!(
            code(invite(&svc, &owner, &owner.email, "member").await),
            ErrorCode::TeamOwner
        );
        assert_eq!(
            code(invite(&svc, &owner, &member.email, "admin").await),
            ErrorCode::AlreadyInTeam
        );
        assert_eq!(
            code(invite(&svc, &owner, &stranger.email, "owner").await),
            ErrorCode::TeamOwner
        );
        assert_eq!(
            code(invite(&svc, &owner, &stranger.email, "boss").await),
            ErrorCode::Required
        );
        // A member may not do an admin's work; a stranger has no team.
        assert_eq!(
            code(invite(&svc, &member, &stranger.email, "member").await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(invite(&svc, &stranger, &unique_email(), "member").await),
            ErrorCode::TeamPlanRequired
        );
        // On Enterprise but without a team yet: nothing to invite to.
        let no_team = enterprise_account(&svc, 10).await;
        assert_eq!(
            code(invite(&svc, &no_team, &unique_email(), "member").await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(open_invitations(&svc, &member).await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(remove(&svc, &member, owner.id).await),
            ErrorCode::Forbidden
        );
        // The owner cannot be removed, nor leave.
        assert_eq!(code(leave(&svc, &owner).await), ErrorCode::TeamOwner);
        assert_eq!(
            code(remove(&svc, &owner, owner.id).await),
            ErrorCode::TeamOwner
        );
        assert_eq!(invitation_rows(&svc, &owner).await, before);
        assert!(membership(&svc.db, member.id).await.unwrap().is_some());

        // Not on Enterprise: no team.
        let basic = new_account(&svc).await;
        assert_eq!(
            code(name_team(&svc, &basic, "Mine").await),
            ErrorCode::TeamPlanRequired
        );
        assert_eq!(code(name_team(&svc, &owner, "").await), ErrorCode::Required);
        // Someone in a team cannot own one.
        let other_owner = enterprise_account(&svc, 10).await;
        let inv = invite(&svc, &owner, &other_owner.email, "member")
            .await
            .unwrap();
        respond(&svc, &other_owner, inv.id, true).await.unwrap();
        assert_eq!(
            code(name_team(&svc, &other_owner, "Mine").await),
            ErrorCode::AlreadyInTeam
        );

        // A second invitation to an address with one pending.
        let inv = invite(&svc, &owner, &stranger.email, "member")
            .await
            .unwrap();
        assert_eq!(
            code(invite(&svc, &owner, &stranger.email, "member").await),
            ErrorCode::AlreadyInvited
        );
        // Someone else's invitation.
        assert_eq!(
            code(respond(&svc, &basic, inv.id, true).await),
            ErrorCode::NotFound
        );
        assert_eq!(
            code(respond(&svc, &basic, 9_999_999, true).await),
            ErrorCode::NotFound
        );
        // Only the team's managers withdraw it.
        assert_eq!(
            code(withdraw(&svc, &member, inv.id).await),
            ErrorCode::Forbidden
        );
        withdraw(&svc, &owner, inv.id).await.unwrap();
        assert_eq!(
            code(withdraw(&svc, &owner, inv.id).await),
            ErrorCode::InvitationClosed
        );
        assert_eq!(
            code(respond(&svc, &stranger, inv.id, true).await),
            ErrorCode::InvitationClosed
        );
        assert!(membership(&svc.db, stranger.id).await.unwrap().is_none());

        // Expired after 7 days.
        let inv = invite(&svc, &owner, &stranger.email, "member")
            .await
            .unwrap();
        team_invitation::Entity::update_many()
            .col_expr(
                team_invitation::Column::ExpiresAt,
                Expr::value(time::now() - 1),
            )
            .filter(team_invitation::Column::Id.eq(inv.id))
            .exec(&svc.db)
            .await
            .unwrap();
        assert_eq!(
            code(respond(&svc, &stranger, inv.id, true).await),
            ErrorCode::InvitationExpired
        );
        assert!(invitations_for(&svc.db, &stranger)
            .await
            .unwrap()
            .is_empty());
        assert!(membership(&svc.db, stranger.id).await.unwrap().is_none());
        // ... and a new one can then be sent.
        invite(&svc, &owner, &stranger.email, "member")
            .await
            .unwrap();
    })
    .await;
}

/// Registers `email` (as anyone could: addresses are not verified).
async fn register_as(svc: &Services, email: &str) -> Account {
    crate::accounts::register(
        svc,
        crate::accounts::NewAccount {
            email,
            phone: &unique_phone(),
            password: "password1",
            lang: "en",
        },
    )
    .await
    .unwrap()
}

async fn invitation_row(svc: &Services, id: i64) -> team_invitation::Model {
    team_invitation::Entity::find_by_id(id)
        .one(&svc.db)
        .await
        .unwrap()
        .unwrap()
}

/// A well-formed code that is not `code`.
fn other_code(code: &str) -> String {
    let flipped = if code.starts_with('A') { 'B' } else { 'A' };
    format!("{flipped}{}", &code[1..])
}

#[test]
fn pasted_codes_are_read_from_the_code_or_the_link_and_nothing_else() {
    let code = "abcdefghijklmnopqrstuvwxyz012-_9";
    assert_eq!(normalize_code(code).as_deref(), Some(code));
    assert_eq!(
        normalize_code(&format!("  {code}\n")).as_deref(),
        Some(code)
    );
    for link in [
        format!("https://llm.resayil.io/team?invite={code}"),
        format!("/team?lang=ar&invite={code}&x=1"),
        format!("https://llm.resayil.io/team?invite={code}#top"),
    ] {
        assert_eq!(normalize_code(&link).as_deref(), Some(code), "{link}");
    }
    for bad in [
        "",
        "short",
        &code[1..],
        &format!("{code}x"),
        "abcdefghijklmnopqrstuvwxyz012-_=",
        "abcdefghijklmnopqrstuvwxyz012-_ ",
        "https://llm.resayil.io/team?invite=",
    ] {
        assert_eq!(normalize_code(bad), None, "{bad:?}");
    }
    assert_eq!(
        format!("{:?}", InviteCode(code.into())),
        "InviteCode(******)"
    );
}

#[tokio::test]
async fn an_invitation_to_an_unknown_address_needs_its_code_whoever_registers_it() {
    each_db(|svc| async move {
        let owner = enterprise_account(&svc, 1000).await;
        let t = name_team(&svc, &owner, "Acme").await.unwrap();
        // To an existing account: no code; it answers on /team.
        let known = new_account(&svc).await;
        let plain = invite(&svc, &owner, &known.email, "member").await.unwrap();
        assert_eq!((plain.needs_code, plain.code.is_none()), (false, true));
        assert_eq!(invitation_row(&svc, plain.id).await.token_hash, None);

        // To an address nobody has: a code, returned once, stored only as its SHA-256.
        let email = unique_email();
        let inv = invite(&svc, &owner, &email, "member").await.unwrap();
        let secret = inv.code.clone().expect("a code for an unknown address");
        assert!(inv.needs_code);
        assert_eq!(secret.expose().len(), 32);
        assert!(!format!("{inv:?}").contains(secret.expose()));
        let row = invitation_row(&svc, inv.id).await;
        assert_eq!(
            row.token_hash.as_deref(),
            Some(keys::sha256_hex(secret.expose()).as_str())
        );
        let listed = open_invitations(&svc, &owner).await.unwrap();
        let listed = listed.iter().find(|i| i.id == inv.id).unwrap();
        assert!(listed.needs_code && listed.code.is_none());

        // Whoever registers the address is not told, does not see it, cannot answer it
        // by id, and cannot join without the code.
        let new = register_as(&svc, &email).await;
        assert!(events_for(&svc, new.id).await.is_empty());
        assert!(invitations_for(&svc.db, &new).await.unwrap().is_empty());
        assert_eq!(
            code(respond(&svc, &new, inv.id, true).await),
            ErrorCode::NotFound
        );
        assert_eq!(
            code(respond(&svc, &new, inv.id, false).await),
            ErrorCode::NotFound
        );
        assert_eq!(
            code(accept_with_code(&svc, &new, &other_code(secret.expose())).await),
            ErrorCode::InvalidInviteCode
        );
        assert_eq!(
            code(accept_with_code(&svc, &new, "not a code").await),
            ErrorCode::InvalidInviteCode
        );
        assert_eq!(
            code(accept_with_code(&svc, &new, "  ").await),
            ErrorCode::Required
        );
        // The right code in someone else's account: the same answer as a wrong one.
        assert_eq!(
            code(accept_with_code(&svc, &known, secret.expose()).await),
            ErrorCode::InvalidInviteCode
        );
        assert!(membership(&svc.db, new.id).await.unwrap().is_none());
        assert!(membership(&svc.db, known.id).await.unwrap().is_none());
        assert_eq!(
            invitation_row(&svc, inv.id).await.status,
            InvitationStatus::Pending
        );

        // With the code (pasted as the link): joined, once.
        let link = format!("http://127.0.0.1:3000/team?invite={}", secret.expose());
        let joined = accept_with_code(&svc, &new, &link).await.unwrap();
        assert_eq!((joined.team.id, joined.role), (t.id, TeamRole::Member));
        assert_eq!(
            invitation_row(&svc, inv.id).await.status,
            InvitationStatus::Accepted
        );
        assert_eq!(
            code(accept_with_code(&svc, &new, secret.expose()).await),
            ErrorCode::InvitationClosed
        );
        // The invitation to the existing account still works without a code.
        respond(&svc, &known, plain.id, true).await.unwrap();
        assert_eq!(members(&svc.db, t.id).await.unwrap().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_account_and_closed_invitations_refused() {
    each_db(|svc| async move {
        let owner = enterprise_account(&svc, 1000).await;
        name_team(&svc, &owner, "Acme").await.unwrap();
        let email = unique_email();
        let inv = invite(&svc, &owner, &email, "admin").await.unwrap();
        let secret = inv.code.clone().unwrap();
        let new = register_as(&svc, &email).await;
        for _ in 0..CODE_TRIES_PER_HOUR {
            assert_eq!(
                code(accept_with_code(&svc, &new, &other_code(secret.expose())).await),
                ErrorCode::InvalidInviteCode
            );
        }
        // Out of tries: even the right code is refused, and nothing changes.
        assert_eq!(
            code(accept_with_code(&svc, &new, secret.expose()).await),
            ErrorCode::TooManyInviteCodes
        );
        assert!(membership(&svc.db, new.id).await.unwrap().is_none());
        assert_eq!(
            invitation_row(&svc, inv.id).await.status,
            InvitationStatus::Pending
        );
        // Another account's tries are its own.
        let other = new_account(&svc).await;
        assert_eq!(
            code(accept_with_code(&svc, &other, &other_code(secret.expose())).await),
            ErrorCode::InvalidInviteCode
        );
        // An hour later the right code joins.
        svc.clock.advance(std::time::Duration::from_secs(3600));
        let joined = accept_with_code(&svc, &new, secret.expose()).await.unwrap();
        assert_eq!(joined.role, TeamRole::Admin);

        // Withdrawn, and expired, invitations with codes are refused with their reasons.
        let email = unique_email();
        let withdrawn = invite(&svc, &owner, &email, "member").await.unwrap();
        withdraw(&svc, &owner, withdrawn.id).await.unwrap();
        let email2 = unique_email();
        let expired = invite(&svc, &owner, &email2, "member").await.unwrap();
        team_invitation::Entity::update_many()
            .col_expr(
                team_invitation::Column::ExpiresAt,
                Expr::value(time::now() - 1),
            )
            .filter(team_invitation::Column::Id.eq(expired.id))
            .exec(&svc.db)
            .await
            .unwrap();
        let a = register_as(&svc, &email).await;
        assert_eq!(
            code(accept_with_code(&svc, &a, withdrawn.code.unwrap().expose()).await),
            ErrorCode::InvitationClosed
        );
        let b = register_as(&svc, &email2).await;
        assert_eq!(
            code(accept_with_code(&svc, &b, expired.code.unwrap().expose()).await),
            ErrorCode::InvitationExpired
        );
        assert!(membership(&svc.db, a.id).await.unwrap().is_none());
        assert!(membership(&svc.db, b.id).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn team_keys_spend_the_owners_account_and_removal_revokes_them_at_once() {
    each_db(|svc| async move {
        let (owner, member) = team_with_member(&svc, 1000).await;
        let (personal, personal_secret) = keys::create(&svc, &member, "mine").await.unwrap();
        let mut revoked = keys::revocations();
        let (info, secret) = create_key(&svc, &member, "ci").await.unwrap();
        assert_eq!(info.member_id, Some(member.id));
        let (found, paying) = keys::authenticate(&svc.db, &secret).await.unwrap();
        assert_eq!((found.id, paying.id), (info.id, owner.id));
        // Team keys are not personal keys of anyone.
        assert_eq!(keys::list(&svc.db, owner.id).await.unwrap(), vec![]);
        assert_eq!(
            keys::list(&svc.db, member.id).await.unwrap(),
            vec![personal.clone()]
        );
        assert!(keys::revoke(&svc.db, owner.id, info.id).await.is_err());
        // The owner sees every team key; the member their own.
        assert_eq!(visible_keys(&svc, &owner).await.unwrap().len(), 1);
        let (okey, _) = create_key(&svc, &owner, "owner's").await.unwrap();
        assert_eq!(visible_keys(&svc, &member).await.unwrap().len(), 1);
        assert_eq!(
            code(revoke_key(&svc, &member, okey.id).await),
            ErrorCode::NotFound
        );

        remove(&svc, &owner, member.id).await.unwrap();
        assert!(matches!(
            keys::authenticate(&svc.db, &secret).await,
            Err(Error::Unauthorized)
        ));
        // Announced at once (the channel is the process's: other tests running beside
        // this one announce their own revocations on it too).
        let mut ids = Vec::new();
        while let Ok(id) = revoked.try_recv() {
            ids.push(id);
        }
        assert!(ids.contains(&info.id), "{ids:?}");
        assert!(membership(&svc.db, member.id).await.unwrap().is_none());
        // Their own account and keys are untouched.
        assert!(keys::authenticate(&svc.db, &personal_secret).await.is_ok());
        assert_eq!(
            code(create_key(&svc, &member, "again").await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(remove(&svc, &owner, member.id).await),
            ErrorCode::NotFound
        );
    })
    .await;
}

#[tokio::test]
async fn leaving_revokes_the_members_keys_and_a_lapsed_plan_stops_the_team() {
    each_db(|svc| async move {
        let (owner, member) = team_with_member(&svc, 1000).await;
        let (_, secret) = create_key(&svc, &member, "ci").await.unwrap();
        let stranger = new_account(&svc).await;
        // The owner's plan lapses: no new keys, no invitations, no joining.
        let inv = invite(&svc, &owner, &stranger.email, "member")
            .await
            .unwrap();
        account::Entity::update_many()
            .col_expr(account::Column::PlanExpiresAt, Expr::value(time::now() - 1))
            .filter(account::Column::Id.eq(owner.id))
            .exec(&svc.db)
            .await
            .unwrap();
        let owner = crate::accounts::find(&svc.db, owner.id).await.unwrap();
        assert!(!allows_teams(&svc, &owner));
        assert_eq!(
            code(create_key(&svc, &member, "x").await),
            ErrorCode::TeamPlanRequired
        );
        assert_eq!(
            code(invite(&svc, &owner, &unique_email(), "member").await),
            ErrorCode::TeamPlanRequired
        );
        assert_eq!(
            code(respond(&svc, &stranger, inv.id, true).await),
            ErrorCode::TeamPlanRequired
        );
        // Nothing is deleted: the key is still there for the renewal.
        assert!(keys::authenticate(&svc.db, &secret).await.is_ok());
        leave(&svc, &member).await.unwrap();
        assert!(keys::authenticate(&svc.db, &secret).await.is_err());
        assert_eq!(code(leave(&svc, &member).await), ErrorCode::NotFound);
    })
    .await;
}

#[tokio::test]
async fn usage_is_summed_per_member_and_members_see_only_their_own() {
    each_db(|svc| async move {
        let (owner, member) = team_with_member(&svc, 1000).await;
        let (mkey, _) = create_key(&svc, &member, "m").await.unwrap();
        let (okey, _) = create_key(&svc, &owner, "o").await.unwrap();
        let meter = crate::meter::Meter::start(svc.db.clone(), 20);
        let now = time::now();
        let rows = [
            (0, member.id, mkey.id),
            (1, member.id, mkey.id),
            (2, owner.id, okey.id),
        ];
        for (n, who, key) in rows {
            meter.record(crate::usage::UsageRecord {
                request_id: format!("t{n}"),
                account_id: Some(owner.id),
                key_id: Some(key),
                member_id: Some(who),
                endpoint: "chat",
                credits: 3,
                status: 200,
                created_at: now,
                ..Default::default()
            });
        }
        meter.flush().await;
        revoke_key(&svc, &member, mkey.id).await.unwrap();
        let (from, to) = (
            locale::kuwait_midnight(now),
            locale::kuwait_midnight(now) + 86_400,
        );
        let all = usage_by_member(&svc, &owner, from, to).await.unwrap();
        let mut got: Vec<_> = all
            .iter()
            .map(|u| (u.member_id, u.requests, u.credits))
            .collect();
        got.sort();
        let mut want = vec![(member.id, 2, 6), (owner.id, 1, 3)];
        want.sort();
        assert_eq!(got, want);
        let own = usage_by_member(&svc, &member, from, to).await.unwrap();
        let days = usage_by_member_and_day(&svc, &member, from, to)
            .await
            .unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(
            (days[0].0, days[0].1, days[0].2.credits),
            (member.id, from, 6)
        );
        assert_eq!(
            own,
            vec![MemberUsage {
                member_id: member.id,
                requests: 2,
                credits: 6
            }]
        );
    })
    .await;
}

#[tokio::test]
async fn a_suspended_members_team_keys_are_refused_until_reactivation() {
    each_db(|svc| async move {
        let (owner, member) = team_with_member(&svc, 1000).await;
        let (_, other) = {
            let o = new_account(&svc).await;
            let inv = invite(&svc, &owner, &o.email, "member").await.unwrap();
            respond(&svc, &o, inv.id, true).await.unwrap();
            create_key(&svc, &o, "other").await.unwrap()
        };
        let (info, secret) = create_key(&svc, &member, "ci").await.unwrap();
        let (_, owners) = create_key(&svc, &owner, "owner's").await.unwrap();
        let admin = crate::accounts::create(
            &svc,
            crate::accounts::NewAccount {
                email: &unique_email(),
                phone: &unique_phone(),
                password: "password1",
                lang: "en",
            },
            crate::accounts::OperatorChoices {
                role: Some(crate::accounts::Role::Admin),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let before = time::now();
        let mut announced = keys::revocations();
        crate::admin::users::set_suspended(&svc, &admin, "ip", member.id, true, "fraud")
            .await
            .unwrap();
        // Refused, though it lives on the owner's (active) account …
        assert!(matches!(
            keys::authenticate(&svc.db, &secret).await,
            Err(Error::Suspended)
        ));
        // … announced to every gateway at once, and seen by their revocation poll.
        let mut ids = Vec::new();
        while let Ok(id) = announced.try_recv() {
            ids.push(id);
        }
        assert!(ids.contains(&info.id), "{ids:?}");
        assert!(keys::revoked_since(&svc.db, before - 2)
            .await
            .unwrap()
            .contains(&info.id));
        // The owner's and the other member's keys go on working.
        assert!(keys::authenticate(&svc.db, &owners).await.is_ok());
        assert!(keys::authenticate(&svc.db, &other).await.is_ok());
        // Nothing is deleted: reactivated, the same key works again.
        crate::admin::users::set_suspended(&svc, &admin, "ip", member.id, false, "ok")
            .await
            .unwrap();
        let (found, paying) = keys::authenticate(&svc.db, &secret).await.unwrap();
        assert_eq!((found.id, paying.id), (info.id, owner.id));
        assert!(membership(&svc.db, member.id).await.unwrap().is_some());
    })
    .await;
}
