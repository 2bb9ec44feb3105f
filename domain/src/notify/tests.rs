//! The notification pipeline end to end: events recorded by the real code paths, the real
//! worker, and a fake WhatsApp (Meta Cloud API and generic gateway) over HTTP — on SQLite
//! and, with `TEST_DATABASE_URL`, PostgreSQL.
//!
//! A worker sends every due message of the database, and PostgreSQL is shared by all
//! tests of a run, so these tests take turns ([`TURN`]) and look only at the messages to
//! their own (unique) numbers, or with their own unique values.
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_whatsapp::{Failure, Handle, Received};
use secrecy::SecretString;
use serde_json::json;

use super::bans::{self, BanEvent, Report};
use super::*;
use crate::accounts::{self, Account, NewAccount};
use crate::testing::{each_db, unique_email, unique_phone};
use crate::{events, payments, time, Error, Services, Settings};
use locale::{fmt_int, kuwait_date, Lang};

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Services whose WhatsApp settings point at a new fake, with `provider` chosen.
async fn with_fake(
    svc: &Services,
    provider: &str,
    change: impl FnOnce(&mut Settings),
) -> (Services, Handle) {
    let (base, fake) = fake_whatsapp::spawn(fake_whatsapp::Config {
        hang_ms: 30_000,
        ..Default::default()
    })
    .await
    .expect("fake whatsapp");
    let c = fake.config();
    let mut s = (*svc.settings).clone();
    s.whatsapp_provider = provider.into();
    s.whatsapp_meta_base_url = base.clone();
    s.whatsapp_meta_phone_number_id = Some(c.phone_number_id);
    s.whatsapp_meta_token = Some(SecretString::from(c.meta_token));
    s.whatsapp_http_url = Some(format!("{base}/send"));
    s.whatsapp_http_token = Some(SecretString::from(c.http_token));
    s.public_base_url = "https://portal.example".into();
    // One language per message unless a test asks for bilingual ones.
    s.notify_bilingual_kinds = "none".into();
    change(&mut s);
    let svc = Services {
        settings: Arc::new(s),
        ..svc.clone()
    };
    (svc, fake)
}

/// Pacing for tests: short timeouts and leases, a one-second backoff.
fn quick() -> WorkerConfig {
    WorkerConfig {
        poll: Duration::from_millis(50),
        send_timeout: Duration::from_secs(2),
        lease: Duration::from_secs(1),
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(1),
        max_attempts: 5,
        max_per_pass: 10_000,
        schedule_every: Duration::from_secs(3600),
    }
}

/// A new account with its phone verified (other notifications than the welcome and the
/// codes go only to verified phones).
async fn register(svc: &Services, lang: &str) -> Account {
    let a = accounts::register(
        svc,
        NewAccount {
            email: &unique_email(),
            phone: &unique_phone(),
            password: "password1",
            lang,
        },
    )
    .await
    .expect("register");
    crate::testing::mark_verified(svc, a.id).await;
    accounts::find(&svc.db, a.id).await.expect("find")
}

