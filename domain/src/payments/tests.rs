//! Payments end to end against the fake MyFatoorah (real HTTP), on SQLite and PostgreSQL.
use std::sync::Arc;

use fake_myfatoorah::{Config, Handle, Mode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::*;
use crate::accounts::{self, Account, NewAccount, OperatorChoices, Role};
use crate::entities::{account, ledger as ledger_row};
use crate::testing::{each_db, new_account, unique_email, unique_phone};
use crate::{events, ledger, time, Error, Services, Settings};

const TOKEN: &str = "fake-token-for-tests";
const SECRET: &str = "fake-webhook-secret-for-tests";
const DAY: i64 = 86_400;

/// The services with MyFatoorah pointing at a fresh fake.
async fn with_myfatoorah(svc: Services) -> (Services, Handle) {
    let (base, fake) = fake_myfatoorah::spawn(Config {
        token: TOKEN.into(),
        webhook_secret: SECRET.into(),
        hang_ms: 10_000,
        ..Config::default()
    })
    .await
    .expect("fake MyFatoorah");
    let settings = Settings {
        myfatoorah_base_url: Some(base),
        myfatoorah_api_token: Some(TOKEN.to_owned().into()),
        myfatoorah_webhook_secret: Some(SECRET.to_owned().into()),
        // Generous for a loaded machine, short enough for the timeout test.
        myfatoorah_timeout_ms: 4_000,
        public_base_url: "https://portal.example".into(),
        ..(*svc.settings).clone()
    };
    let svc = Services {
        settings: Arc::new(settings),
        ..svc
    };
    (svc, fake)
}

/// Checks out `item` and returns the checkout and the MyFatoorah invoice id.
async fn buy(svc: &Services, a: &Account, item: &str) -> (Checkout, i64) {
    let c = checkout(svc, a, item, "en").await.expect("checkout");
    let order = order_for_account(&svc.db, a.id, c.order_id)
        .await
        .expect("order");
    (c, order.invoice_id.expect("invoice id stored"))
}

/// The account's balance, after checking it equals the sum of its ledger.
async fn balance(svc: &Services, account_id: i64) -> i64 {
    let a = accounts::find(&svc.db, account_id).await.expect("account");
    let sum = ledger::sum(&svc.db, account_id).await.expect("ledger");
    assert_eq!(a.credits, sum, "balance column equals the ledger's sum");
    a.credits
}

async fn order(svc: &Services, id: i64) -> OrderInfo {
    orders::find(&svc.db, id).await.expect("order").into()
}

async fn event_kinds(svc: &Services, account_id: i64) -> Vec<String> {
    events::since(&svc.db, 0)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.account_id == Some(account_id))
        .map(|e| e.kind)
        .filter(|k| k != "welcome") // the registration's own event (NOTIF-01)
        .collect()
}

async fn admin(svc: &Services) -> Account {
    accounts::create(
        svc,
        NewAccount {
            email: &unique_email(),
            phone: &unique_phone(),
            password: "password1",
            lang: "en",
        },
        OperatorChoices {
            role: Some(Role::Admin),
            ..Default::default()
        },
    )
    .await
    .expect("admin")
}

#[tokio::test]
async fn paying_for_a_pack_credits_it_once_and_records_the_top_up() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, invoice) = buy(&svc, &a, "pack-5k").await;
        assert!(!c.test_gateway);
        assert!(c.redirect_url.ends_with(&format!("/pay/{invoice}")));
        let sent = fake.invoice(invoice).expect("invoice at MyFatoorah");
        assert_eq!(sent.value_fils, 5000);
        assert_eq!(sent.currency, "KWD");
        assert_eq!(sent.customer_reference, c.order_id.to_string());
        assert_eq!(sent.callback_url, "https://portal.example/billing/callback");
        assert_eq!(sent.error_url, "https://portal.example/billing/callback");
        assert_eq!(sent.payment_method_id, 1, "KNET, looked up by its code");
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Pending);

        let payment_id = fake.pay(invoice).expect("paid");
        let first = confirm_payment(&svc, &payment_id).await.expect("confirm");
        assert_eq!(first.status, OutcomeStatus::Paid);
        assert!(first.credited_now);
        let again = confirm_payment(&svc, &payment_id).await.expect("again");
        assert_eq!(again.status, OutcomeStatus::Paid);
        assert!(!again.credited_now);

        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);
        assert_eq!(event_kinds(&svc, a.id).await, ["topup_confirmed"]);
        let history = list_orders(&svc.db, a.id).await.expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].status, OrderStatus::Paid);
        assert_eq!(history[0].invoice_id, Some(invoice));
        assert_eq!(history[0].payment_id.as_deref(), Some(payment_id.as_str()));
        assert_eq!(history[0].amount_fils, 5000);
    })
    .await;
}

