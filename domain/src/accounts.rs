//! Accounts: registration, operator creation, login.
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DeriveActiveEnum,
    EntityTrait, EnumIter, QueryFilter,
};
use serde::{Deserialize, Serialize};

use crate::entities::account;
use crate::throttle::Verdict;
use crate::validate::{Email, Password, Phone};
use crate::{ledger, time, Error, ErrorCode, Services};

/// Who may do what; kept in the database, never in code (`accounts.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "admin")]
    Admin,
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
    /// The name the customer chose (profile), if any.
    pub name: Option<String>,
    /// The phone number was confirmed with a WhatsApp code.
    pub phone_verified: bool,
    /// When an admin suspended the account (no sign-in, no API), if it is suspended.
    #[serde(default)]
    pub suspended_at: Option<i64>,
}

impl From<account::Model> for Account {
    fn from(m: account::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            phone: m.phone,
            role: m.role,
            plan: m.plan,
            plan_expires_at: m.plan_expires_at,
            credits: m.credits,
            lang: m.lang,
            name: m.name,
            phone_verified: m.phone_verified_at.is_some(),
            suspended_at: m.suspended_at,
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
    /// Who is creating it, for the audit log (`resayil user create`: the CLI).
    pub audited_by: Option<crate::audit::Actor>,
}

/// Registration from the site, by a visitor at `ip`: within the hourly allowances per IP
/// and per phone prefix (`REGISTRATIONS_PER_*`), then [`register`]. Every attempt with a
/// well-formed, allowed number uses the allowance, taken or not, so the form cannot be
/// used to probe which addresses are registered either.
pub async fn register_from(
    svc: &Services,
    new: NewAccount<'_>,
    ip: &str,
) -> Result<Account, Error> {
    let phone = allowed_phone(svc, new.phone)?;
    let s = &svc.settings;
    svc.hourly
        .take_all(
            &[
                (
                    &format!("register-ip:{ip}"),
                    s.registrations_per_ip_per_hour,
                ),
                (
                    &format!("register-prefix:{}", phone_prefix(&phone)),
                    s.registrations_per_phone_prefix_per_hour,
                ),
            ],
            svc.clock.instant(),
        )
        .map_err(|wait| {
            tracing::warn!(%ip, "registration refused: hourly allowance used up");
            Error::rate_limited(wait)
        })?;
    register(svc, new).await
}

/// Registers a user with the welcome grant ([`Services::welcome_credits`]); only phone
/// numbers of the countries in `ALLOWED_PHONE_COUNTRIES`.
pub async fn register(svc: &Services, new: NewAccount<'_>) -> Result<Account, Error> {
    allowed_phone(svc, new.phone)?;
    create(svc, new, OperatorChoices::default()).await
}

/// A well-formed phone number of a country registration is open to.
pub(crate) fn allowed_phone(svc: &Services, raw: &str) -> Result<Phone, Error> {
    let phone = Phone::parse(raw)?;
    let digits = phone.as_str().trim_start_matches('+');
    let allowed = svc
        .settings
        .allowed_phone_countries
        .split(',')
        .map(|c| c.trim().trim_start_matches('+'))
        .any(|code| !code.is_empty() && digits.starts_with(code));
    if allowed {
        Ok(phone)
    } else {
        Err(Error::invalid("phone", ErrorCode::PhoneCountryNotAllowed))
    }
}

/// All but the last four digits: one operator's block of 10,000 numbers.
fn phone_prefix(phone: &Phone) -> &str {
    let s = phone.as_str();
    &s[..s.len().saturating_sub(4)]
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
                .ok_or(Error::invalid("plan", ErrorCode::Required))?,
        ),
        None => None,
    };
    let credits = choices.credits.unwrap_or_else(|| svc.welcome_credits());
    if credits < 0 {
        return Err(Error::invalid("credits", ErrorCode::Required));
    }
    ensure_unique(&svc.db, &email, &phone).await?;
    let hash = svc.hasher.hash(pw.as_str().to_owned()).await?;
    let now = time::now();
    let lang = if new.lang == "en" { "en" } else { "ar" };

    let txn = crate::db::begin_write(&svc.db).await?;
    let inserted = account::Entity::insert(account::ActiveModel {
        email: Set(email.as_str().to_owned()),
        phone: Set(phone.as_str().to_owned()),
        password_hash: Set(hash),
        role: Set(choices.role.unwrap_or(Role::User)),
        plan_expires_at: Set(plan.map(|p| now + p.period_days * 86_400)),
        plan: Set(plan.map(|p| p.id.clone())),
        credits: Set(0),
        lang: Set(lang.to_owned()),
        created_at: Set(now),
        name: Set(None),
        phone_verified_at: Set(None),
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
            return Err(Error::invalid("email", ErrorCode::EmailTaken));
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
    // The phone is confirmed with a code, which the welcome message carries; the account
    // works at once (the dashboard asks for the code until it is typed).
    let code = crate::codes::issue(
        &txn,
        id,
        crate::codes::Purpose::PhoneVerification,
        phone.as_str(),
        svc.clock.now(),
    )
    .await?;
    if let Some(actor) = &choices.audited_by {
        crate::audit::record(
            &txn,
            actor,
            crate::audit::Change {
                action: crate::audit::actions::ACCOUNT_CREATE,
                target_account: Some(id),
                after: Some(serde_json::json!({
                    "email": email.as_str(),
                    "role": choices.role.unwrap_or(Role::User),
                    "plan": plan.map(|p| p.id.clone()),
                    "credits": credits,
                })),
                ..Default::default()
            },
        )
        .await?;
    }
    // NOTIF-01, queued with the account so a rolled-back registration welcomes no one.
    // The code leaves the stored payloads once the message is written (`notify`).
    let welcome = serde_json::json!({ "credits": credits, "code": code.code.expose() });
    let key = format!("welcome:{id}");
    crate::events::record(&txn, crate::events::Kind::Welcome, Some(id), &key, welcome).await?;
    // TEAM-01: invitations waiting for this address are announced to it now.
    crate::teams::on_registered(&txn, id, email.as_str()).await?;
    txn.commit().await?;
    find(&svc.db, id).await
}

pub(crate) async fn ensure_unique(
    db: &DatabaseConnection,
    email: &Email,
    phone: &Phone,
) -> Result<(), Error> {
    if account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid("email", ErrorCode::EmailTaken));
    }
    if account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid("phone", ErrorCode::PhoneTaken));
    }
    Ok(())
}

