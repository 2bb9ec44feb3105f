//! Accounts: registration, operator creation, login.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entities::account;
use crate::throttle::Verdict;
use crate::validate::{Email, Password, Phone};
use crate::{ledger, password, time, Error, FieldCode, Services};

/// Who may do what; kept in the database, never in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
    fn from_db(s: &str) -> Self {
        if s == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// An account as the rest of the system sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub credits: i64,
    pub lang: String,
}

impl From<account::Model> for Account {
    fn from(m: account::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            phone: m.phone,
            role: Role::from_db(&m.role),
            plan: m.plan,
            plan_expires_at: m.plan_expires_at,
            credits: m.credits,
            lang: m.lang,
        }
    }
}

/// What the registration form sends.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub phone: &'a str,
    pub password: &'a str,
    pub lang: &'a str,
}

/// Extra choices an operator can make with `resayil user create`.
#[derive(Default)]
pub struct OperatorChoices {
    pub role: Option<Role>,
    pub plan: Option<String>,
    /// Replaces the welcome grant as the starting balance.
    pub credits: Option<i64>,
}

/// Registers a user with the welcome grant of the catalog.
pub async fn register(svc: &Services, new: NewAccount<'_>) -> Result<Account, Error> {
    create(svc, new, OperatorChoices::default()).await
}

/// Creates an account: validates, checks for duplicates, hashes the password off the async
/// threads, then writes the account and its starting grant in one transaction.
pub async fn create(
    svc: &Services,
    new: NewAccount<'_>,
    choices: OperatorChoices,
) -> Result<Account, Error> {
    let email = Email::parse(new.email)?;
    let phone = Phone::parse(new.phone)?;
    let pw = Password::parse(new.password)?;
    let plan = match choices.plan {
        Some(p) => Some(
            svc.catalog
                .plan(&p)
                .ok_or(Error::invalid("plan", FieldCode::Required))?,
        ),
        None => None,
    };
    let credits = choices.credits.unwrap_or(svc.catalog.welcome_credits);
    if credits < 0 {
        return Err(Error::invalid("credits", FieldCode::Required));
    }
    ensure_unique(&svc.db, &email, &phone).await?;
    let hash = password::hash(pw.as_str().to_owned()).await?;
    let now = time::now();
    let lang = if new.lang == "en" { "en" } else { "ar" };

    let txn = svc.db.begin().await?;
    let inserted = account::Entity::insert(account::ActiveModel {
        email: Set(email.as_str().to_owned()),
        phone: Set(phone.as_str().to_owned()),
        password_hash: Set(hash),
        role: Set(choices.role.unwrap_or(Role::User).as_str().to_owned()),
        plan_expires_at: Set(plan.map(|p| now + p.period_days * 86_400)),
        plan: Set(plan.map(|p| p.id.clone())),
        credits: Set(0),
        lang: Set(lang.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await;
    let id = match inserted {
        Ok(r) => r.last_insert_id,
        // A concurrent registration won the race between the check and the insert.
        Err(e) if is_unique_violation(&e) => {
            drop(txn);
            ensure_unique(&svc.db, &email, &phone).await?;
            return Err(Error::invalid("email", FieldCode::EmailTaken));
        }
        Err(e) => return Err(e.into()),
    };
    if credits > 0 {
        ledger::apply(
            &txn,
            ledger::Entry {
                account_id: id,
                delta: credits,
                kind: ledger::Kind::Grant,
                reason: Some("welcome"),
                reference: None,
            },
        )
        .await?;
    }
    // NOTIF-01, queued with the account so a rolled-back registration welcomes no one.
    let welcome = serde_json::json!({ "credits": credits });
    let key = format!("welcome:{id}");
    crate::events::record(&txn, crate::events::Kind::Welcome, Some(id), &key, welcome).await?;
    txn.commit().await?;
    find(&svc.db, id).await
}

async fn ensure_unique(db: &DatabaseConnection, email: &Email, phone: &Phone) -> Result<(), Error> {
    if account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid("email", FieldCode::EmailTaken));
    }
    if account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid("phone", FieldCode::PhoneTaken));
    }
    Ok(())
}

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

pub async fn find(db: &DatabaseConnection, id: i64) -> Result<Account, Error> {
    account::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Account::from)
        .ok_or(Error::NotFound)
}

/// The e-mail addresses of several accounts at once (admin lists), by id.
pub async fn emails(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, Error> {
    Ok(account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.email))
        .collect())
}

pub async fn find_by_email(db: &DatabaseConnection, email: &str) -> Result<Account, Error> {
    let email = Email::parse(email).map_err(|_| Error::NotFound)?;
    account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .map(Account::from)
        .ok_or(Error::NotFound)
}