#[tokio::test]
async fn a_plan_confirmed_by_the_webhook_is_active_for_30_days_with_its_credits() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, invoice) = buy(&svc, &a, "pro").await;
        assert_eq!(fake.invoice(invoice).map(|i| i.value_fils), Some(15_000));
        fake.pay(invoice).expect("paid");
        let hook = fake.webhook(invoice).expect("webhook");
        let out = handle_webhook(&svc, Some(&hook.signature), &hook.body)
            .await
            .expect("webhook");
        let WebhookOutcome::Payment(out) = out else {
            panic!("expected a payment outcome, got {out:?}");
        };
        assert_eq!(out.status, OutcomeStatus::Paid);
        assert!(out.credited_now);
        assert_eq!(out.order.map(|o| o.id), Some(c.order_id));

        let now = time::now();
        let after = accounts::find(&svc.db, a.id).await.expect("account");
        assert_eq!(after.plan.as_deref(), Some("pro"));
        let left = after.plan_expires_at.expect("expiry") - now;
        assert!((30 * DAY - 60..=30 * DAY).contains(&left), "{left}");
        assert_eq!(balance(&svc, a.id).await, a.credits + 20_000);
        let sub = subscription(&svc.catalog, &after, now);
        assert_eq!(sub.status, SubscriptionStatus::Active);
        assert_eq!(sub.effective_plan, "pro");

        // MyFatoorah delivers webhooks more than once.
        let dup = handle_webhook(&svc, Some(&hook.signature), &hook.body)
            .await
            .expect("duplicate");
        assert!(matches!(dup, WebhookOutcome::Payment(o) if !o.credited_now));
        assert_eq!(balance(&svc, a.id).await, a.credits + 20_000);
        assert_eq!(event_kinds(&svc, a.id).await, ["subscription_activated"]);
    })
    .await;
}

#[tokio::test]
async fn renewing_the_active_plan_extends_it_from_the_current_expiry() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        for _ in 0..2 {
            let (_, invoice) = buy(&svc, &a, "pro").await;
            let pid = fake.pay(invoice).expect("paid");
            confirm_payment(&svc, &pid).await.expect("confirm");
        }
        let now = time::now();
        let after = accounts::find(&svc.db, a.id).await.expect("account");
        let left = after.plan_expires_at.expect("expiry") - now;
        assert!((60 * DAY - 60..=60 * DAY).contains(&left), "{left}");
        assert_eq!(balance(&svc, a.id).await, a.credits + 40_000);

        // Another plan replaces the current one from now; the first Enterprise
        // activation is announced to the admins once.
        for _ in 0..2 {
            let (_, invoice) = buy(&svc, &a, "enterprise").await;
            let pid = fake.pay(invoice).expect("paid");
            confirm_payment(&svc, &pid).await.expect("confirm");
        }
        let after = accounts::find(&svc.db, a.id).await.expect("account");
        assert_eq!(after.plan.as_deref(), Some("enterprise"));
        let left = after.plan_expires_at.expect("expiry") - now;
        assert!((60 * DAY - 60..=60 * DAY + 60).contains(&left), "{left}");
        let kinds = event_kinds(&svc, a.id).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "enterprise_customer").count(),
            1
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| *k == "subscription_activated")
                .count(),
            4
        );
    })
    .await;
}