/// Runs passes until `done` holds, failing after 20 seconds.
async fn pass_until(worker: &Worker, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        worker.run_once().await.expect("pass");
        if done() {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn param<'a>(r: &'a Received, name: &str) -> &'a str {
    r.params
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The six-digit code in a message's text.
fn welcome_code(text: &str) -> String {
    let digits: Vec<char> = text.chars().collect();
    digits
        .windows(6)
        .find(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .unwrap_or_else(|| panic!("no code in {text}"))
}

fn templates_of(msgs: &[Received]) -> Vec<&str> {
    msgs.iter().filter_map(|m| m.template.as_deref()).collect()
}

fn ltr(s: &str) -> String {
    format!("\u{2066}{s}\u{2069}")
}

/// Buys `item` through the local test gateway; returns the order id.
async fn pay(svc: &Services, a: &Account, item: &str) -> i64 {
    let c = payments::checkout(svc, a, item, &a.lang)
        .await
        .expect("checkout");
    payments::test_gateway_complete(svc, c.order_id, a.id, true)
        .await
        .expect("paid");
    c.order_id
}

/// Takes `amount` credits the way the gateway does (its meter's writer checks the
/// thresholds after writing the charge).
async fn spend(svc: &Services, a: &Account, amount: i64) {
    let (key, _) = crate::keys::create(svc, a, "spend").await.expect("key");
    let meter =
        crate::meter::Meter::start(svc.db.clone(), svc.catalog.gateway.credit_warning_percent);
    let r = meter
        .reserve(key.id, a.id, amount, &keys_token())
        .await
        .expect("reserve");
    meter.settle(r, amount, crate::usage::UsageRecord::default());
    meter.shutdown().await;
}

fn keys_token() -> String {
    crate::keys::random_token(8)
}

/// Something unique to this run for keys that other tests share (a far-future day).
fn unique_day() -> i64 {
    rand::random_range(100_000..9_000_000)
}

/// An address of the documentation range, written as the portal stores it.
fn unique_ip() -> String {
    let [a, b, c]: [u16; 3] = rand::random();
    std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, a | 1, b, c).to_string()
}

async fn cloud_events(svc: &Services, day: i64) {
    for (kind, name, used) in [
        (events::Kind::CloudBudgetWarning, "cloud_budget_80", 400),
        (events::Kind::CloudBudgetExhausted, "cloud_budget_100", 500),
    ] {
        let payload = json!({ "used": used, "cap": 500, "kuwait_day": day });
        events::record(&svc.db, kind, None, &format!("{name}:{day}"), payload)
            .await
            .expect("record");
    }
}

fn ban_report(ip: &str, time: i64) -> Report {
    Report {
        event: BanEvent::Ban,
        jail: "resayil-auth".into(),
        ip: ip.into(),
        failures: Some(3.0),
        time: Some(time as f64),
        bantime: Some(3600.0),
        user: Some("*eve*_x_@example.com\n\u{202E}PAY NOW".into()),
    }
}

/// What [`fire_everything`] used, to fire the same events again.
struct Fired {
    orders: Vec<i64>,
    reminder_at: i64,
}

/// Fires every event of NOTIF-02..10 for accounts `a` (English) and `b` (Arabic), each
/// through the code that records it in production.
async fn fire_everything(svc: &Services, a: &Account, b: &Account, day: i64, ip: &str) -> Fired {
    let plan = pay(svc, a, "enterprise").await; // NOTIF-02 and NOTIF-10
    let pack = pay(svc, a, "pack-5k").await; // NOTIF-05
    spend(svc, b, 850).await; // NOTIF-03: 150 left of 1000
    spend(svc, b, 150).await; // NOTIF-04
    let a_now = accounts::find(&svc.db, a.id).await.expect("a");
    let reminder_at = a_now.plan_expires_at.expect("plan") - 2 * 86_400;
    let reminded = schedules::renewal_reminders(&svc.db, reminder_at)
        .await
        .expect("reminders"); // NOTIF-06
    assert!(reminded >= 1);
    cloud_events(svc, day).await; // NOTIF-07, NOTIF-08
    bans::report(&svc.db, ban_report(ip, 1_795_640_400))
        .await
        .expect("ban"); // NOTIF-09
    Fired {
        orders: vec![plan, pack],
        reminder_at,
    }
}

/// The same events once more: confirmations of the same orders, the same balances, the
/// same hour, day and ban.
async fn fire_again(svc: &Services, a: &Account, b: &Account, day: i64, ip: &str, f: &Fired) {
    for order in &f.orders {
        payments::test_gateway_complete(svc, *order, a.id, true)
            .await
            .expect("confirmed again");
    }
    let welcome = json!({ "credits": 1000 });
    let key = format!("welcome:{}", a.id);
    assert!(
        !events::record(&svc.db, events::Kind::Welcome, Some(a.id), &key, welcome)
            .await
            .unwrap()
    );
    let pct = svc.catalog.gateway.credit_warning_percent;
    events::check_credits(&svc.db, b.id, 150, pct)
        .await
        .unwrap();
    events::check_credits(&svc.db, b.id, 0, pct).await.unwrap();
    schedules::renewal_reminders(&svc.db, f.reminder_at)
        .await
        .unwrap();
    cloud_events(svc, day).await;
    bans::report(&svc.db, ban_report(ip, 1_795_640_400))
        .await
        .unwrap();
}

/// The admin alerts about this test's own events (other tests' events reach the same
/// admins when they share a database).
fn my_alerts(got: &[Received], day: i64, ip: &str, email: &str) -> usize {
    let date = ltr(&kuwait_date(day * 86_400 - locale::KUWAIT_OFFSET_SECS));
    got.iter()
        .filter(|m| {
            param(m, "date") == date || param(m, "ip") == ltr(ip) || param(m, "email") == ltr(email)
        })
        .count()
}

#[tokio::test]
async fn every_notif_event_sends_one_message_in_the_right_language_with_the_right_numbers() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let admins = [unique_phone(), unique_phone()];
        let list = format!("{}, {}", admins[0], admins[1]);
        let (svc, fake) = with_fake(&svc, "meta", |s| s.admin_phones = list).await;
        let worker = Worker::new(svc.clone(), quick());
        let a = register(&svc, "en").await; // NOTIF-01
        let b = register(&svc, "ar").await;
        let (day, ip) = (unique_day(), unique_ip());
        let fired = fire_everything(&svc, &a, &b, day, &ip).await;
        worker.run_once().await.expect("pass");

        // The English user: welcome, plan, top-up, reminder — once each, in English.
        let to_a = fake.received_by(&a.phone);
        assert_eq!(
            templates_of(&to_a),
            [
                "resayil_welcome",
                "resayil_subscription_activated",
                "resayil_topup_confirmed",
                "resayil_renewal_reminder"
            ]
        );
        assert!(to_a.iter().all(|m| m.lang.as_deref() == Some("en")));
        let expires = accounts::find(&svc.db, a.id).await.unwrap().plan_expires_at;
        let expiry = kuwait_date(expires.unwrap());
        assert_eq!(param(&to_a[0], "credits"), "1,000");
        assert_eq!(
            param(&to_a[0], "dashboard_url"),
            "https://portal.example/dashboard"
        );
        assert_eq!(param(&to_a[1], "plan"), "Enterprise");
        assert_eq!(param(&to_a[1], "credits"), "75,000");
        assert_eq!(param(&to_a[1], "balance"), "76,000");
        assert_eq!(param(&to_a[1], "expiry"), expiry);
        assert_eq!(param(&to_a[2], "amount"), "5.000 KWD");
        assert_eq!(param(&to_a[2], "credits"), "5,000");
        assert_eq!(param(&to_a[2], "balance"), "81,000");
        assert_eq!(param(&to_a[3], "plan"), "Enterprise");
        assert_eq!(param(&to_a[3], "expiry"), expiry);
        assert_eq!(
            param(&to_a[3], "topup_url"),
            "https://portal.example/billing"
        );

        // The Arabic user: welcome, warning at 15 %, exhausted — in Arabic digits.
        let to_b = fake.received_by(&b.phone);
        assert_eq!(
            templates_of(&to_b),
            [
                "resayil_welcome",
                "resayil_credit_warning",
                "resayil_credits_exhausted"
            ]
        );
        assert!(to_b.iter().all(|m| m.lang.as_deref() == Some("ar")));
        assert_eq!(param(&to_b[0], "credits"), "١٬٠٠٠");
        assert_eq!(param(&to_b[1], "credits"), "١٥٠");
        assert_eq!(param(&to_b[1], "percent"), "١٥");
        assert_eq!(
            param(&to_b[2], "topup_url"),
            "https://portal.example/billing"
        );

        // Each admin: one alert per event of this test, in Arabic (ADMIN_LANG default).
        for admin in &admins {
            let got = fake.received_by(admin);
            let mine = |template: &str, key: &str, value: &str| -> Vec<Received> {
                got.iter()
                    .filter(|m| m.template.as_deref() == Some(template))
                    .filter(|m| param(m, key) == value)
                    .cloned()
                    .collect()
            };
            let date = ltr(&kuwait_date(day * 86_400 - locale::KUWAIT_OFFSET_SECS));
            let warn = mine("resayil_admin_cloud_budget_warning", "date", &date);
            assert_eq!(warn.len(), 1, "{got:?}");
            assert_eq!(param(&warn[0], "used"), "٤٠٠");
            assert_eq!(param(&warn[0], "percent"), "٨٠");
            let off = mine("resayil_admin_cloud_budget_exhausted", "date", &date);
            assert_eq!(off.len(), 1);
            assert_eq!(param(&off[0], "cap"), "٥٠٠");
            let ban = mine("resayil_admin_ip_banned", "ip", &ltr(&ip));
            assert_eq!(ban.len(), 1);
            assert_eq!(param(&ban[0], "failures"), "٣");
            assert_eq!(param(&ban[0], "minutes"), "٦٠");
            // The name is as typed in the database, harmless in the alert.
            assert_eq!(
                param(&ban[0], "user"),
                ltr("\u{2217}eve\u{2217}\u{FF3F}x\u{FF3F}@example.com PAY NOW")
            );
            let ent = mine("resayil_admin_enterprise_customer", "email", &ltr(&a.email));
            assert_eq!(ent.len(), 1);
            assert_eq!(param(&ent[0], "phone"), ltr(&a.phone));
            assert!(got.iter().all(|m| m.lang.as_deref() == Some("ar")));
            assert_eq!(my_alerts(&got, day, &ip, &a.email), 4);
        }

        // The same events again change nothing: each was recorded once.
        fire_again(&svc, &a, &b, day, &ip, &fired).await;
        worker.run_once().await.expect("pass");
        assert_eq!(fake.received_by(&a.phone).len(), 4);
        assert_eq!(fake.received_by(&b.phone).len(), 3);
        for admin in &admins {
            assert_eq!(my_alerts(&fake.received_by(admin), day, &ip, &a.email), 4);
        }
        let rows = recent(&svc.db, 500).await.unwrap();
        let for_a: Vec<_> = rows.iter().filter(|r| r.to == a.phone).collect();
        assert_eq!(for_a.len(), 4);
        assert!(for_a
            .iter()
            .all(|r| r.status == Status::Sent && r.attempts == 1 && r.lang == "en"));
    })
    .await;
}