/// Checks e-mail and password, with throttling per account and per IP. Every failure is
/// logged as `login failed user=<email> ip=<ip>` — the line the fail2ban filter matches.
pub async fn authenticate(
    svc: &Services,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<Account, Error> {
    let email_key = email.trim().to_lowercase();
    // Keep the logged user name to one safe token so the log line stays matchable.
    let logged: String = email_key
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(254)
        .collect();
    match svc.throttle.check(&email_key, ip) {
        Verdict::Blocked => {
            tracing::warn!("login failed user={logged} ip={ip}");
            return Err(Error::invalid("password", FieldCode::TooManyAttempts));
        }
        Verdict::Slow(d) => tokio::time::sleep(d).await,
        Verdict::Allow => {}
    }
    let found = match Email::parse(email) {
        Ok(e) => {
            account::Entity::find()
                .filter(account::Column::Email.eq(e.as_str()))
                .one(&svc.db)
                .await?
        }
        Err(_) => None,
    };
    let ok = match &found {
        Some(m) => password::verify(password.to_owned(), m.password_hash.clone()).await?,
        None => {
            password::dummy_verify(password.to_owned()).await;
            false
        }
    };
    match found {
        Some(m) if ok => {
            svc.throttle.record_success(&email_key);
            Ok(m.into())
        }
        _ => {
            svc.throttle.record_failure(&email_key, ip);
            tracing::warn!("login failed user={logged} ip={ip}");
            Err(Error::invalid("password", FieldCode::InvalidCredentials))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, unique_email, unique_phone};

    fn code(e: Error) -> (&'static str, FieldCode) {
        match e {
            Error::Invalid { field, code } => (field, code),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn registration_grants_the_welcome_credits_through_the_ledger() {
        each_db(|svc| async move {
            let email = unique_email();
            let phone = unique_phone();
            let a = register(
                &svc,
                NewAccount {
                    email: &email,
                    phone: &phone,
                    password: "correct horse",
                    lang: "en",
                },
            )
            .await
            .unwrap();
            assert_eq!(a.credits, svc.catalog.welcome_credits);
            assert_eq!(a.role, Role::User);
            assert_eq!(a.lang, "en");
            assert_eq!(ledger::sum(&svc.db, a.id).await.unwrap(), a.credits);
        })
        .await;
    }

    #[tokio::test]
    async fn duplicate_email_or_phone_is_refused_and_nothing_is_stored() {
        each_db(|svc| async move {
            let email = unique_email();
            let phone = unique_phone();
            register(
                &svc,
                NewAccount {
                    email: &email,
                    phone: &phone,
                    password: "password1",
                    lang: "ar",
                },
            )
            .await
            .unwrap();
            let again = register(
                &svc,
                NewAccount {
                    email: &email.to_uppercase(),
                    phone: &unique_phone(),
                    password: "password1",
                    lang: "ar",
                },
            )
            .await;
            assert_eq!(code(again.unwrap_err()), ("email", FieldCode::EmailTaken));
            let other = unique_email();
            let again = register(
                &svc,
                NewAccount {
                    email: &other,
                    phone: &phone,
                    password: "password1",
                    lang: "ar",
                },
            )
            .await;
            assert_eq!(code(again.unwrap_err()), ("phone", FieldCode::PhoneTaken));
            assert!(matches!(
                find_by_email(&svc.db, &other).await,
                Err(Error::NotFound)
            ));
        })
        .await;
    }

    #[tokio::test]
    async fn operators_choose_role_plan_and_starting_credits() {
        each_db(|svc| async move {
            let a = create(
                &svc,
                NewAccount {
                    email: &unique_email(),
                    phone: &unique_phone(),
                    password: "password1",
                    lang: "ar",
                },
                OperatorChoices {
                    role: Some(Role::Admin),
                    plan: Some("enterprise".into()),
                    credits: Some(10),
                },
            )
            .await
            .unwrap();
            assert_eq!(a.role, Role::Admin);
            assert_eq!(a.plan.as_deref(), Some("enterprise"));
            assert!(a.plan_expires_at.unwrap() > time::now());
            assert_eq!(a.credits, 10);
            assert_eq!(ledger::sum(&svc.db, a.id).await.unwrap(), 10);
        })
        .await;
    }

    #[tokio::test]
    async fn login_checks_the_password_and_throttles_failures() {
        each_db(|svc| async move {
            let email = unique_email();
            register(
                &svc,
                NewAccount {
                    email: &email,
                    phone: &unique_phone(),
                    password: "password1",
                    lang: "ar",
                },
            )
            .await
            .unwrap();
            assert!(authenticate(&svc, &email, "password1", "10.0.0.1")
                .await
                .is_ok());
            let wrong = authenticate(&svc, &email, "password2", "10.0.0.1").await;
            assert_eq!(
                code(wrong.unwrap_err()),
                ("password", FieldCode::InvalidCredentials)
            );
            let unknown = authenticate(&svc, "nobody@example.com", "password1", "10.0.0.1").await;
            assert_eq!(
                code(unknown.unwrap_err()),
                ("password", FieldCode::InvalidCredentials)
            );
            for _ in 0..10 {
                svc.throttle.record_failure(&email, "10.0.0.2");
            }
            let blocked = authenticate(&svc, &email, "password1", "10.0.0.3").await;
            assert_eq!(
                code(blocked.unwrap_err()),
                ("password", FieldCode::TooManyAttempts)
            );
        })
        .await;
    }
}