pub(crate) fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

pub async fn find<C: ConnectionTrait>(db: &C, id: i64) -> Result<Account, Error> {
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

/// Checks e-mail and password, throttled per (account, IP), per account and per IP
/// (`throttle`): a refused attempt answers at once, without hashing. Every failure is
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
    if let Verdict::Refused { retry_after } =
        svc.throttle.attempt(&email_key, ip, svc.clock.instant())
    {
        tracing::warn!("login failed user={logged} ip={ip}");
        tracing::debug!(?retry_after, "login throttled");
        return Err(Error::invalid("password", ErrorCode::TooManyAttempts));
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
        Some(m) => {
            svc.hasher
                .verify(password.to_owned(), m.password_hash.clone())
                .await?
        }
        None => {
            svc.hasher.dummy_verify(password.to_owned()).await;
            false
        }
    };
    match found {
        Some(m) if ok && m.suspended_at.is_some() => {
            svc.throttle.record_success(&email_key, ip);
            tracing::info!(account = m.id, "login of a suspended account refused");
            Err(Error::invalid("password", ErrorCode::AccountSuspended))
        }
        Some(m) if ok => {
            svc.throttle.record_success(&email_key, ip);
            Ok(m.into())
        }
        _ => {
            tracing::warn!("login failed user={logged} ip={ip}");
            Err(Error::invalid("password", ErrorCode::InvalidCredentials))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, unique_email, unique_phone};

    fn code(e: Error) -> (&'static str, ErrorCode) {
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
            assert_eq!(a.credits, svc.welcome_credits());
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
            assert_eq!(code(again.unwrap_err()), ("email", ErrorCode::EmailTaken));
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
            assert_eq!(code(again.unwrap_err()), ("phone", ErrorCode::PhoneTaken));
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
                    ..Default::default()
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
                ("password", ErrorCode::InvalidCredentials)
            );
            let unknown = authenticate(&svc, "nobody@example.com", "password1", "10.0.0.1").await;
            assert_eq!(
                code(unknown.unwrap_err()),
                ("password", ErrorCode::InvalidCredentials)
            );
            // Strangers guessing from other addresses slow only themselves.
            for n in 0..20 {
                let _ = authenticate(&svc, &email, "guess-guess", &format!("198.51.100.{n}")).await;
            }
            assert!(authenticate(&svc, &email, "password1", "10.0.0.1")
                .await
                .is_ok());
            for _ in 0..3 {
                let _ = authenticate(&svc, &email, "guess-guess", "10.0.0.2").await;
            }
            let blocked = authenticate(&svc, &email, "password1", "10.0.0.2").await;
            assert_eq!(
                code(blocked.unwrap_err()),
                ("password", ErrorCode::TooManyAttempts)
            );
            // The first backoff is a second (the services' clock stands still in tests).
            svc.clock.advance(std::time::Duration::from_secs(1));
            assert!(authenticate(&svc, &email, "password1", "10.0.0.2")
                .await
                .is_ok());
        })
        .await;
    }

    #[tokio::test]
    async fn a_throttled_login_answers_without_hashing() {
        each_db(|svc| async move {
            let email = unique_email();
            register(&svc, new(&email, &unique_phone())).await.unwrap();
            // Three failures (counted as the throttle counts them, without waiting for
            // three slow hashes): the pair is now in backoff.
            for ip in ["203.0.113.9", "203.0.113.9", "203.0.113.9", "203.0.113.10"] {
                svc.throttle.attempt(&email, ip, svc.clock.instant());
                svc.throttle
                    .attempt("nobody@example.com", ip, svc.clock.instant());
            }
            let hashed = svc.hasher.started();
            for (who, ip) in [
                (email.as_str(), "203.0.113.9"),
                ("nobody@example.com", "203.0.113.9"),
            ] {
                for _ in 0..50 {
                    let refused = authenticate(&svc, who, "guess-guess", ip).await;
                    assert_eq!(
                        code(refused.unwrap_err()),
                        ("password", ErrorCode::TooManyAttempts)
                    );
                }
            }
            assert_eq!(svc.hasher.started(), hashed, "a refused attempt hashed");
            // From another address the owner's attempt is checked (and hashed).
            assert!(authenticate(&svc, &email, "password1", "203.0.113.10")
                .await
                .is_ok());
            assert_eq!(svc.hasher.started(), hashed + 1);
        })
        .await;
    }

    fn new<'a>(email: &'a str, phone: &'a str) -> NewAccount<'a> {
        NewAccount {
            email,
            phone,
            password: "password1",
            lang: "en",
        }
    }

    fn with(svc: &Services, change: impl FnOnce(&mut crate::Settings)) -> Services {
        let mut settings = (*svc.settings).clone();
        change(&mut settings);
        Services {
            settings: std::sync::Arc::new(settings),
            hourly: Default::default(),
            ..svc.clone()
        }
    }

    #[tokio::test]
    async fn only_numbers_of_the_allowed_countries_may_register() {
        each_db(|svc| async move {
            for phone in ["+14155550123", "+447700900123", "+201001234567"] {
                let refused = register(&svc, new(&unique_email(), phone)).await;
                assert_eq!(
                    code(refused.unwrap_err()),
                    ("phone", ErrorCode::PhoneCountryNotAllowed),
                    "{phone}"
                );
            }
            for phone in [
                "+966501234567",
                "+971501234567",
                "+97433123456",
                "+97333123456",
                "+96891234567",
            ] {
                let fresh = format!("{}{}", &phone[..phone.len() - 6], &unique_phone()[6..]);
                register(&svc, new(&unique_email(), &fresh))
                    .await
                    .expect(phone);
            }
            let uk = with(&svc, |s| s.allowed_phone_countries = "+44, 965".into());
            register(
                &uk,
                new(
                    &unique_email(),
                    &format!("+4477009{}", &unique_phone()[6..]),
                ),
            )
            .await
            .expect("the operator opened +44");
            let refused = register(&uk, new(&unique_email(), "+966501234567")).await;
            assert_eq!(
                code(refused.unwrap_err()),
                ("phone", ErrorCode::PhoneCountryNotAllowed)
            );
        })
        .await;
    }

    #[tokio::test]
    async fn registrations_are_limited_per_ip_and_per_phone_prefix() {
        each_db(|svc| async move {
            let svc = with(&svc, |s| {
                s.registrations_per_ip_per_hour = 2;
                s.registrations_per_phone_prefix_per_hour = 3;
            });
            for _ in 0..2 {
                register_from(&svc, new(&unique_email(), &unique_phone()), "192.0.2.1")
                    .await
                    .unwrap();
            }
            let email = unique_email();
            let third = register_from(&svc, new(&email, &unique_phone()), "192.0.2.1").await;
            assert!(
                matches!(third, Err(Error::RateLimited { retry_after_secs }) if retry_after_secs > 3000),
                "{third:?}"
            );
            assert!(matches!(find_by_email(&svc.db, &email).await, Err(Error::NotFound)));
            register_from(&svc, new(&email, &unique_phone()), "192.0.2.2")
                .await
                .expect("another address");

            // Walking through one block of numbers from many addresses.
            let block = &unique_phone()[..8];
            let mut refused = 0;
            for n in 0..5 {
                let phone = format!("{block}{n:04}");
                let ip = format!("198.51.100.{n}");
                if let Err(Error::RateLimited { .. }) =
                    register_from(&svc, new(&unique_email(), &phone), &ip).await
                {
                    refused += 1;
                }
            }
            assert_eq!(refused, 2);
        })
        .await;
    }

    #[tokio::test]
    async fn the_welcome_grant_is_a_setting() {
        each_db(|svc| async move {
            // The catalog's grant, as the migrations left it on this database.
            assert_eq!(svc.catalog.welcome_credits, 100);
            let default = with(&svc, |s| s.welcome_credits = None);
            let a = register(&default, new(&unique_email(), &unique_phone()))
                .await
                .unwrap();
            assert_eq!(a.credits, 100);
            let svc = with(&svc, |s| s.welcome_credits = Some(25));
            let a = register(&svc, new(&unique_email(), &unique_phone()))
                .await
                .unwrap();
            assert_eq!(a.credits, 25);
            assert_eq!(ledger::sum(&svc.db, a.id).await.unwrap(), 25);
            let none = with(&svc, |s| s.welcome_credits = Some(0));
            let b = register(&none, new(&unique_email(), &unique_phone()))
                .await
                .unwrap();
            assert_eq!(b.credits, 0);
        })
        .await;
    }
}
