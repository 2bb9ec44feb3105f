//! Password reset and phone verification, on SQLite and PostgreSQL.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::*;
use crate::entities::{event, notification};
use crate::testing::{each_db, new_account, unique_email, unverified_account};
use crate::{accounts, sessions};

fn field_code(e: Error) -> (&'static str, ErrorCode) {
    match e {
        Error::Invalid { field, code } => (field, code),
        other => panic!("unexpected {other:?}"),
    }
}

/// The code of the account's newest queued message of `kind` (the payload holds it until
/// the worker writes the message).
async fn queued_code(svc: &Services, account_id: i64, kind: &str) -> String {
    let n = notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account_id))
        .filter(notification::Column::Kind.eq(kind))
        .order_by_desc(notification::Column::Id)
        .one(&svc.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {kind} queued"));
    let v: serde_json::Value = serde_json::from_str(&n.payload).unwrap();
    v["code"].as_str().unwrap().to_owned()
}

fn wrong_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn a_reset_by_email_or_phone_replaces_the_password_and_ends_every_session() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let old = sessions::create(&svc.db, a.id, 30).await.unwrap();
        for (n, identifier) in [a.email.to_uppercase(), a.phone.clone()].iter().enumerate() {
            let ip = format!("192.0.2.{}", 10 + n);
            let req = request_reset(&svc, identifier, &ip).await.unwrap();
            assert!(req.send(&svc).await.unwrap());
            let code = queued_code(&svc, a.id, "password_reset_code").await;
            let wrong = reset_password(&svc, identifier, &wrong_code(&code), "new password 1", &ip)
                .await
                .unwrap_err();
            assert_eq!(field_code(wrong), ("code", ErrorCode::InvalidCode));
            let short = reset_password(&svc, identifier, &code, "short", &ip)
                .await
                .unwrap_err();
            assert_eq!(field_code(short), ("password", ErrorCode::PasswordTooShort));
            let pw = format!("new password {n}");
            reset_password(&svc, identifier, &code, &pw, &ip)
                .await
                .unwrap();
            assert!(accounts::authenticate(&svc, &a.email, &pw, &ip)
                .await
                .is_ok());
            assert!(sessions::account(&svc.db, &old).await.is_err());
            // Used once only.
            let again = reset_password(&svc, identifier, &code, "another one 1", &ip)
                .await
                .unwrap_err();
            assert_eq!(field_code(again), ("code", ErrorCode::InvalidCode));
        }
        let resets = event::Entity::find()
            .filter(event::Column::AccountId.eq(a.id))
            .filter(event::Column::Kind.eq("password_reset"))
            .all(&svc.db)
            .await
            .unwrap();
        assert_eq!(resets.len(), 2);
        assert!(
            resets[0].payload.contains("\"sessions_ended\":1"),
            "{}",
            resets[0].payload
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_accounts_get_the_same_answers_as_known_ones() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let nobody = unique_email();
        let req = request_reset(&svc, &nobody, "192.0.2.20").await.unwrap();
        assert!(!req.send(&svc).await.unwrap());
        let unknown = reset_password(&svc, &nobody, "123456", "new password 1", "192.0.2.20")
            .await
            .unwrap_err();
        let known = reset_password(&svc, &a.email, "123456", "new password 1", "192.0.2.20")
            .await
            .unwrap_err();
        assert_eq!(field_code(unknown), ("code", ErrorCode::InvalidCode));
        assert_eq!(field_code(known), ("code", ErrorCode::InvalidCode));
        // Malformed input names its field, whoever it would be.
        for (raw, code) in [
            ("", ErrorCode::Required),
            ("not-an-email@", ErrorCode::InvalidEmail),
            ("12", ErrorCode::InvalidPhone),
        ] {
            let e = request_reset(&svc, raw, "192.0.2.20").await.unwrap_err();
            assert_eq!(field_code(e), ("identifier", code), "{raw:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn code_sends_are_limited_per_identifier_known_or_not_and_per_ip() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let limit = svc.settings.codes_per_account_per_hour;
        for who in [a.email.clone(), unique_email()] {
            for n in 0..limit {
                request_reset(&svc, &who, &format!("198.51.100.{n}"))
                    .await
                    .unwrap();
            }
            let refused = request_reset(&svc, &who, "198.51.100.99").await;
            assert!(
                matches!(refused, Err(Error::RateLimited { retry_after_secs }) if retry_after_secs > 3000),
                "{refused:?}"
            );
        }
        // An hour later the allowance is back.
        svc.clock.advance(std::time::Duration::from_secs(3600));
        request_reset(&svc, &a.email, "198.51.100.1").await.unwrap();
        // One address asking for many identifiers.
        let ip = "203.0.113.77";
        let mut refused = 0;
        for _ in 0..svc.settings.codes_per_ip_per_hour + 3 {
            if request_reset(&svc, &unique_email(), ip).await.is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 3);
    })
    .await;
}

#[tokio::test]
async fn the_welcome_code_verifies_the_phone_and_a_new_code_can_be_asked_for() {
    each_db(|svc| async move {
        let a = unverified_account(&svc).await;
        assert!(!a.phone_verified);
        let first = queued_code(&svc, a.id, "welcome").await;
        let wrong = verify_phone(&svc, a.id, &wrong_code(&first))
            .await
            .unwrap_err();
        assert_eq!(field_code(wrong), ("code", ErrorCode::InvalidCode));
        // A new code replaces the welcome's.
        send_phone_code(&svc, a.id, "192.0.2.30").await.unwrap();
        let second = queued_code(&svc, a.id, "phone_code").await;
        if second != first {
            let old = verify_phone(&svc, a.id, &first).await.unwrap_err();
            assert_eq!(field_code(old), ("code", ErrorCode::InvalidCode));
        }
        verify_phone(&svc, a.id, &second).await.unwrap();
        assert!(accounts::find(&svc.db, a.id).await.unwrap().phone_verified);
        assert!(matches!(
            send_phone_code(&svc, a.id, "192.0.2.30").await,
            Err(Error::Conflict(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn an_expired_welcome_code_is_refused_with_its_own_message() {
    each_db(|svc| async move {
        let a = unverified_account(&svc).await;
        let code = queued_code(&svc, a.id, "welcome").await;
        svc.clock.advance(std::time::Duration::from_secs(
            crate::codes::VALID_SECS as u64,
        ));
        let e = verify_phone(&svc, a.id, &code).await.unwrap_err();
        assert_eq!(field_code(e), ("code", ErrorCode::CodeExpired));
        assert!(!accounts::find(&svc.db, a.id).await.unwrap().phone_verified);
    })
    .await;
}