#[tokio::test]
async fn the_generic_provider_gets_the_phone_and_the_text_in_both_languages_when_asked() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "http", |s| s.notify_both_languages = true).await;
        let a = register(&svc, "en").await;
        Worker::new(svc.clone(), quick()).run_once().await.unwrap();
        let got = fake.received_by(&a.phone);
        let texts: Vec<&str> = got.iter().filter_map(|m| m.text.as_deref()).collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        let code = welcome_code(texts[0]);
        assert_eq!(
            texts,
            [
                format!("Welcome to Resayil LLM! Your account is ready with 1,000 free credits. Your phone verification code is {code} (valid for 10 minutes). Create an API key on your dashboard at https://portal.example/dashboard and start building."),
                format!("أهلاً بك في رسائل LLM! حسابك جاهز ومعه ١٬٠٠٠ رصيد مجاني. رمز تأكيد رقم هاتفك \u{2066}{code}\u{2069} (صالح ١٠ دقائق). أنشئ مفتاح API من لوحة التحكم https://portal.example/dashboard وابدأ العمل."),
            ]
        );
        assert!(a.phone.starts_with('+'));
    })
    .await;
}

#[tokio::test]
async fn an_outage_delays_messages_and_loses_none() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "meta", |_| {}).await;
        let worker = Worker::new(svc.clone(), quick());
        fake.fail(Failure::ServerError);
        let users = [
            register(&svc, "ar").await,
            register(&svc, "en").await,
            register(&svc, "ar").await,
        ];
        worker.run_once().await.unwrap();
        assert!(fake.received().is_empty());
        let rows = recent(&svc.db, 500).await.unwrap();
        for u in &users {
            let r = rows.iter().find(|r| r.to == u.phone).expect("queued");
            assert_eq!((r.status, r.attempts), (Status::Pending, 1));
            assert!(r.next_attempt_at > time::now() - 1);
            assert!(r.last_error.as_deref().unwrap_or("").contains("503"));
        }
        // Still down at the next attempt, then back.
        pass_until(&worker, || fake.requests() >= 6).await;
        fake.recover();
        pass_until(&worker, || {
            users.iter().all(|u| !fake.received_by(&u.phone).is_empty())
        })
        .await;
        worker.run_once().await.unwrap();
        for u in &users {
            assert_eq!(fake.received_by(&u.phone).len(), 1);
        }
    })
    .await;
}

