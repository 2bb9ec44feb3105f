//! Team keys (TEAM-01..04): a member's team key spends the team owner's credits under the
//! owner's plan and rate limit, each usage row names the member, a lapsed plan refuses the
//! team with a 403 naming it, and removing a member revokes their keys on every instance.
use std::time::{Duration, Instant};

use domain::accounts::Account;
use domain::teams;
use serde_json::json;

use crate::helpers::{error_of, hello, spawn_app_with, unique, Options, TestApp};

/// An owner on Enterprise with `credits`, and `n` members who joined and made a team key
/// each (the members have personal accounts with 100 credits).
async fn team(app: &TestApp, credits: i64, n: usize) -> (Account, Vec<(Account, String)>) {
    let (owner, _) = app.account(Some("enterprise"), credits).await;
    teams::name_team(&app.svc, &owner, "Acme").await.unwrap();
    let mut members = Vec::new();
    for _ in 0..n {
        let (m, _) = app.account(None, 100).await;
        let inv = teams::invite(&app.svc, &owner, &m.email, "member")
            .await
            .unwrap();
        teams::respond(&app.svc, &m, inv.id, true).await.unwrap();
        let (_, key) = teams::create_key(&app.svc, &m, "ci").await.unwrap();
        members.push((m, key));
    }
    (owner, members)
}

#[tokio::test]
async fn a_team_key_spends_the_owners_credits_and_never_the_members() {
    let app = spawn_app_with(Options::default()).await;
    let (owner, members) = team(&app, 1_000, 1).await;
    let (member, key) = &members[0];
    let res = app.chat(key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 200);
    // The owner's plan applies: 60 requests a minute (Enterprise), not the member's Basic.
    assert_eq!(res.headers()["x-ratelimit-limit-requests"], "60");
    app.settled().await;
    let spent = 1_000 - app.balance(owner.id).await;
    assert!(spent >= 1);
    assert_eq!(app.ledger_sum(owner.id).await, 1_000 - spent);
    assert_eq!(app.balance(member.id).await, 100);
    assert!(app.usage(member.id).await.is_empty());
    let rows = app.usage(owner.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].member_id, Some(member.id));
    let keys = teams::visible_keys(&app.svc, member).await.unwrap();
    assert_eq!(rows[0].key_id, Some(keys[0].id));
    assert_eq!(rows[0].credits, spent);
}

