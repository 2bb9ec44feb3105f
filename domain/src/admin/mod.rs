//! The admin console's rules (issue 12): users ([`users`]: search, one user's page, credit
//! adjustments, suspension, role and plan), the catalog editor ([`catalog`]: models, plan
//! and pack prices, the cloud budget settings; live on every instance) and the overview
//! numbers ([`overview`]). Every change re-reads the admin's role from the database and
//! writes its [`crate::audit`] row in the change's own transaction.
pub mod catalog;
pub mod overview;
pub mod platform;
pub mod users;

#[cfg(test)]
mod tests;

use sea_orm::ConnectionTrait;

use crate::accounts::{self, Account, Role};
use crate::{Error, ErrorCode};

/// The acting admin as the database has it now: a demoted admin's old session object is
/// not enough. Anyone else is `Unauthorized`.
pub async fn ensure_admin<C: ConnectionTrait>(db: &C, admin: &Account) -> Result<Account, Error> {
    let now = accounts::find(db, admin.id).await?;
    if now.role != Role::Admin || now.suspended_at.is_some() {
        return Err(Error::Unauthorized);
    }
    Ok(now)
}

/// A required reason, trimmed, at most 200 characters.
pub fn reason(raw: &str) -> Result<&str, Error> {
    let r = raw.trim();
    if r.is_empty() {
        return Err(Error::invalid("reason", ErrorCode::Required));
    }
    if r.chars().count() > 200 {
        return Err(Error::invalid("reason", ErrorCode::TooLong));
    }
    Ok(r)
}