#[tokio::test]
async fn a_worker_killed_mid_send_is_taken_over_and_nothing_is_sent_twice() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "meta", |_| {}).await;
        let users = [register(&svc, "ar").await, register(&svc, "en").await];
        fake.fail(Failure::Hang);
        let first = Worker::new(svc.clone(), quick());
        let task = tokio::spawn(async move { first.run_once().await });
        let start = Instant::now();
        while fake.in_flight() == 0 {
            assert!(start.elapsed() < Duration::from_secs(10), "no send started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        task.abort(); // the process dies in the middle of a send
        assert!(task.await.is_err());
        fake.recover();
        let stuck = recent(&svc.db, 500).await.unwrap();
        assert!(stuck.iter().any(|r| r.status == Status::Sending));

        let second = Worker::new(svc.clone(), quick());
        pass_until(&second, || {
            users.iter().all(|u| !fake.received_by(&u.phone).is_empty())
        })
        .await;
        second.run_once().await.unwrap();
        for u in &users {
            assert_eq!(fake.received_by(&u.phone).len(), 1);
        }
    })
    .await;
}

#[tokio::test]
async fn workers_running_at_once_never_send_a_message_twice() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let admin = unique_phone();
        let (svc, fake) = with_fake(&svc, "meta", |s| s.admin_phones = admin.clone()).await;
        let mut ips = Vec::new();
        for _ in 0..40 {
            let ip = unique_ip();
            bans::report(&svc.db, ban_report(&ip, time::now()))
                .await
                .unwrap();
            ips.push(ltr(&ip));
        }
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let w = Worker::new(svc.clone(), quick());
                tokio::spawn(async move { w.run_once().await })
            })
            .collect();
        for w in workers {
            if let Err(e) = w.await.expect("join") {
                panic!("pass: {e}");
            }
        }
        let got = fake.received_by(&admin);
        for ip in &ips {
            let n = got.iter().filter(|m| param(m, "ip") == ip).count();
            assert_eq!(n, 1, "{ip}");
        }
    })
    .await;
}

