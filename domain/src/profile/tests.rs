//! The customer's own changes, on SQLite and PostgreSQL.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::*;
use crate::entities::notification;
use crate::testing::{each_db, new_account, unique_email, unique_phone};
use crate::{accounts, sessions};

fn field_code(e: Error) -> (&'static str, ErrorCode) {
    match e {
        Error::Invalid { field, code } => (field, code),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn name_and_language_are_validated_and_saved() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let b = update_profile(&svc, a.id, "  Sara  ", "en").await.unwrap();
        assert_eq!((b.name.as_deref(), b.lang.as_str()), (Some("Sara"), "en"));
        let e = update_profile(&svc, a.id, "Sara", "fr").await.unwrap_err();
        assert_eq!(field_code(e), ("lang", ErrorCode::Required));
        let e = update_profile(&svc, a.id, &"x".repeat(65), "ar")
            .await
            .unwrap_err();
        assert_eq!(field_code(e), ("name", ErrorCode::TooLong));
        let c = update_profile(&svc, a.id, "", "ar").await.unwrap();
        assert_eq!((c.name, c.lang.as_str()), (None, "ar"));
    })
    .await;
}

#[tokio::test]
async fn a_new_phone_needs_the_password_and_is_verified_again() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let other = new_account(&svc).await;
        let ip = "192.0.2.40";
        let new_phone = unique_phone();
        let email = a.email.clone();
        // Refused: wrong password, taken or invalid numbers, taken e-mail — nothing changes.
        let cases = [
            (
                email.as_str(),
                new_phone.as_str(),
                "wrong password",
                ("current_password", ErrorCode::InvalidCredentials),
            ),
            (
                email.as_str(),
                new_phone.as_str(),
                "",
                ("current_password", ErrorCode::Required),
            ),
            (
                email.as_str(),
                other.phone.as_str(),
                "password1",
                ("phone", ErrorCode::PhoneTaken),
            ),
            (
                email.as_str(),
                "+9655",
                "password1",
                ("phone", ErrorCode::InvalidPhone),
            ),
            (
                email.as_str(),
                "+14155550123",
                "password1",
                ("phone", ErrorCode::PhoneCountryNotAllowed),
            ),
            (
                other.email.as_str(),
                a.phone.as_str(),
                "password1",
                ("email", ErrorCode::EmailTaken),
            ),
            (
                "nope",
                a.phone.as_str(),
                "password1",
                ("email", ErrorCode::InvalidEmail),
            ),
        ];
        for (email, phone, pw, want) in cases {
            let e = change_contact(&svc, &a, email, phone, pw, ip)
                .await
                .unwrap_err();
            assert_eq!(field_code(e), want, "{email} {phone} {pw}");
        }
        assert_eq!(accounts::find(&svc.db, a.id).await.unwrap(), a);

        let new_email = unique_email();
        let done = change_contact(&svc, &a, &new_email, &new_phone, "password1", ip)
            .await
            .unwrap();
        assert!(done.email_changed && done.phone_changed);
        let b = accounts::find(&svc.db, a.id).await.unwrap();
        assert_eq!(
            (b.email.as_str(), b.phone.as_str()),
            (new_email.as_str(), new_phone.as_str())
        );
        assert!(!b.phone_verified);
        let sent = notification::Entity::find()
            .filter(notification::Column::AccountId.eq(a.id))
            .filter(notification::Column::Kind.eq("phone_code"))
            .one(&svc.db)
            .await
            .unwrap()
            .expect("a code for the new phone");
        let v: serde_json::Value = serde_json::from_str(&sent.payload).unwrap();
        assert_eq!(v["to"], new_phone.as_str());
        crate::recovery::verify_phone(&svc, a.id, v["code"].as_str().unwrap())
            .await
            .unwrap();
        assert!(accounts::find(&svc.db, a.id).await.unwrap().phone_verified);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let here = sessions::create(&svc.db, a.id, 30).await.unwrap();
        let there = sessions::create(&svc.db, a.id, 30).await.unwrap();
        let (me, _) = sessions::current(&svc.db, &here).await.unwrap();
        let ip = "192.0.2.41";
        let e = change_password(&svc, &a, "wrong one", "new password", Some(me.id), ip)
            .await
            .unwrap_err();
        assert_eq!(
            field_code(e),
            ("current_password", ErrorCode::InvalidCredentials)
        );
        let e = change_password(&svc, &a, "password1", "short", Some(me.id), ip)
            .await
            .unwrap_err();
        assert_eq!(field_code(e), ("new_password", ErrorCode::PasswordTooShort));
        assert!(sessions::account(&svc.db, &there).await.is_ok());
        let ended = change_password(&svc, &a, "password1", "new password", Some(me.id), ip)
            .await
            .unwrap();
        assert_eq!(ended, 1);
        assert!(sessions::account(&svc.db, &there).await.is_err());
        assert!(sessions::account(&svc.db, &here).await.is_ok());
        assert!(accounts::authenticate(&svc, &a.email, "new password", ip)
            .await
            .is_ok());
    })
    .await;
}

#[tokio::test]
async fn operators_set_passwords_and_end_sessions_on_the_record() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let s = sessions::create(&svc.db, a.id, 30).await.unwrap();
        assert_eq!(
            operator_set_password(&svc, a.id, "set by ops 1", "cli")
                .await
                .unwrap(),
            1
        );
        assert!(sessions::account(&svc.db, &s).await.is_err());
        let s = sessions::create(&svc.db, a.id, 30).await.unwrap();
        assert_eq!(
            operator_revoke_sessions(&svc, a.id, "cli").await.unwrap(),
            1
        );
        assert!(sessions::account(&svc.db, &s).await.is_err());
        let kinds: Vec<String> = crate::entities::event::Entity::find()
            .filter(crate::entities::event::Column::AccountId.eq(a.id))
            .all(&svc.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(kinds.contains(&"password_set_by_operator".to_owned()));
        assert!(kinds.contains(&"sessions_revoked_by_operator".to_owned()));
        let audited: Vec<String> = crate::entities::audit_log::Entity::find()
            .filter(crate::entities::audit_log::Column::TargetAccountId.eq(a.id))
            .all(&svc.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert!(audited.contains(&crate::audit::actions::ACCOUNT_PASSWORD_SET.to_owned()));
        assert!(audited.contains(&crate::audit::actions::ACCOUNT_SESSIONS_REVOKE.to_owned()));
    })
    .await;
}
