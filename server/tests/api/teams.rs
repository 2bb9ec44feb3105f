//! Teams over HTTP (issue 13): every team server function per role — a plain member
//! calling an admin's functions gets 403 and changes nothing; bad invitations get a clear
//! field error; answers to expired, withdrawn, used or someone else's invitations are
//! refused; an invitation to an address with no account joins only with its code (whoever
//! registers the address), a wrong code is refused and throttled, a used one is spent.
use std::time::Duration;

use reqwest::Response;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

use crate::helpers::{each_app, resayil_with_input, unique_email, unique_phone, TestApp};

const PASSWORD: &str = "password123";

/// Signs the test's client in as `email` (signing out whoever was signed in).
async fn sign_in(app: &TestApp, email: &str) {
    app.call("logout", &[]).await;
    let res = app.login(email, PASSWORD).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "login {email}: {}",
        res.status()
    );
}

/// An account made with the operator CLI (`extra`: `--plan enterprise`…); its e-mail.
async fn user(app: &TestApp, extra: &[&str]) -> String {
    let email = unique_email();
    let phone = unique_phone();
    let mut args = vec!["user", "create", "--email", &email, "--phone", &phone];
    args.extend_from_slice(extra);
    resayil_with_input(app, &args, &format!("{PASSWORD}\n")).await;
    email
}

/// The call went through (server functions of forms answer with a redirect to /team).
async fn ok(res: Response) -> Response {
    let status = res.status();
    if status.is_success() || status.is_redirection() {
        return res;
    }
    panic!("{status}: {}", res.text().await.unwrap_or_default());
}

/// A refusal: its status and its body (`{"Field":…}` or `{"Refused":…}`).
async fn refused(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    assert!(status >= 400, "expected a refusal, got {status}: {body}");
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// `/team`'s data for the signed-in account.
async fn page(app: &TestApp) -> Value {
    let res = ok(app.call("team", &[]).await).await;
    res.json().await.unwrap()
}

/// An Enterprise owner with a team named Acme, signed in; its e-mail.
async fn owner_with_team(app: &TestApp) -> String {
    let owner = user(app, &["--plan", "enterprise", "--credits", "1000"]).await;
    sign_in(app, &owner).await;
    ok(app.call("team/name", &[("name", "Acme")]).await).await;
    owner
}

async fn invite(app: &TestApp, email: &str, role: &str) -> Response {
    app.call("team/invite", &[("email", email), ("role", role)])
        .await
}

/// The id of the team's pending invitation to `email` (as its managers see it).
async fn pending_id(app: &TestApp, email: &str) -> i64 {
    page(app).await["team"]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == email)
        .unwrap_or_else(|| panic!("no pending invitation to {email}"))["id"]
        .as_i64()
        .unwrap()
}