#[tokio::test]
async fn permanent_errors_fail_at_once_temporary_ones_wait_and_admins_can_resend() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "meta", |_| {}).await;
        let worker = Worker::new(svc.clone(), quick());
        let refused = register(&svc, "ar").await;
        fake.fail(Failure::MetaError {
            code: 131030,
            status: 400,
        });
        worker.run_once().await.unwrap();
        let row = |rows: &[OutboxRow], phone: &str| {
            rows.iter().find(|r| r.to == phone).cloned().expect("row")
        };
        let failed = row(&recent(&svc.db, 500).await.unwrap(), &refused.phone);
        assert_eq!((failed.status, failed.attempts), (Status::Failed, 1));
        assert!(failed.last_error.as_deref().unwrap().contains("131030"));

        let limited = register(&svc, "en").await;
        fake.fail(Failure::MetaError {
            code: 130429,
            status: 429,
        });
        worker.run_once().await.unwrap();
        let rows = recent(&svc.db, 500).await.unwrap();
        let waiting = row(&rows, &limited.phone);
        assert_eq!((waiting.status, waiting.attempts), (Status::Pending, 1));
        assert!(waiting.last_error.as_deref().unwrap().contains("130429"));
        assert_eq!(row(&rows, &refused.phone).attempts, 1, "not retried");

        fake.recover();
        pass_until(&worker, || !fake.received_by(&limited.phone).is_empty()).await;
        assert!(fake.received_by(&refused.phone).is_empty());
        resend(&svc.db, failed.id).await.expect("resend");
        worker.run_once().await.unwrap();
        assert_eq!(fake.received_by(&refused.phone).len(), 1);
        assert!(matches!(
            resend(&svc.db, failed.id).await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(resend(&svc.db, -1).await, Err(Error::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn renewal_reminders_go_out_once_per_period_three_days_ahead() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "meta", |_| {}).await;
        let a = register(&svc, "en").await;
        pay(&svc, &a, "pro").await;
        let expires = accounts::find(&svc.db, a.id)
            .await
            .unwrap()
            .plan_expires_at
            .unwrap();
        let reminders = |fake: &Handle| {
            fake.received_by(&a.phone)
                .iter()
                .filter(|m| m.template.as_deref() == Some("resayil_renewal_reminder"))
                .count()
        };
        let worker = Worker::new(svc.clone(), quick());
        schedules::renewal_reminders(&svc.db, expires - 4 * 86_400)
            .await
            .unwrap();
        worker.run_once().await.unwrap();
        assert_eq!(reminders(&fake), 0, "four days ahead is too early");
        for hour in 0..5 {
            schedules::renewal_reminders(&svc.db, expires - 3 * 86_400 + hour * 3600)
                .await
                .unwrap();
        }
        worker.run_once().await.unwrap();
        assert_eq!(reminders(&fake), 1, "hourly checks, one reminder");
        pay(&svc, &a, "pro").await; // renewed: a new period
        schedules::renewal_reminders(&svc.db, expires + 27 * 86_400 + 3600)
            .await
            .unwrap();
        worker.run_once().await.unwrap();
        assert_eq!(reminders(&fake), 2);
        let last = fake.received_by(&a.phone);
        let renewed = accounts::find(&svc.db, a.id).await.unwrap().plan_expires_at;
        assert_eq!(
            param(last.last().unwrap(), "expiry"),
            kuwait_date(renewed.unwrap())
        );
    })
    .await;
}