#[tokio::test]
async fn a_forged_or_missing_signature_is_refused_and_changes_nothing() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, invoice) = buy(&svc, &a, "pack-5k").await;
        fake.pay(invoice).expect("paid");
        let hook = fake.webhook(invoice).expect("webhook");

        let missing = handle_webhook(&svc, None, &hook.body).await;
        assert!(matches!(missing, Err(Error::Unauthorized)), "{missing:?}");
        let wrong_key = fake_myfatoorah::sign("not-the-secret", "whatever");
        let forged = handle_webhook(&svc, Some(&wrong_key), &hook.body).await;
        assert!(matches!(forged, Err(Error::Unauthorized)), "{forged:?}");
        // A genuine signature does not cover a body changed to another invoice.
        let other = String::from_utf8(hook.body.clone())
            .expect("utf-8")
            .replace(&format!("\"Id\":\"{invoice}\""), "\"Id\":\"1\"");
        assert_ne!(other.as_bytes(), hook.body.as_slice());
        let tampered = handle_webhook(&svc, Some(&hook.signature), other.as_bytes()).await;
        assert!(matches!(tampered, Err(Error::Unauthorized)), "{tampered:?}");
        let garbage = handle_webhook(&svc, Some(&hook.signature), b"not json").await;
        assert!(matches!(garbage, Err(Error::Unauthorized)), "{garbage:?}");

        assert_eq!(fake.calls().get_payment_status, 0, "nothing was asked");
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Pending);
        assert_eq!(balance(&svc, a.id).await, a.credits);
    })
    .await;
}

#[tokio::test]
async fn a_webhook_for_an_unknown_invoice_is_accepted_and_changes_nothing() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, _) = buy(&svc, &a, "pack-5k").await;
        let message = "Invoice.Id=424242,Invoice.Status=PAID,Transaction.Status=SUCCESS,\
                       Transaction.PaymentId=0707424242000001,Invoice.ExternalIdentifier=";
        let body = serde_json::json!({
            "Event": {"Code": 1, "Name": "PAYMENT_STATUS_CHANGED", "Reference": "WH-1"},
            "Data": {
                "Invoice": {"Id": "424242", "Status": "PAID", "ExternalIdentifier": null},
                "Transaction": {"Status": "SUCCESS", "PaymentId": "0707424242000001"},
            }
        });
        let signature = fake_myfatoorah::sign(SECRET, message);
        let out = handle_webhook(&svc, Some(&signature), body.to_string().as_bytes())
            .await
            .expect("accepted");
        assert_eq!(out, WebhookOutcome::UnknownInvoice);
        assert_eq!(fake.calls().get_payment_status, 0);
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Pending);
        assert_eq!(balance(&svc, a.id).await, a.credits);
    })
    .await;
}

#[tokio::test]
async fn an_old_payment_id_replayed_for_a_new_order_credits_nothing() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (old, invoice) = buy(&svc, &a, "pack-5k").await;
        let old_payment = fake.pay(invoice).expect("paid");
        confirm_payment(&svc, &old_payment).await.expect("confirm");
        let (new, _) = buy(&svc, &a, "pack-50k").await;

        let replay = confirm_payment(&svc, &old_payment).await.expect("replay");
        assert!(!replay.credited_now);
        assert_eq!(replay.order.map(|o| o.id), Some(old.order_id));
        assert_eq!(order(&svc, new.order_id).await.status, OrderStatus::Pending);
        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);

        let unknown = confirm_payment(&svc, "0707999999999").await;
        assert!(matches!(unknown, Err(Error::NotFound)), "{unknown:?}");
    })
    .await;
}