fn count(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

async fn sql(app: &TestApp, statement: &str) {
    let db = Database::connect(&app.database_url).await.unwrap();
    db.execute_unprepared(statement).await.unwrap();
    db.close().await.ok();
}

#[tokio::test]
async fn a_plain_member_calling_admin_functions_gets_403_and_nothing_changes() {
    each_app(|app| async move {
        let member = user(&app, &[]).await;
        let other = user(&app, &[]).await;
        let owner = owner_with_team(&app).await;
        for who in [&member, &other] {
            ok(invite(&app, who, "member").await).await;
        }
        let outsider = user(&app, &[]).await;
        ok(invite(&app, &outsider, "member").await).await;
        let open = pending_id(&app, &outsider).await;
        for who in [&member, &other] {
            sign_in(&app, who).await;
            let id = page(&app).await["invitations"][0]["id"].as_i64().unwrap();
            ok(app.call("team/accept", &[("id", &id.to_string())]).await).await;
        }
        sign_in(&app, &owner).await;
        let before = page(&app).await["team"].clone();
        assert_eq!(count(&before["members"]), 3);
        let other_id = before["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == other.as_str())
            .unwrap()["account_id"]
            .to_string();

        sign_in(&app, &member).await;
        assert_eq!(page(&app).await["team"]["role"], "member");
        let fresh = unique_email();
        let owner_id = before["members"][0]["account_id"].to_string();
        let open = open.to_string();
        for (endpoint, form) in [
            (
                "team/invite",
                vec![("email", fresh.as_str()), ("role", "member")],
            ),
            ("team/withdraw", vec![("id", open.as_str())]),
            ("team/remove", vec![("id", other_id.as_str())]),
            ("team/remove", vec![("id", owner_id.as_str())]),
            ("team/name", vec![("name", "Mine now")]),
        ] {
            let (status, body) = refused(app.call(endpoint, &form).await).await;
            // Naming a team is the owner's (and needs Enterprise, which a member lacks).
            let expected = if endpoint == "team/name" {
                "TeamPlanRequired"
            } else {
                "Forbidden"
            };
            assert_eq!(
                (status, body["Refused"].as_str()),
                (403, Some(expected)),
                "{endpoint} {form:?}: {body}"
            );
        }

        sign_in(&app, &owner).await;
        let after = page(&app).await["team"].clone();
        assert_eq!(after["members"], before["members"]);
        assert_eq!(after["pending"], before["pending"]);
        assert_eq!(after["name"], "Acme");
    })
    .await;
}

#[tokio::test]
async fn bad_invitations_get_a_clear_field_error_and_change_nothing() {
    each_app(|app| async move {
        let member = user(&app, &[]).await;
        let stranger = user(&app, &[]).await;
        let owner = owner_with_team(&app).await;
        ok(invite(&app, &member, "member").await).await;
        sign_in(&app, &member).await;
        let id = page(&app).await["invitations"][0]["id"].as_i64().unwrap();
        ok(app.call("team/accept", &[("id", &id.to_string())]).await).await;
        sign_in(&app, &owner).await;

        for (email, role, field, code) in [
            ("not-an-email", "member", "email", "InvalidEmail"),
            ("", "member", "email", "Required"),
            (member.as_str(), "member", "email", "AlreadyInTeam"),
            (owner.as_str(), "member", "email", "TeamOwner"),
            (stranger.as_str(), "owner", "role", "TeamOwner"),
            (stranger.as_str(), "boss", "role", "Required"),
        ] {
            let (status, body) = refused(invite(&app, email, role).await).await;
            assert_eq!(status, 422, "{email} {role}: {body}");
            assert_eq!(
                (
                    body["Field"]["field"].as_str(),
                    body["Field"]["code"].as_str()
                ),
                (Some(field), Some(code)),
                "{email} {role}"
            );
        }
        ok(invite(&app, &stranger, "member").await).await;
        let (status, body) = refused(invite(&app, &stranger, "admin").await).await;
        assert_eq!(
            (status, body["Field"]["code"].as_str()),
            (422, Some("AlreadyInvited"))
        );
        assert_eq!(count(&page(&app).await["team"]["pending"]), 1);

        // Not on Enterprise: no team to invite to, and none to create.
        let basic = user(&app, &[]).await;
        sign_in(&app, &basic).await;
        let (status, body) = refused(invite(&app, &unique_email(), "member").await).await;
        assert_eq!(
            (status, body["Refused"].as_str()),
            (403, Some("TeamPlanRequired"))
        );
        let (status, body) = refused(app.call("team/name", &[("name", "Mine")]).await).await;
        assert_eq!(
            (status, body["Refused"].as_str()),
            (403, Some("TeamPlanRequired"))
        );
        let mine = page(&app).await;
        assert_eq!(
            (mine["team"].clone(), mine["can_create"].clone()),
            (Value::Null, Value::Bool(false))
        );
        sign_in(&app, &owner).await;
        assert_eq!(count(&page(&app).await["team"]["pending"]), 1);
        assert_eq!(count(&page(&app).await["team"]["members"]), 2);
    })
    .await;
}

#[tokio::test]
async fn expired_withdrawn_used_and_other_peoples_invitations_are_refused() {
    each_app(|app| async move {
        let (a, b, c) = (
            user(&app, &[]).await,
            user(&app, &[]).await,
            user(&app, &[]).await,
        );
        let owner = owner_with_team(&app).await;
        for who in [&a, &b, &c] {
            ok(invite(&app, who, "member").await).await;
        }
        let (ia, ib, ic) = (
            pending_id(&app, &a).await,
            pending_id(&app, &b).await,
            pending_id(&app, &c).await,
        );
        ok(app.call("team/withdraw", &[("id", &ib.to_string())]).await).await;
        sql(
            &app,
            &format!("UPDATE team_invitations SET expires_at = 1 WHERE id = {ic}"),
        )
        .await;

        // Someone else's: as if it did not exist.
        sign_in(&app, &c).await;
        for endpoint in ["team/accept", "team/decline"] {
            let (status, _) = refused(app.call(endpoint, &[("id", &ia.to_string())]).await).await;
            assert_eq!(status, 404, "{endpoint}");
        }
        // Expired.
        let (status, body) =
            refused(app.call("team/accept", &[("id", &ic.to_string())]).await).await;
        assert_eq!(
            (status, body["Refused"].as_str()),
            (409, Some("InvitationExpired"))
        );
        assert_eq!(page(&app).await["team"], Value::Null);
        // Withdrawn.
        sign_in(&app, &b).await;
        let (status, body) =
            refused(app.call("team/accept", &[("id", &ib.to_string())]).await).await;
        assert_eq!(
            (status, body["Refused"].as_str()),
            (409, Some("InvitationClosed"))
        );
        assert_eq!(page(&app).await["team"], Value::Null);
        // Used: once accepted, neither accepted nor declined again.
        sign_in(&app, &a).await;
        ok(app.call("team/accept", &[("id", &ia.to_string())]).await).await;
        for endpoint in ["team/accept", "team/decline"] {
            let (status, body) =
                refused(app.call(endpoint, &[("id", &ia.to_string())]).await).await;
            assert_eq!(
                (status, body["Refused"].as_str()),
                (409, Some("InvitationClosed")),
                "{endpoint}"
            );
        }
        assert_eq!(page(&app).await["team"]["role"], "member");
        sign_in(&app, &owner).await;
        assert_eq!(count(&page(&app).await["team"]["members"]), 2);
    })
    .await;
}

/// The code and link of a new invitation to an address with no account.
async fn invite_with_code(app: &TestApp, email: &str) -> (String, String) {
    let res = ok(invite(app, email, "member").await).await;
    assert_eq!(res.status(), 200, "no redirect: the code is in the answer");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], email);
    let code = body["code"].as_str().expect("a code").to_owned();
    let link = body["link"].as_str().expect("a link").to_owned();
    (code, link)
}