#[tokio::test]
async fn the_background_worker_sends_and_stops_when_told() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "meta", |_| {}).await;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(Worker::new(svc.clone(), quick()).run(stopped));
        let a = register(&svc, "ar").await;
        let start = Instant::now();
        while fake.received_by(&a.phone).is_empty() {
            assert!(start.elapsed() < Duration::from_secs(10), "not sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stopped")
            .expect("join");
    })
    .await;
}

#[test]
fn fail2ban_reports_take_numbers_as_text_and_the_token_must_match() {
    let r: Report = serde_json::from_value(json!({
        "event": "ban", "jail": "resayil-auth", "ip": "198.51.100.7",
        "failures": "3", "time": 1795641659.27, "bantime": "3600", "user": ""
    }))
    .unwrap();
    assert_eq!(
        (r.failures, r.time, r.bantime),
        (Some(3.0), Some(1795641659.27), Some(3600.0))
    );
    let mut s = Settings::default();
    assert!(!bans::token_matches(&s, Some("")));
    s.fail2ban_token = Some(SecretString::from("s3cret".to_owned()));
    assert!(bans::token_matches(&s, Some("s3cret")));
    assert!(!bans::token_matches(&s, Some("s3cre")));
    assert!(!bans::token_matches(&s, None));
    assert_eq!(fmt_int(Lang::Ar, 80), "٨٠");
}