#[tokio::test]
async fn an_amount_or_currency_mismatch_flags_the_order_and_credits_nothing() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;

        let (cheap, invoice) = buy(&svc, &a, "pack-50k").await;
        fake.edit_invoice(invoice, |inv| inv.value_fils = 1000);
        let pid = fake.pay(invoice).expect("paid");
        let out = confirm_payment(&svc, &pid).await.expect("confirm");
        assert_eq!(out.status, OutcomeStatus::Mismatch);
        assert!(!out.credited_now);

        let (foreign, invoice) = buy(&svc, &a, "pack-15k").await;
        fake.edit_invoice(invoice, |inv| inv.currency = "SAR".into());
        fake.pay(invoice).expect("paid");
        let hook = fake.webhook(invoice).expect("webhook");
        let out = handle_webhook(&svc, Some(&hook.signature), &hook.body)
            .await
            .expect("webhook");
        assert!(matches!(&out, WebhookOutcome::Payment(o) if o.status == OutcomeStatus::Mismatch));

        // A flagged order stays flagged, whoever asks again.
        retry::retry_pending_at(&svc, time::now() + 120)
            .await
            .expect("job");
        confirm_payment(&svc, &pid).await.expect("again");
        for id in [cheap.order_id, foreign.order_id] {
            let o = order(&svc, id).await;
            assert_eq!(o.status, OrderStatus::Mismatch);
            assert!(o.note.is_some_and(|n| !n.is_empty()));
        }
        assert_eq!(balance(&svc, a.id).await, a.credits);
    })
    .await;
}

#[tokio::test]
async fn a_webhook_racing_the_callback_credits_exactly_once() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let rounds = 20;
        for _ in 0..rounds {
            let (_, invoice) = buy(&svc, &a, "pack-5k").await;
            let pid = fake.pay(invoice).expect("paid");
            let hook = fake.webhook(invoice).expect("webhook");
            let (by_callback, by_webhook) = tokio::join!(
                confirm_payment(&svc, &pid),
                handle_webhook(&svc, Some(&hook.signature), &hook.body)
            );
            let by_callback = by_callback.expect("callback");
            let WebhookOutcome::Payment(by_webhook) = by_webhook.expect("webhook") else {
                panic!("expected a payment outcome");
            };
            assert_eq!(by_callback.status, OutcomeStatus::Paid);
            assert_eq!(by_webhook.status, OutcomeStatus::Paid);
            assert!(
                by_callback.credited_now ^ by_webhook.credited_now,
                "exactly one of them credits"
            );
        }
        assert_eq!(balance(&svc, a.id).await, a.credits + rounds * 5000);
        let purchases = ledger_row::Entity::find()
            .filter(ledger_row::Column::AccountId.eq(a.id))
            .filter(ledger_row::Column::Kind.eq("purchase"))
            .all(&svc.db)
            .await
            .expect("ledger");
        assert_eq!(purchases.len() as i64, rounds);
    })
    .await;
}

#[tokio::test]
async fn when_myfatoorah_fails_or_times_out_the_order_stays_pending_until_the_job_confirms_it() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, invoice) = buy(&svc, &a, "pack-5k").await;
        let pid = fake.pay(invoice).expect("paid");
        let hook = fake.webhook(invoice).expect("webhook");

        fake.set_status_mode(Mode::ServerError);
        let out = confirm_payment(&svc, &pid).await.expect("callback");
        assert_eq!(out.status, OutcomeStatus::Confirming);
        let out = handle_webhook(&svc, Some(&hook.signature), &hook.body)
            .await
            .expect("webhook");
        assert!(matches!(out, WebhookOutcome::Payment(o) if o.status == OutcomeStatus::Confirming));
        let later = time::now() + 120;
        retry::retry_pending_at(&svc, later)
            .await
            .expect("job while down");

        fake.set_status_mode(Mode::Hang);
        let started = std::time::Instant::now();
        let out = confirm_payment(&svc, &pid).await.expect("callback");
        assert_eq!(out.status, OutcomeStatus::Confirming);
        assert!(started.elapsed() < std::time::Duration::from_secs(9));

        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Pending);
        assert_eq!(balance(&svc, a.id).await, a.credits);

        fake.set_status_mode(Mode::Normal);
        let settled = retry::retry_pending_at(&svc, later).await.expect("job");
        assert!(settled >= 1);
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Paid);
        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);
    })
    .await;
}

#[tokio::test]
async fn the_retry_job_leaves_a_fresh_order_to_the_callback_and_asks_a_minute_later() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, invoice) = buy(&svc, &a, "pack-5k").await;
        fake.pay(invoice).expect("paid");
        retry_pending(&svc).await.expect("job");
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Pending);
        retry::retry_pending_at(&svc, time::now() + 61)
            .await
            .expect("job");
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Paid);
        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);
    })
    .await;
}