/// 50 requests at once from three members' keys on an owner balance of 10 credits.
async fn fifty_concurrent_team_requests(database_url: Option<String>) {
    let app = spawn_app_with(Options {
        database_url,
        catalog: |c| {
            for p in &mut c.plans {
                p.requests_per_minute = 10_000;
                p.concurrent_requests = Some(1_000);
            }
            c.gateway.local_parallel = 256;
        },
        ..Options::default()
    })
    .await;
    let (owner, members) = team(&app, 10, 3).await;
    let mut tasks = Vec::new();
    for n in 0..50 {
        let body = json!({"model": "llama3.2:3b", "max_tokens": 20, "stream": n % 2 == 0,
                          "messages": [{"role": "user", "content": "hi"}]});
        let request = app.chat_later(&members[n % 3].1, body);
        tasks.push(tokio::spawn(async move {
            let res = request.await;
            let status = res.status().as_u16();
            let _ = res.bytes().await;
            status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    app.settled().await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 402).count();
    assert_eq!((ok, refused), (10, 40), "{statuses:?}");
    assert_eq!(app.balance(owner.id).await, 0);
    assert_eq!(app.ledger_sum(owner.id).await, 0);
    let rows = app.usage(owner.id).await;
    assert_eq!(rows.len(), 50);
    assert_eq!(rows.iter().map(|r| r.credits).sum::<i64>(), 10);
    for (m, _) in &members {
        assert_eq!(
            app.balance(m.id).await,
            100,
            "a member's own credits are untouched"
        );
        assert!(rows.iter().any(|r| r.member_id == Some(m.id)));
    }
}

#[tokio::test]
async fn fifty_concurrent_requests_from_several_members_never_overdraw_the_owner_on_sqlite() {
    fifty_concurrent_team_requests(None).await;
}

#[tokio::test]
async fn fifty_concurrent_requests_from_several_members_never_overdraw_the_owner_on_postgres() {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => fifty_concurrent_team_requests(Some(url)).await,
        _ => eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped"),
    }
}

#[tokio::test]
async fn the_whole_team_shares_the_owners_rate_limit() {
    let app = spawn_app_with(Options::default()).await;
    let (owner, members) = team(&app, 1_000, 2).await;
    let owner_key = domain::keys::create(&app.svc, &owner, "own")
        .await
        .unwrap()
        .1;
    let keys = [&members[0].1, &members[1].1, &owner_key];
    let mut ok = 0;
    for n in 0..75 {
        if app.get("/models", keys[n % 3]).await.status() == 200 {
            ok += 1;
        }
    }
    assert_eq!(
        ok, 60,
        "Enterprise: 60 a minute for the owner and the team together"
    );
}

#[tokio::test]
async fn a_lapsed_plan_refuses_team_keys_with_a_403_naming_it_and_renewal_restores_them() {
    let app = spawn_app_with(Options::default()).await;
    let (owner, members) = team(&app, 1_000, 1).await;
    let key = &members[0].1;
    let set_expiry = |at: i64| {
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
        let db = app.svc.db.clone();
        async move {
            domain::entities::account::Entity::update_many()
                .col_expr(
                    domain::entities::account::Column::PlanExpiresAt,
                    Expr::value(at),
                )
                .filter(domain::entities::account::Column::Id.eq(owner.id))
                .exec(&db)
                .await
                .unwrap();
        }
    };
    set_expiry(domain::time::now() - 1).await;
    let res = app.chat(key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 403);
    let e = error_of(res).await;
    assert_eq!(e["code"], "team_plan_required");
    assert!(e["message"].as_str().unwrap().contains("Enterprise"), "{e}");
    assert_eq!(app.get("/models", key).await.status(), 403);
    // Renewal: within the key cache's 2 s the key works again; nothing was deleted.
    set_expiry(domain::time::now() + 30 * 86_400).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(app.chat(key, hello("llama3.2:3b")).await.status(), 200);
    app.settled().await;
    let rows = app.usage(owner.id).await;
    assert!(rows
        .iter()
        .any(|r| r.status == 403 && r.error.as_deref() == Some("team_plan_required")));
    assert_eq!(app.balance(members[0].0.id).await, 100);
}

#[tokio::test]
async fn a_removed_members_key_is_refused_within_a_second_on_another_instance() {
    let prefix = unique("team");
    let dir = tempfile::tempdir().unwrap();
    // One database for both: PostgreSQL when the test command provides it.
    let db = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()));
    let clock = domain::Clock::manual();
    let opts = || Options {
        redis: true,
        redis_prefix: Some(prefix.clone()),
        database_url: Some(db.clone()),
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let one = spawn_app_with(opts()).await;
    let two = spawn_app_with(opts()).await;
    let (owner, members) = team(&one, 1_000_000, 2).await;
    let (gone, key) = &members[0];
    let (_, kept) = &members[1];
    assert_eq!(two.chat(key, hello("llama3.2:3b")).await.status(), 200);
    // What the other processes hear: the revoked key ids on Redis.
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut sub = client.get_async_pubsub().await.unwrap();
    sub.subscribe(format!("{prefix}:revoked-keys"))
        .await
        .unwrap();
    let gone_key = teams::visible_keys(&one.svc, gone).await.unwrap()[0].id;

    teams::remove(&one.svc, &owner, gone.id).await.unwrap();
    let removed_at = Instant::now();
    loop {
        let status = two.chat(key, hello("llama3.2:3b")).await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            removed_at.elapsed() < Duration::from_secs(1),
            "still served after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(removed_at.elapsed() < Duration::from_secs(1));
    use futures::StreamExt;
    let msg = tokio::time::timeout(Duration::from_secs(1), sub.on_message().next())
        .await
        .expect("published on Redis")
        .unwrap();
    assert_eq!(msg.get_payload::<i64>().unwrap(), gone_key);
    // The other member's key and the removed member's own account are untouched.
    assert_eq!(two.chat(kept, hello("llama3.2:3b")).await.status(), 200);
    assert_eq!(one.chat(key, hello("llama3.2:3b")).await.status(), 401);
    let (_, personal) = domain::keys::create(&one.svc, gone, "mine").await.unwrap();
    assert_eq!(
        two.chat(&personal, hello("llama3.2:3b")).await.status(),
        200
    );
}

/// An admin suspends a team member (issue 12 and 13): the member's team keys live on the
/// owner's active account, yet they are refused with `account_suspended` at once on the
/// instance that suspended and within a second on another one (the revocation fan-out on
/// Redis), the owner's and the other members' keys go on working, and reactivation makes
/// the same keys work again everywhere.
async fn a_suspended_members_team_keys_stop_on_every_instance(database_url: String) {
    let prefix = unique("team-suspend");
    let opts = || Options {
        redis: true,
        redis_prefix: Some(prefix.clone()),
        database_url: Some(database_url.clone()),
        ..Options::default()
    };
    let one = spawn_app_with(opts()).await;
    let two = spawn_app_with(opts()).await;
    let (owner, members) = team(&one, 1_000_000, 2).await;
    let (suspended, key) = &members[0];
    let (_, kept) = &members[1];
    let owner_key = domain::keys::create(&one.svc, &owner, "own")
        .await
        .unwrap()
        .1;
    // Both instances have the key in their cache.
    assert_eq!(one.get("/models", key).await.status(), 200);
    assert_eq!(two.get("/models", key).await.status(), 200);
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut sub = client.get_async_pubsub().await.unwrap();
    sub.subscribe(format!("{prefix}:revoked-keys"))
        .await
        .unwrap();
    let key_id = teams::visible_keys(&one.svc, suspended).await.unwrap()[0].id;

    let boss = crate::admin::admin(&one).await;
    domain::admin::users::set_suspended(&one.svc, &boss, "127.0.0.1", suspended.id, true, "fraud")
        .await
        .unwrap();
    let at = Instant::now();
    // Each instance drops the cached key as it hears of the suspension (this one from
    // its own process, the other from Redis): refused, with the reason, within a second.
    for (name, app) in [("this", &one), ("the other", &two)] {
        loop {
            let res = app.chat(key, hello("llama3.2:3b")).await;
            if res.status() == 403 {
                assert_eq!(error_of(res).await["code"], "account_suspended");
                break;
            }
            assert_eq!(res.status(), 200);
            assert!(at.elapsed() < Duration::from_secs(1), "served after 1 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        eprintln!(
            "{name} instance refused the suspended member after {:?}",
            at.elapsed()
        );
    }
    // The other instances heard it on Redis (not only through the database poll).
    use futures::StreamExt;
    let mut published = Vec::new();
    while let Ok(Some(msg)) =
        tokio::time::timeout(Duration::from_millis(500), sub.on_message().next()).await
    {
        published.push(msg.get_payload::<i64>().unwrap());
        if published.contains(&key_id) {
            break;
        }
    }
    assert!(published.contains(&key_id), "{published:?}");
    // Nobody else in the team is affected.
    assert_eq!(two.chat(kept, hello("llama3.2:3b")).await.status(), 200);
    assert_eq!(
        two.chat(&owner_key, hello("llama3.2:3b")).await.status(),
        200
    );

    domain::admin::users::set_suspended(&one.svc, &boss, "127.0.0.1", suspended.id, false, "ok")
        .await
        .unwrap();
    for app in [&one, &two] {
        let res = app.chat(key, hello("llama3.2:3b")).await;
        assert_eq!(res.status(), 200, "reactivated: the same key works again");
    }
}

#[tokio::test]
async fn a_suspended_members_team_keys_are_refused_on_every_instance_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    a_suspended_members_team_keys_stop_on_every_instance(db).await;
}

#[tokio::test]
async fn a_suspended_members_team_keys_are_refused_on_every_instance_on_postgres() {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            a_suspended_members_team_keys_stop_on_every_instance(url).await
        }
        _ => eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped"),
    }
}