/// Issue 15: the welcome (NOTIF-01) and credits-exhausted (NOTIF-04) messages carry both
/// languages in one message by default, the account's first; `none` turns it off.
#[tokio::test]
async fn welcome_and_exhausted_go_in_both_languages_in_one_message_by_default() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let default_kinds = Settings::default().notify_bilingual_kinds;
        let (svc, fake) =
            with_fake(&svc, "meta", |s| s.notify_bilingual_kinds = default_kinds).await;
        let worker = Worker::new(svc.clone(), quick());
        let a = register(&svc, "ar").await;
        spend(&svc, &a, 850).await; // a warning (one language) …
        spend(&svc, &a, 150).await; // … and exhausted (both)
        worker.run_once().await.expect("pass");
        let got = fake.received_by(&a.phone);
        assert_eq!(
            templates_of(&got),
            [
                "resayil_welcome_bilingual",
                "resayil_credit_warning",
                "resayil_credits_exhausted_bilingual"
            ]
        );
        assert!(got.iter().all(|m| m.lang.as_deref() == Some("ar")));
        assert_eq!(param(&got[0], "credits_ar"), "١٬٠٠٠");
        assert_eq!(param(&got[0], "credits_en"), "1,000");
        assert!(param(&got[1], "credits_en").is_empty());
        let rows = recent(&svc.db, 500).await.unwrap();
        let welcome = rows
            .iter()
            .find(|r| r.to == a.phone && r.kind == "welcome")
            .unwrap();
        let (ar, en) = welcome.body.split_once("\n\n").expect("two texts");
        assert!(ar.starts_with("أهلاً بك") && en.starts_with("Welcome to Resayil LLM!"));
        // The code is masked in the stored message once sent.
        assert!(welcome.body.contains(MASK_FOR_TESTS), "{}", welcome.body);

        // Turned off: the account's language only.
        let (svc, fake) =
            with_fake(&svc, "http", |s| s.notify_bilingual_kinds = "none".into()).await;
        let b = register(&svc, "en").await;
        Worker::new(svc.clone(), quick()).run_once().await.unwrap();
        let texts: Vec<String> = fake
            .received_by(&b.phone)
            .into_iter()
            .filter_map(|m| m.text)
            .collect();
        assert_eq!(texts.len(), 1);
        assert!(texts[0].starts_with("Welcome") && !texts[0].contains("أهلاً"));
    })
    .await;
}

const MASK_FOR_TESTS: &str = "******";

/// Issue 15: before the phone is verified only the welcome and code messages reach it; a
/// code is kept in no payload once its message is written, and in no message once sent.
#[tokio::test]
async fn unverified_phones_get_only_codes_and_codes_do_not_stay_stored() {
    let _turn = TURN.lock().await;
    each_db(|svc| async move {
        let (svc, fake) = with_fake(&svc, "http", |_| {}).await;
        let worker = Worker::new(svc.clone(), quick());
        let a = crate::testing::unverified_account(&svc).await;
        spend(&svc, &a, 1000).await;
        crate::recovery::send_phone_code(&svc, a.id, "192.0.2.50")
            .await
            .unwrap();
        worker.run_once().await.expect("pass");
        let got: Vec<String> = fake
            .received_by(&a.phone)
            .into_iter()
            .filter_map(|m| m.text)
            .collect();
        assert_eq!(got.len(), 2, "welcome and the new code only: {got:?}");
        assert!(got[0].starts_with("أهلاً"));
        assert!(got[1].contains("رمز تأكيد"));
        let code = welcome_code(&got[1]);
        // Nothing kept: notification and event payloads, and the sent messages.
        use crate::entities::{event, notification, outbox};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let notes = notification::Entity::find()
            .filter(notification::Column::AccountId.eq(a.id))
            .all(&svc.db)
            .await
            .unwrap();
        let evs = event::Entity::find()
            .filter(event::Column::AccountId.eq(a.id))
            .all(&svc.db)
            .await
            .unwrap();
        let msgs = outbox::Entity::find()
            .filter(outbox::Column::AccountId.eq(a.id))
            .all(&svc.db)
            .await
            .unwrap();
        let first = welcome_code(&got[0]);
        for stored in notes
            .iter()
            .map(|n| n.payload.clone())
            .chain(evs.iter().map(|e| e.payload.clone()))
            .chain(msgs.iter().flat_map(|m| [m.body.clone(), m.params.clone()]))
        {
            assert!(
                !stored.contains(&code) && !stored.contains(&first),
                "{stored}"
            );
        }
        // Verified with the code from WhatsApp: the other messages flow again.
        crate::recovery::verify_phone(&svc, a.id, &code)
            .await
            .unwrap();
        assert!(accounts::find(&svc.db, a.id).await.unwrap().phone_verified);
        let topup = pay(&svc, &a, "pack-5k").await;
        assert!(topup > 0);
        worker.run_once().await.expect("pass");
        assert_eq!(fake.received_by(&a.phone).len(), 3);
    })
    .await;
}