#[tokio::test]
async fn an_invitation_to_a_new_address_joins_only_with_its_code() {
    each_app(|app| async move {
        let owner = owner_with_team(&app).await;
        let email = unique_email();
        let (code, link) = invite_with_code(&app, &email).await;
        assert_eq!(code.len(), 32);
        assert_eq!(link, format!("http://127.0.0.1:3000/team?invite={code}"));
        let id = pending_id(&app, &email).await;
        let listed = &page(&app).await["team"]["pending"][0];
        assert_eq!(listed["needs_code"], true);
        assert!(
            !listed.to_string().contains(&code),
            "the code is shown once"
        );
        // Only its SHA-256 is stored.
        let db = Database::connect(&app.database_url).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT token_hash FROM team_invitations WHERE id = {id}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let stored: String = row.try_get("", "token_hash").unwrap();
        assert_eq!(stored, domain::keys::sha256_hex(&code));
        db.close().await.ok();

        // Whoever registers the address (unverified) sees nothing and cannot join
        // without the code, by id or with a wrong code.
        ok(app.register(&email, &unique_phone(), PASSWORD).await).await;
        let mine = page(&app).await;
        assert_eq!(
            (count(&mine["invitations"]), &mine["team"]),
            (0, &Value::Null)
        );
        let invitations: Value = ok(app.call("team/invitations", &[]).await)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(count(&invitations), 0, "nothing on the dashboard either");
        for endpoint in ["team/accept", "team/decline"] {
            let (status, _) = refused(app.call(endpoint, &[("id", &id.to_string())]).await).await;
            assert_eq!(status, 404, "{endpoint}");
        }
        let wrong = format!(
            "{}{}",
            if code.starts_with('A') { 'B' } else { 'A' },
            &code[1..]
        );
        let (status, body) = refused(app.call("team/join", &[("code", &wrong)]).await).await;
        assert_eq!(status, 422);
        assert_eq!(
            (
                body["Field"]["field"].as_str(),
                body["Field"]["code"].as_str()
            ),
            (Some("code"), Some("InvalidInviteCode"))
        );
        assert_eq!(page(&app).await["team"], Value::Null);

        // The right code (pasted as the link) joins; the code is then spent.
        ok(app.call("team/join", &[("code", &link)]).await).await;
        let mine = page(&app).await;
        assert_eq!(
            (mine["team"]["name"].as_str(), mine["team"]["role"].as_str()),
            (Some("Acme"), Some("member"))
        );
        let (status, body) = refused(app.call("team/join", &[("code", &code)]).await).await;
        assert_eq!(
            (status, body["Refused"].as_str()),
            (409, Some("InvitationClosed"))
        );

        // Someone else registered with the right code in hand: still only for the
        // invited address, and the same answer as a wrong code.
        sign_in(&app, &owner).await;
        let email2 = unique_email();
        let (code2, _) = invite_with_code(&app, &email2).await;
        let someone = user(&app, &[]).await;
        sign_in(&app, &someone).await;
        let (status, body) = refused(app.call("team/join", &[("code", &code2)]).await).await;
        assert_eq!(
            (status, body["Field"]["code"].as_str()),
            (422, Some("InvalidInviteCode"))
        );
        assert_eq!(page(&app).await["team"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_account() {
    each_app(|app| async move {
        owner_with_team(&app).await;
        let email = unique_email();
        let (code, _) = invite_with_code(&app, &email).await;
        ok(app.register(&email, &unique_phone(), PASSWORD).await).await;
        let first = code.chars().next().unwrap();
        let wrong_firsts = ['A', 'B', 'C', 'D', 'E', 'F']
            .into_iter()
            .filter(|c| *c != first);
        for (n, x) in wrong_firsts.take(5).enumerate() {
            let wrong = format!("{x}{}", &code[1..]);
            let (status, body) = refused(app.call("team/join", &[("code", &wrong)]).await).await;
            assert_eq!(
                (status, body["Field"]["code"].as_str()),
                (422, Some("InvalidInviteCode")),
                "try {n}"
            );
        }
        // Out of tries: refused with a clear message, even the right code.
        let (status, body) = refused(app.call("team/join", &[("code", &code)]).await).await;
        assert_eq!(
            (status, body["Refused"].as_str()),
            (429, Some("TooManyInviteCodes"))
        );
        assert_eq!(page(&app).await["team"], Value::Null);
        // An hour later the right code works.
        app.clock.advance(Duration::from_secs(3600));
        ok(app.call("team/join", &[("code", &code)]).await).await;
        assert_eq!(page(&app).await["team"]["name"], "Acme");
    })
    .await;
}

#[tokio::test]
async fn a_signed_out_invitee_is_led_from_the_link_through_registration_back_to_it() {
    each_app(|app| async move {
        let code = "abcdefghijklmnopqrstuvwxyz012-_9";
        let res = app.get(&format!("/team?invite={code}")).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        let login = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(login.starts_with("/login?next="), "{login}");
        let html = app.get(&login).await.text().await.unwrap();
        let register = format!("/register?next=%2Fteam%3Finvite%3D{code}");
        assert!(html.contains(&format!("href=\"{register}\"")), "{html}");
        let html = app.get(&register).await.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"/login?next=%2Fteam%3Finvite%3D{code}\"")),
            "{html}"
        );
        // Signed in, the link shows the code form with the code filled in.
        app.signed_in_user().await;
        let html = app
            .get(&format!("/team?invite={code}&lang=en"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("data-testid=\"join-with-code\""), "{html}");
        assert!(html.contains(&format!("value=\"{code}\"")), "{html}");
    })
    .await;
}