#[tokio::test]
async fn a_declined_payment_fails_the_order_and_a_later_success_on_its_invoice_still_counts() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let (c, invoice) = buy(&svc, &a, "pack-5k").await;
        let declined = fake.fail(invoice).expect("attempt");
        let out = confirm_payment(&svc, &declined).await.expect("callback");
        assert_eq!(out.status, OutcomeStatus::Failed);
        assert_eq!(balance(&svc, a.id).await, a.credits);

        fake.pay(invoice).expect("second attempt");
        let hook = fake.webhook(invoice).expect("webhook");
        handle_webhook(&svc, Some(&hook.signature), &hook.body)
            .await
            .expect("webhook");
        assert_eq!(order(&svc, c.order_id).await.status, OrderStatus::Paid);
        // The declined attempt's paymentId cannot take a paid order back.
        let out = confirm_payment(&svc, &declined).await.expect("old attempt");
        assert_eq!(out.status, OutcomeStatus::Paid);
        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);

        let (canceled, invoice) = buy(&svc, &a, "pack-5k").await;
        fake.cancel(invoice);
        retry::retry_pending_at(&svc, time::now() + 120)
            .await
            .expect("job");
        assert_eq!(
            order(&svc, canceled.order_id).await.status,
            OrderStatus::Canceled
        );
        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);
    })
    .await;
}

