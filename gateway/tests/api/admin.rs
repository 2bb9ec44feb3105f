//! The admin console's live effects on the gateway (issue 12): a model disabled on one
//! instance is refused by another within a second, and a suspended account's keys are
//! refused at once on every instance — PostgreSQL (when `TEST_DATABASE_URL` is set) and
//! the real Redis.
use std::time::{Duration, Instant};

use domain::accounts::{self, NewAccount, OperatorChoices, Role};
use domain::entities::catalog::{disabled_model, model, plan_model};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{error_of, hello, spawn_app_with, unique, Options, TestApp};

async fn two_instances() -> (TestApp, TestApp, tempfile::TempDir) {
    let prefix = unique("admin");
    let dir = tempfile::tempdir().unwrap();
    let db = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}/shared.db?mode=rwc", dir.path().display()));
    let app = |prefix: String, db: String| {
        spawn_app_with(Options {
            redis: true,
            redis_prefix: Some(prefix),
            database_url: Some(db),
            ..Options::default()
        })
    };
    let one = app(prefix.clone(), db.clone()).await;
    let two = app(prefix, db).await;
    (one, two, dir)
}

/// A new admin account (of the console, not of a team).
pub(crate) async fn admin(app: &TestApp) -> accounts::Account {
    accounts::create(
        &app.svc,
        NewAccount {
            email: &format!("{}@example.com", unique("admin")),
            phone: &format!("+9656{:07}", rand::random_range(0..10_000_000u32)),
            password: "password1",
            lang: "en",
        },
        OperatorChoices {
            role: Some(Role::Admin),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Polls `check` every 10 ms until it holds; the time it took.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "not seen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_model_disabled_on_one_instance_is_refused_by_another_within_a_second() {
    let (one, two, _dir) = two_instances().await;
    // A model of this test's own, so tests sharing the database are not disturbed.
    let id = unique("admin-model");
    model::Entity::insert(model::ActiveModel {
        id: Set(id.clone()),
        position: Set(1000),
        kind: Set(domain::catalog::ModelKind::Local),
        multiplier: Set(None),
        cloud_fallback: Set(None),
        embedding: Set(false),
        context_tokens: Set(None),
        max_output_tokens: Set(None),
    })
    .exec(&one.svc.db)
    .await
    .unwrap();
    plan_model::Entity::insert(plan_model::ActiveModel {
        plan_id: Set("basic".into()),
        model: Set(id.clone()),
        position: Set(1000),
    })
    .exec(&one.svc.db)
    .await
    .unwrap();
    domain::catalog::bump_revision(&one.svc.db).await.unwrap();
    for app in [&one, &two] {
        domain::catalog::watch(app.svc.db.clone(), &app.svc.catalog);
    }
    let (_, key) = two.account(Some("basic"), 100).await;
    let path = format!("/models/{id}");
    // Waiting on the catalog itself, not on requests: polling the API would spend the
    // Basic plan's 10 requests a minute and turn the answer into a 429.
    within(Duration::from_secs(5), async || {
        two.svc.catalog.model(&id).is_some()
    })
    .await;
    assert_eq!(two.get(&path, &key).await.status(), 200);

    let boss = admin(&one).await;
    let edit = domain::admin::catalog::ModelEdit {
        id: id.clone(),
        enabled: false,
        tier: "basic".into(),
        multiplier: String::new(),
        kind: "local".into(),
        fallback: String::new(),
    };
    domain::admin::catalog::update_model(&one.svc, &boss, "127.0.0.1", &edit, "test")
        .await
        .unwrap();
    // The instance that made the edit serves the new catalog at once …
    assert_eq!(one.svc.catalog.model(&id), None);
    // … and the other refuses the model within a second.
    let took = within(Duration::from_secs(1), async || {
        two.svc.catalog.model(&id).is_none()
    })
    .await;
    eprintln!("second instance refused the disabled model after {took:?}");
    let res = two.get(&path, &key).await;
    assert_eq!(error_of(res).await["code"], "model_not_found");

    // Clean up the shared database.
    plan_model::Entity::delete_many()
        .filter(plan_model::Column::Model.eq(id.clone()))
        .exec(&one.svc.db)
        .await
        .unwrap();
    disabled_model::Entity::delete_by_id(id.clone())
        .exec(&one.svc.db)
        .await
        .unwrap();
    model::Entity::delete_by_id(id)
        .exec(&one.svc.db)
        .await
        .unwrap();
    domain::catalog::bump_revision(&one.svc.db).await.unwrap();
}

#[tokio::test]
async fn a_suspended_accounts_keys_are_refused_at_once_on_every_instance() {
    let (one, two, _dir) = two_instances().await;
    let (customer, key) = one.account(Some("basic"), 100).await;
    // Both instances have the key cached.
    assert_eq!(one.get("/models", &key).await.status(), 200);
    assert_eq!(two.get("/models", &key).await.status(), 200);
    let boss = admin(&one).await;
    domain::admin::users::set_suspended(&one.svc, &boss, "127.0.0.1", customer.id, true, "fraud")
        .await
        .unwrap();
    let res = one.chat(&key, hello("llama3.2:3b")).await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_of(res).await["code"], "account_suspended");
    within(Duration::from_secs(1), async || {
        two.get("/models", &key).await.status() == 403
    })
    .await;
    // Reactivated: the same key works again (nothing was deleted).
    domain::admin::users::set_suspended(&one.svc, &boss, "127.0.0.1", customer.id, false, "ok")
        .await
        .unwrap();
    within(Duration::from_secs(3), async || {
        two.get("/models", &key).await.status() == 200
    })
    .await;
}
