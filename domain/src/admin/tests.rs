use sea_orm::{ActiveValue::Set, DbBackend, EntityTrait};

use super::catalog::{self as editor, ModelEdit};
use super::users::{self, Sort};
use crate::accounts::{self, Account, Role};
use crate::audit::{self, actions, Filter};
use crate::testing::{each_db, new_account, unique_email, unique_phone};
use crate::{keys, ledger, sessions, Error, ErrorCode, Services};

/// A change of the model form and the error it gets.
type Case = (fn(&mut ModelEdit), (&'static str, ErrorCode));

async fn an_admin(svc: &Services) -> Account {
    accounts::create(
        svc,
        accounts::NewAccount {
            email: &unique_email(),
            phone: &unique_phone(),
            password: "password1",
            lang: "en",
        },
        accounts::OperatorChoices {
            role: Some(Role::Admin),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn code(res: Result<impl std::fmt::Debug, Error>) -> (&'static str, ErrorCode) {
    match res {
        Err(Error::Invalid { field, code }) => (field, code),
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn audit_rows(svc: &Services, account: i64) -> Vec<crate::entities::audit_log::Model> {
    let filter = Filter {
        target_account: Some(account),
        ..Default::default()
    };
    audit::list(&svc.db, &filter, 100, 0).await.unwrap().0
}

#[tokio::test]
async fn an_adjustment_is_a_ledger_row_with_its_audit_row_and_bad_input_changes_nothing() {
    each_db(|svc| async move {
        let admin = an_admin(&svc).await;
        let user = new_account(&svc).await; // 1000 credits
        let ip = "10.0.0.7";
        let b = users::adjust_credits(&svc, &admin, ip, user.id, "+250", "goodwill")
            .await
            .unwrap();
        assert_eq!(b, 1250);
        let b = users::adjust_credits(&svc, &admin, ip, user.id, "-50", "correction")
            .await
            .unwrap();
        assert_eq!(b, 1200);
        assert_eq!(
            accounts::find(&svc.db, user.id).await.unwrap().credits,
            1200
        );
        assert_eq!(ledger::sum(&svc.db, user.id).await.unwrap(), 1200);
        let rows = audit_rows(&svc, user.id).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].action, actions::CREDITS_ADJUST);
        assert_eq!(rows[0].actor_id, Some(admin.id));
        assert_eq!(rows[0].ip, ip);
        assert_eq!(rows[0].reason.as_deref(), Some("correction"));
        assert_eq!(rows[0].before.as_deref(), Some(r#"{"credits":1250}"#));

        // Bad input: a clear field error, nothing changed.
        let bad = [
            ("10", "  ", ("reason", ErrorCode::Required)),
            ("ten", "x", ("amount", ErrorCode::NotAnInteger)),
            ("1.5", "x", ("amount", ErrorCode::NotAnInteger)),
            ("0", "x", ("amount", ErrorCode::NotAnInteger)),
            ("", "x", ("amount", ErrorCode::NotAnInteger)),
            ("-1201", "x", ("amount", ErrorCode::BelowZero)),
        ];
        for (amount, why, expected) in bad {
            let res = users::adjust_credits(&svc, &admin, ip, user.id, amount, why).await;
            assert_eq!(code(res), expected, "{amount:?} {why:?}");
        }
        assert_eq!(
            accounts::find(&svc.db, user.id).await.unwrap().credits,
            1200
        );
        assert_eq!(audit_rows(&svc, user.id).await.len(), 2);

        // Down to exactly zero is allowed, and it records the "exhausted" event.
        users::adjust_credits(&svc, &admin, ip, user.id, "-1200", "closing")
            .await
            .unwrap();
        let kinds: Vec<String> = crate::events::since(&svc.db, 0)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.account_id == Some(user.id))
            .map(|e| e.kind)
            .collect();
        assert!(
            kinds.contains(&"credits_exhausted".to_string()),
            "{kinds:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_non_admin_changes_nothing() {
    each_db(|svc| async move {
        let user = new_account(&svc).await;
        let other = new_account(&svc).await;
        let res = users::adjust_credits(&svc, &user, "1.2.3.4", other.id, "100", "x").await;
        assert!(matches!(res, Err(Error::Unauthorized)));
        let res = users::set_suspended(&svc, &user, "1.2.3.4", other.id, true, "x").await;
        assert!(matches!(res, Err(Error::Unauthorized)));
        let res = users::set_role(&svc, &user, "1.2.3.4", user.id, "admin", "x").await;
        assert!(matches!(res, Err(Error::Unauthorized)));
        let res = users::set_plan(&svc, &user, "1.2.3.4", user.id, "pro", "30", "x").await;
        assert!(matches!(res, Err(Error::Unauthorized)));
        let res = editor::update_budget(&svc, &user, "1.2.3.4", "1", "50", "").await;
        assert!(matches!(res, Err(Error::Unauthorized)));
        let after = accounts::find(&svc.db, other.id).await.unwrap();
        assert_eq!((after.credits, after.suspended_at), (1000, None));
        let me = accounts::find(&svc.db, user.id).await.unwrap();
        assert_eq!((me.role, me.plan), (Role::User, None));
        assert!(audit_rows(&svc, other.id).await.is_empty());
        assert!(audit_rows(&svc, user.id).await.is_empty());
        // A demoted admin's old account object is not enough either.
        let admin = an_admin(&svc).await;
        let boss = an_admin(&svc).await;
        users::set_role(&svc, &boss, "ip", admin.id, "user", "left the company")
            .await
            .unwrap();
        let res = users::adjust_credits(&svc, &admin, "ip", other.id, "100", "x").await;
        assert!(matches!(res, Err(Error::Unauthorized)));
    })
    .await;
}

#[tokio::test]
async fn two_admins_adjusting_at_once_lose_neither_adjustment() {
    each_db(|svc| async move {
        let (a, b) = (an_admin(&svc).await, an_admin(&svc).await);
        let user = new_account(&svc).await;
        let mut tasks = Vec::new();
        for i in 0..10 {
            let svc = svc.clone();
            let admin = if i % 2 == 0 { a.clone() } else { b.clone() };
            let id = user.id;
            tasks.push(tokio::spawn(async move {
                let amount = if i % 2 == 0 { "+100" } else { "-30" };
                users::adjust_credits(&svc, &admin, "ip", id, amount, "race").await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let after = accounts::find(&svc.db, user.id).await.unwrap();
        assert_eq!(after.credits, 1000 + 5 * 100 - 5 * 30);
        assert_eq!(ledger::sum(&svc.db, user.id).await.unwrap(), after.credits);
        assert_eq!(audit_rows(&svc, user.id).await.len(), 10);
    })
    .await;
}

#[tokio::test]
async fn suspension_ends_sessions_refuses_keys_and_keeps_the_data() {
    each_db(|svc| async move {
        let admin = an_admin(&svc).await;
        let user = new_account(&svc).await;
        let token = sessions::create(&svc.db, user.id, 30).await.unwrap();
        let (info, key) = keys::create(&svc, &user, "ci").await.unwrap();
        let before = crate::time::now();
        let res = users::set_suspended(&svc, &admin, "ip", user.id, true, " ").await;
        assert_eq!(code(res), ("reason", ErrorCode::Required));
        users::set_suspended(&svc, &admin, "ip", user.id, true, "chargeback")
            .await
            .unwrap();
        assert!(matches!(
            sessions::account(&svc.db, &token).await,
            Err(Error::Unauthorized)
        ));
        assert!(matches!(
            keys::authenticate(&svc.db, &key).await,
            Err(Error::Suspended)
        ));
        assert!(keys::revoked_since(&svc.db, before - 2)
            .await
            .unwrap()
            .contains(&info.id));
        let login = accounts::authenticate(&svc, &user.email, "password1", "9.9.9.9").await;
        assert_eq!(code(login), ("password", ErrorCode::AccountSuspended));
        // Twice is a conflict; an admin cannot suspend themself.
        assert!(matches!(
            users::set_suspended(&svc, &admin, "ip", user.id, true, "again").await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            users::set_suspended(&svc, &admin, "ip", admin.id, true, "oops").await,
            Err(Error::Conflict(_))
        ));
        users::set_suspended(&svc, &admin, "ip", user.id, false, "resolved")
            .await
            .unwrap();
        assert_eq!(
            keys::authenticate(&svc.db, &key).await.unwrap().0.id,
            info.id
        );
        assert_eq!(
            accounts::find(&svc.db, user.id).await.unwrap().credits,
            1000
        );
        let actions: Vec<String> = audit_rows(&svc, user.id)
            .await
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions, ["account.reactivate", "account.suspend"]);
    })
    .await;
}

#[tokio::test]
async fn role_and_plan_changes_are_audited_and_checked() {
    each_db(|svc| async move {
        let admin = an_admin(&svc).await;
        let user = new_account(&svc).await;
        users::set_plan(&svc, &admin, "ip", user.id, "pro", "30", "trial")
            .await
            .unwrap();
        let a = accounts::find(&svc.db, user.id).await.unwrap();
        assert_eq!(a.plan.as_deref(), Some("pro"));
        let expiry = a.plan_expires_at.unwrap();
        users::set_plan(&svc, &admin, "ip", user.id, "", "7", "extension")
            .await
            .unwrap();
        let a = accounts::find(&svc.db, user.id).await.unwrap();
        assert_eq!(a.plan_expires_at, Some(expiry + 7 * 86_400));
        let res = users::set_plan(&svc, &admin, "ip", user.id, "gold", "30", "x").await;
        assert_eq!(code(res), ("plan", ErrorCode::Required));
        let res = users::set_plan(&svc, &admin, "ip", user.id, "pro", "lots", "x").await;
        assert_eq!(code(res), ("days", ErrorCode::NotAnInteger));
        let res = users::set_plan(&svc, &admin, "ip", user.id, "pro", "30", "").await;
        assert_eq!(code(res), ("reason", ErrorCode::Required));
        users::set_role(&svc, &admin, "ip", user.id, "admin", "new staff")
            .await
            .unwrap();
        assert_eq!(
            accounts::find(&svc.db, user.id).await.unwrap().role,
            Role::Admin
        );
        assert!(matches!(
            users::set_role(&svc, &admin, "ip", admin.id, "user", "x").await,
            Err(Error::Conflict(_))
        ));
        assert_eq!(audit_rows(&svc, user.id).await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn search_pages_and_sorts_on_the_server() {
    each_db(|svc| async move {
        let admin = an_admin(&svc).await;
        let tag = crate::keys::random_token(6)
            .to_lowercase()
            .replace(['-', '_'], "x");
        let mut ids = Vec::new();
        for i in 0..3 {
            let a = accounts::create(
                &svc,
                accounts::NewAccount {
                    email: &format!("srch{i}{tag}@example.com"),
                    phone: &unique_phone(),
                    password: "password1",
                    lang: "en",
                },
                accounts::OperatorChoices {
                    credits: Some(10 * (i + 1)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            ids.push(a.id);
        }
        let (rows, total) = users::search(&svc.db, &tag.to_uppercase(), Sort::Newest, 2, 0)
            .await
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [ids[2], ids[1]]
        );
        let (rows, _) = users::search(&svc.db, &tag, Sort::Newest, 2, 2)
            .await
            .unwrap();
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[0]]);
        users::adjust_credits(&svc, &admin, "ip", ids[0], "500", "top")
            .await
            .unwrap();
        let (rows, _) = users::search(&svc.db, &tag, Sort::Balance, 10, 0)
            .await
            .unwrap();
        assert_eq!(rows[0].id, ids[0]);
        // Activity: the account whose key was used comes first.
        let owner = accounts::find(&svc.db, ids[1]).await.unwrap();
        let (k, _) = keys::create(&svc, &owner, "k").await.unwrap();
        keys::touch(&svc.db, k.id).await.unwrap();
        let (rows, _) = users::search(&svc.db, &tag, Sort::LastActivity, 10, 0)
            .await
            .unwrap();
        assert_eq!(rows[0].id, ids[1]);
        assert!(rows[0].last_active_at.is_some());
        // `%` and `_` are not wildcards.
        assert_eq!(
            users::search(&svc.db, "%", Sort::Newest, 1, 0)
                .await
                .unwrap()
                .1,
            0
        );
        let detail = users::detail(&svc.db, ids[0]).await.unwrap();
        assert_eq!(detail.account.credits, 510);
        assert_eq!(detail.ledger[0].delta, 500);
    })
    .await;
}

/// Catalog edits change shared tables, so they run on SQLite only: the PostgreSQL
/// database is shared by tests running at the same time (the gateway's two-instance test
/// covers PostgreSQL with a model of its own).
#[tokio::test]
async fn model_edits_are_validated_audited_and_served_at_once() {
    each_db(|svc| async move {
        if svc.db.get_database_backend() == DbBackend::Postgres {
            return;
        }
        let admin = an_admin(&svc).await;
        let model = "llama3.2:3b";
        assert!(svc.catalog.model(model).is_some());
        let edit = |f: fn(&mut ModelEdit)| {
            let mut e = ModelEdit {
                id: model.into(),
                enabled: true,
                tier: "basic".into(),
                multiplier: "1.5".into(),
                kind: "local".into(),
                fallback: String::new(),
            };
            f(&mut e);
            e
        };
        let bad: [Case; 6] = [
            (
                |e| e.multiplier = "0".into(),
                ("multiplier", ErrorCode::NotPositive),
            ),
            (
                |e| e.multiplier = "-1".into(),
                ("multiplier", ErrorCode::NotPositive),
            ),
            (
                |e| e.multiplier = "abc".into(),
                ("multiplier", ErrorCode::NotPositive),
            ),
            (
                |e| e.fallback = "no-such-model".into(),
                ("fallback", ErrorCode::UnknownModel),
            ),
            (
                |e| e.fallback = "llama3.2:3b".into(),
                ("fallback", ErrorCode::UnknownModel),
            ),
            (|e| e.tier = "gold".into(), ("tier", ErrorCode::Required)),
        ];
        let before = editor::editor(&svc.db, &svc.catalog).await.unwrap();
        for (f, expected) in bad {
            let res = editor::update_model(&svc, &admin, "ip", &edit(f), "").await;
            assert_eq!(code(res), expected);
        }
        assert_eq!(editor::editor(&svc.db, &svc.catalog).await.unwrap(), before);

        // Disabled: gone from the served catalog at once, kept in the editor.
        editor::update_model(
            &svc,
            &admin,
            "ip",
            &edit(|e| e.enabled = false),
            "maintenance",
        )
        .await
        .unwrap();
        assert!(svc.catalog.model(model).is_none());
        let row = editor::editor(&svc.db, &svc.catalog)
            .await
            .unwrap()
            .models
            .into_iter()
            .find(|m| m.id == model)
            .unwrap();
        assert!(!row.enabled);
        assert_eq!(row.multiplier, Some(1.5));
        editor::update_model(&svc, &admin, "ip", &edit(|e| e.tier = "pro".into()), "")
            .await
            .unwrap();
        let served = svc.catalog.model(model).unwrap();
        assert_eq!(served.multiplier, Some(1.5));
        assert_eq!(
            svc.catalog.plan_for_model(served).map(|p| p.id.as_str()),
            Some("pro")
        );

        // A restricted model can never be enabled, even if someone put it in the table.
        crate::entities::catalog::model::Entity::insert(
            crate::entities::catalog::model::ActiveModel {
                id: Set("bge-m3".into()),
                position: Set(100),
                kind: Set(crate::catalog::ModelKind::Local),
                multiplier: Set(None),
                cloud_fallback: Set(None),
                embedding: Set(true),
                context_tokens: Set(None),
                max_output_tokens: Set(None),
            },
        )
        .exec(&svc.db)
        .await
        .unwrap();
        let res = editor::update_model(
            &svc,
            &admin,
            "ip",
            &edit(|e| {
                e.id = "bge-m3".into();
                e.multiplier = String::new();
            }),
            "",
        )
        .await;
        assert_eq!(code(res), ("enabled", ErrorCode::ModelRestricted));
        let (rows, _) = audit::list(
            &svc.db,
            &Filter {
                action: Some(actions::MODEL_UPDATE.into()),
                ..Default::default()
            },
            10,
            0,
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].reason.as_deref(), Some("maintenance"));
    })
    .await;
}

#[tokio::test]
async fn prices_and_the_cloud_budget_are_validated_and_served_at_once() {
    each_db(|svc| async move {
        if svc.db.get_database_backend() == DbBackend::Postgres {
            return;
        }
        let admin = an_admin(&svc).await;
        for (price, credits, expected) in [
            ("0", "100", ("price", ErrorCode::NotPositive)),
            ("5.1234", "100", ("price", ErrorCode::NotAnInteger)),
            ("five", "100", ("price", ErrorCode::NotAnInteger)),
            ("5", "-1", ("credits", ErrorCode::NotPositive)),
            ("5", "1.5", ("credits", ErrorCode::NotAnInteger)),
        ] {
            let res = editor::update_price(
                &svc,
                &admin,
                "ip",
                editor::PriceEdit {
                    is_plan: true,
                    id: "pro",
                    price,
                    credits,
                },
                "",
            )
            .await;
            assert_eq!(code(res), expected, "{price} {credits}");
        }
        editor::update_price(
            &svc,
            &admin,
            "ip",
            editor::PriceEdit {
                is_plan: true,
                id: "pro",
                price: "17.5",
                credits: "25000",
            },
            "promo",
        )
        .await
        .unwrap();
        let pro = svc.catalog.plan("pro").unwrap();
        assert_eq!((pro.price_fils, pro.credits), (17_500, 25_000));
        editor::update_price(
            &svc,
            &admin,
            "ip",
            editor::PriceEdit {
                is_plan: false,
                id: "pack-5k",
                price: "1.250",
                credits: "5000",
            },
            "",
        )
        .await
        .unwrap();
        assert_eq!(svc.catalog.pack("pack-5k").unwrap().price_fils, 1_250);
        assert!(matches!(
            editor::update_price(
                &svc,
                &admin,
                "ip",
                editor::PriceEdit {
                    is_plan: false,
                    id: "nope",
                    price: "1",
                    credits: "1"
                },
                ""
            )
            .await,
            Err(Error::NotFound)
        ));

        let res = editor::update_budget(&svc, &admin, "ip", "many", "80", "").await;
        assert_eq!(code(res), ("cap", ErrorCode::NotAnInteger));
        let res = editor::update_budget(&svc, &admin, "ip", "100", "0", "").await;
        assert_eq!(code(res), ("warn_percent", ErrorCode::NotPositive));
        editor::update_budget(&svc, &admin, "ip", "900", "75", "more traffic")
            .await
            .unwrap();
        assert_eq!(svc.catalog.gateway.cloud_daily_cap, 900);
        assert_eq!(svc.catalog.gateway.cloud_budget_warn_percent, 75);
        // A fresh load (another instance) sees the same.
        let loaded = crate::catalog::Catalog::load(&svc.db).await.unwrap();
        assert_eq!(loaded, *svc.catalog.get());
    })
    .await;
}

#[tokio::test]
async fn the_cli_records_its_account_creation_and_adjustments_as_the_operator() {
    each_db(|svc| async move {
        let a = accounts::create(
            &svc,
            accounts::NewAccount {
                email: &unique_email(),
                phone: &unique_phone(),
                password: "password1",
                lang: "ar",
            },
            accounts::OperatorChoices {
                role: Some(Role::Admin),
                credits: Some(5),
                audited_by: Some(audit::Actor::cli()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        users::operator_adjust_credits(&svc, a.id, "+45", "invoice 77")
            .await
            .unwrap();
        let rows = audit_rows(&svc, a.id).await;
        assert_eq!(rows.len(), 2);
        assert!(rows
            .iter()
            .all(|r| r.actor == "cli" && r.actor_id.is_none()));
        assert_eq!(rows[1].action, actions::ACCOUNT_CREATE);
        assert!(rows[1]
            .after
            .as_deref()
            .unwrap()
            .contains(r#""role":"admin""#));
        assert_eq!(accounts::find(&svc.db, a.id).await.unwrap().credits, 50);
    })
    .await;
}