#[tokio::test]
async fn unknown_items_are_refused_and_a_refused_checkout_fails_its_order() {
    each_db(|svc| async move {
        let (svc, fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let unknown = checkout(&svc, &a, "gold", "en").await;
        assert!(
            matches!(unknown, Err(Error::Invalid { field: "item", .. })),
            "{unknown:?}"
        );
        assert!(list_orders(&svc.db, a.id).await.expect("list").is_empty());

        fake.set_config(|c| c.execute_mode = Mode::ServerError);
        let down = checkout(&svc, &a, "pack-5k", "ar").await;
        assert!(matches!(down, Err(Error::PaymentProvider(_))), "{down:?}");
        fake.set_config(|c| {
            c.execute_mode = Mode::Normal;
            c.token = "another-token".into();
        });
        let refused = checkout(&svc, &a, "pack-5k", "ar").await;
        assert!(
            matches!(refused, Err(Error::PaymentProvider(_))),
            "{refused:?}"
        );

        let history = list_orders(&svc.db, a.id).await.expect("list");
        assert_eq!(history.len(), 2);
        for o in history {
            assert_eq!(o.status, OrderStatus::Failed);
            assert_eq!(o.invoice_id, None);
            assert!(o.note.is_some_and(|n| n.contains("MyFatoorah")));
        }
        assert_eq!(balance(&svc, a.id).await, a.credits);
    })
    .await;
}

#[tokio::test]
async fn the_test_gateway_walks_the_same_path_when_myfatoorah_is_not_configured() {
    each_db(|svc| async move {
        assert!(uses_test_gateway(&svc));
        let a = new_account(&svc).await;
        let stranger = new_account(&svc).await;
        let c = checkout(&svc, &a, "pack-5k", "en").await.expect("checkout");
        assert!(c.test_gateway);
        assert_eq!(c.redirect_url, format!("/billing/test-pay/{}", c.order_id));

        let theirs = test_gateway_complete(&svc, c.order_id, stranger.id, true).await;
        assert!(matches!(theirs, Err(Error::NotFound)), "{theirs:?}");
        let paid = test_gateway_complete(&svc, c.order_id, a.id, true)
            .await
            .expect("pay");
        assert_eq!(paid.status, OutcomeStatus::Paid);
        assert!(paid.credited_now);
        let again = test_gateway_complete(&svc, c.order_id, a.id, true)
            .await
            .expect("again");
        assert!(!again.credited_now);
        let late_failure = test_gateway_complete(&svc, c.order_id, a.id, false)
            .await
            .expect("late failure");
        assert_eq!(late_failure.status, OutcomeStatus::Paid, "never downgraded");

        let failed = checkout(&svc, &a, "pro", "ar").await.expect("checkout");
        let out = test_gateway_complete(&svc, failed.order_id, a.id, false)
            .await
            .expect("fail");
        assert_eq!(out.status, OutcomeStatus::Failed);
        assert_eq!(balance(&svc, a.id).await, a.credits + 5000);
        assert_eq!(accounts::find(&svc.db, a.id).await.expect("a").plan, None);

        // Without credentials there is nothing to ask.
        assert!(matches!(
            confirm_payment(&svc, "07071").await,
            Err(Error::NotFound)
        ));
        assert_eq!(retry_pending(&svc).await.expect("job"), 0);
    })
    .await;
}

#[tokio::test]
async fn the_test_gateway_is_refused_when_myfatoorah_is_configured() {
    each_db(|svc| async move {
        let test_mode = svc.clone();
        let a = new_account(&svc).await;
        let started_in_test_mode = checkout(&test_mode, &a, "pack-5k", "en")
            .await
            .expect("checkout");
        let (svc, _fake) = with_myfatoorah(svc).await;
        assert!(!uses_test_gateway(&svc));
        let (real, _) = buy(&svc, &a, "pack-5k").await;
        for id in [started_in_test_mode.order_id, real.order_id] {
            let out = test_gateway_complete(&svc, id, a.id, true).await;
            assert!(matches!(out, Err(Error::Unauthorized)), "{out:?}");
            assert_eq!(order(&svc, id).await.status, OrderStatus::Pending);
        }
        // And a MyFatoorah order cannot be completed by the test gateway later.
        let out = test_gateway_complete(&test_mode, real.order_id, a.id, true).await;
        assert!(matches!(out, Err(Error::Unauthorized)), "{out:?}");
        assert_eq!(balance(&svc, a.id).await, a.credits);
    })
    .await;
}

#[tokio::test]
async fn an_admin_marks_a_pending_order_paid_with_the_reason_in_the_ledger() {
    each_db(|svc| async move {
        let (svc, _fake) = with_myfatoorah(svc).await;
        let a = new_account(&svc).await;
        let boss = admin(&svc).await;
        let (c, _) = buy(&svc, &a, "pack-15k").await;

        let by_user = admin_mark_paid(&svc, &a, c.order_id, "trust me").await;
        assert!(matches!(by_user, Err(Error::Unauthorized)), "{by_user:?}");
        let no_reason = admin_mark_paid(&svc, &boss, c.order_id, "  ").await;
        assert!(
            matches!(
                no_reason,
                Err(Error::Invalid {
                    field: "reason",
                    ..
                })
            ),
            "{no_reason:?}"
        );
        let out = admin_mark_paid(&svc, &boss, c.order_id, "paid per MyFatoorah portal")
            .await
            .expect("marked");
        assert_eq!(out.status, OutcomeStatus::Paid);
        let twice = admin_mark_paid(&svc, &boss, c.order_id, "again").await;
        assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");

        assert_eq!(balance(&svc, a.id).await, a.credits + 15_000);
        let row = ledger_row::Entity::find()
            .filter(ledger_row::Column::AccountId.eq(a.id))
            .order_by_desc(ledger_row::Column::Id)
            .one(&svc.db)
            .await
            .expect("ledger")
            .expect("a row");
        let reason = row.reason.unwrap_or_default();
        assert!(reason.contains(&boss.email), "{reason}");
        assert!(reason.contains("paid per MyFatoorah portal"), "{reason}");
        assert_eq!(
            row.reference.as_deref(),
            Some(format!("order:{}", c.order_id).as_str())
        );

        let page = list_all_orders(&svc.db, 1, 0).await.expect("page");
        assert_eq!(page.len(), 1);
        assert!(count_all_orders(&svc.db).await.expect("count") >= 1);
        assert!(page[0].id >= c.order_id, "newest first");
    })
    .await;
}

#[tokio::test]
async fn lapsed_plans_expire_once_and_the_account_falls_back_to_basic() {
    each_db(|svc| async move {
        let a = accounts::create(
            &svc,
            NewAccount {
                email: &unique_email(),
                phone: &unique_phone(),
                password: "password1",
                lang: "ar",
            },
            OperatorChoices {
                plan: Some("pro".into()),
                ..Default::default()
            },
        )
        .await
        .expect("account");
        let now = time::now();
        expire_plans(&svc.db, now).await.expect("job");
        let still = accounts::find(&svc.db, a.id).await.expect("a");
        assert_eq!(still.plan.as_deref(), Some("pro"), "an active plan stays");

        let lapsed_at = now - 10;
        account::Entity::update_many()
            .col_expr(account::Column::PlanExpiresAt, Some(lapsed_at).into())
            .filter(account::Column::Id.eq(a.id))
            .exec(&svc.db)
            .await
            .expect("lapse");
        let before = accounts::find(&svc.db, a.id).await.expect("a");
        assert_eq!(
            svc.catalog
                .effective_plan(before.plan.as_deref(), before.plan_expires_at, now)
                .id,
            "basic"
        );
        assert!(expire_plans(&svc.db, now).await.expect("job") >= 1);
        expire_plans(&svc.db, now).await.expect("job again");

        let after = accounts::find(&svc.db, a.id).await.expect("a");
        assert_eq!(after.plan, None);
        assert_eq!(
            after.plan_expires_at,
            Some(lapsed_at),
            "the end date is kept"
        );
        let sub = subscription(&svc.catalog, &after, now);
        assert_eq!(sub.status, SubscriptionStatus::Expired);
        assert_eq!(sub.effective_plan, "basic");
        assert_eq!(event_kinds(&svc, a.id).await, ["plan_expired"]);
    })
    .await;
}

/// The services of `svc` with other settings.
fn reconfigured(svc: &Services, change: impl FnOnce(&mut Settings)) -> Services {
    let mut settings = (*svc.settings).clone();
    change(&mut settings);
    Services {
        settings: Arc::new(settings),
        hourly: Default::default(),
        ..svc.clone()
    }
}

#[tokio::test]
async fn without_a_provider_or_test_mode_nothing_can_be_bought() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let test_mode = svc.clone();
        let started_in_test_mode = checkout(&test_mode, &a, "pack-5k", "en")
            .await
            .expect("checkout");
        let svc = reconfigured(&svc, |s| s.payments_test_mode = false);
        assert!(!uses_test_gateway(&svc));
        assert!(!payments_available(&svc));
        let refused = checkout(&svc, &a, "pro", "en").await;
        assert!(
            matches!(refused, Err(Error::PaymentsDisabled)),
            "{refused:?}"
        );
        assert_eq!(list_orders(&svc.db, a.id).await.expect("list").len(), 1);
        // An order started while the test gateway was open cannot be paid once it closed.
        let out = test_gateway_complete(&svc, started_in_test_mode.order_id, a.id, true).await;
        assert!(matches!(out, Err(Error::Unauthorized)), "{out:?}");
        assert_eq!(
            order(&svc, started_in_test_mode.order_id).await.status,
            OrderStatus::Pending
        );
        assert_eq!(balance(&svc, a.id).await, a.credits);
    })
    .await;
}

#[tokio::test]
async fn checkouts_are_limited_per_account_per_hour() {
    each_db(|svc| async move {
        let svc = reconfigured(&svc, |s| s.checkouts_per_account_per_hour = 2);
        let a = new_account(&svc).await;
        let b = new_account(&svc).await;
        for _ in 0..2 {
            checkout(&svc, &a, "pack-5k", "en").await.expect("checkout");
        }
        let refused = checkout(&svc, &a, "pack-5k", "en").await;
        assert!(
            matches!(refused, Err(Error::RateLimited { retry_after_secs }) if retry_after_secs > 3000),
            "{refused:?}"
        );
        assert_eq!(list_orders(&svc.db, a.id).await.expect("list").len(), 2);
        checkout(&svc, &b, "pack-5k", "en").await.expect("another account");
    })
    .await;
}
