//! Business rules of the portal, with no web framework in sight.
//!
//! Layout:
//! - [`Services`]: what the web layers hold — the database pool, settings, the catalog and
//!   the login throttle. Built once at start-up.
//! - [`validate`]: "parse, don't validate" newtypes for everything a user types.
//! - [`accounts`], [`sessions`], [`keys`], [`ledger`]: the rules of each area, as functions
//!   over the database connection.
//! - [`catalog`]: plans, packs, models and the deny list, seeded from
//!   `catalog/catalog.toml` into the database by a migration and loaded from there.
//! - [`throttle`] (failed logins), [`rate`] (hourly allowances), [`proxies`] (the client
//!   address behind trusted proxies), [`password`] (argon2, bounded): abuse defences.
//!   They read the time from the services' [`Clock`] (the system's, or a manual one in
//!   tests).
//! - [`notify`]: WhatsApp notifications — the outbox written with each event, templates,
//!   providers, the background worker, renewal reminders and fail2ban's ban reports.
//! - [`payments`]: orders, checkout and confirmation through MyFatoorah (or the local test
//!   gateway), plan expiry.
//! - [`entities`]: the sea-orm table models, one file per table (`entities/<table>.rs`),
//!   the persistence seam under the modules above.
pub mod accounts;
pub mod catalog;
pub mod clock;
pub mod credits;
pub mod db;
pub mod entities;
mod error;
pub mod events;
pub mod keys;
pub mod ledger;
pub mod meter;
pub mod models;
pub mod notify;
pub mod password;
pub mod payments;
pub mod pricing;
pub mod proxies;
pub mod rate;
pub mod rollup;
pub mod sessions;
pub mod settings;
pub mod throttle;
pub mod time;
pub mod usage;
pub mod usage_report;
pub mod validate;

pub use clock::Clock;
pub use error::Error;
/// Field error codes and the language type are shared with the wasm app (`locale`).
pub use locale::{ErrorCode, Lang};
pub use sea_orm::DatabaseConnection;
pub use settings::Settings;

use std::sync::Arc;

/// Everything the web layers need to call the domain, cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// The one connection pool of the process.
    pub db: DatabaseConnection,
    /// Settings loaded at start-up (defaults → file → environment).
    pub settings: Arc<Settings>,
    /// The product catalog (plans, packs, models), as the database held it at start-up.
    pub catalog: Arc<catalog::Catalog>,
    /// Failed-login counters per account and per IP.
    pub throttle: Arc<throttle::LoginThrottle>,
    /// The HTTP client for outside services (MyFatoorah): one connection pool per process.
    pub http: reqwest::Client,
    /// Argon2 with a bound on concurrent hashes.
    pub hasher: Arc<password::Hasher>,
    /// Whose `X-Forwarded-For` is believed (from `TRUSTED_PROXIES`).
    pub proxies: Arc<proxies::TrustedProxies>,
    /// Hourly allowances: registrations per IP and phone prefix, checkouts per account.
    pub hourly: Arc<rate::Hourly>,
    /// What the throttles and rate limits read the time from: the system clock, or in
    /// tests a manual one they move forward instead of sleeping.
    pub clock: Clock,
}

impl Services {
    /// Connects to the database, runs migrations and loads the catalog.
    pub async fn build(settings: Settings) -> Result<Self, Error> {
        let proxies =
            proxies::TrustedProxies::parse(&settings.trusted_proxies, settings.trust_forwarded_for)
                .map_err(Error::Internal)?;
        let db = db::connect(&settings.database_url).await?;
        let catalog = catalog::Catalog::load(&db).await?;
        Ok(Self {
            db,
            settings: Arc::new(settings),
            catalog: Arc::new(catalog),
            throttle: Arc::new(throttle::LoginThrottle::default()),
            http: payments::http_client()?,
            hasher: Arc::new(password::Hasher::default()),
            proxies: Arc::new(proxies),
            hourly: Arc::new(rate::Hourly::default()),
            clock: Clock::system(),
        })
    }

    /// The grant of a new account: `WELCOME_CREDITS`, else the catalog's.
    pub fn welcome_credits(&self) -> i64 {
        self.settings
            .welcome_credits
            .unwrap_or(self.catalog.welcome_credits)
    }
}

#[cfg(test)]
pub(crate) mod testing;
