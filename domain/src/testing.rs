//! Test helpers: every domain test runs on a fresh SQLite file migrated by the real
//! migrations, and again on PostgreSQL when `TEST_DATABASE_URL` is set.
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::accounts::{self, Account, NewAccount};
use crate::{Services, Settings};

pub async fn each_db<F, Fut>(test: F)
where
    F: Fn(Services) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
    test(services(&url).await).await;
    if let Ok(pg) = std::env::var("TEST_DATABASE_URL") {
        if !pg.is_empty() {
            test(services(&pg).await).await;
        }
    }
}

/// Held while services are built (migrations, then the catalog is read from its tables),
/// and by a test that rewrites the catalog tables of the PostgreSQL database all tests
/// share ([`rewriting_the_catalog`]): no test starts with another's edited catalog.
static SHARED_CATALOG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// For a test that changes the catalog tables: runs `edit` while no services are being
/// built, then writes the catalog file back (`Catalog::builtin`), before anyone else
/// reads them.
pub async fn rewriting_the_catalog<Fut: Future<Output = ()>>(
    db: &crate::DatabaseConnection,
    edit: Fut,
) {
    let _guard = SHARED_CATALOG.lock().await;
    edit.await;
    crate::catalog::sync(db, &crate::catalog::Catalog::builtin())
        .await
        .expect("the catalog file written back");
}

/// Services whose throttles and rate limits read a manual clock: time stands still unless a
/// test moves it (`svc.clock.advance`), however slow the machine.
pub(crate) async fn services(url: &str) -> Services {
    // Several tests may migrate the same PostgreSQL database at once; one at a time.
    let _guard = SHARED_CATALOG.lock().await;
    let svc = Services::build(Settings {
        database_url: url.to_owned(),
        // The notification and metering tests count down from a grant of 1,000.
        welcome_credits: Some(1000),
        // Checkouts go through the local test gateway unless a test configures MyFatoorah.
        payments_test_mode: true,
        // Tests register and check out many times from one place.
        registrations_per_ip_per_hour: 10_000,
        checkouts_per_account_per_hour: 10_000,
        ..Settings::default()
    })
    .await
    .expect("services");
    Services {
        clock: crate::Clock::manual(),
        ..svc
    }
}

fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}{:04}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed) % 10_000
    )
}

pub fn unique_email() -> String {
    format!(
        "u{}-{}@example.com",
        unique(),
        crate::keys::random_token(4).to_lowercase()
    )
}

/// A Kuwait mobile number unlikely to repeat across runs sharing one database.
pub fn unique_phone() -> String {
    let n: u32 = rand::random_range(0..10_000_000);
    format!("+9655{n:07}")
}

/// Marks the account's phone verified, as typing the welcome code would.
pub async fn mark_verified(svc: &Services, id: i64) {
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    crate::entities::account::Entity::update_many()
        .col_expr(
            crate::entities::account::Column::PhoneVerifiedAt,
            Expr::value(crate::time::now()),
        )
        .filter(crate::entities::account::Column::Id.eq(id))
        .exec(&svc.db)
        .await
        .expect("verify phone");
}

/// A registered account whose phone is verified (so every notification reaches it).
pub async fn new_account(svc: &Services) -> Account {
    let a = unverified_account(svc).await;
    mark_verified(svc, a.id).await;
    accounts::find(&svc.db, a.id).await.expect("find")
}

/// A registered account as registration leaves it: the phone not verified yet.
pub async fn unverified_account(svc: &Services) -> Account {
    accounts::register(
        svc,
        NewAccount {
            email: &unique_email(),
            phone: &unique_phone(),
            password: "password1",
            lang: "ar",
        },
    )
    .await
    .expect("register")
}

/// An Enterprise account whose grant is `credits` (instead of the welcome credits).
pub async fn enterprise_account(svc: &Services, credits: i64) -> Account {
    let a = accounts::create(
        svc,
        NewAccount {
            email: &unique_email(),
            phone: &unique_phone(),
            password: "password1",
            lang: "en",
        },
        accounts::OperatorChoices {
            plan: Some("enterprise".into()),
            credits: Some(credits),
            ..Default::default()
        },
    )
    .await
    .expect("create");
    mark_verified(svc, a.id).await;
    accounts::find(&svc.db, a.id).await.expect("find")
}
