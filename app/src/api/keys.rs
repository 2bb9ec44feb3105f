//! Server functions of API keys: list, create (the only time a secret leaves the
//! server), delete.
use leptos::prelude::*;

use crate::dto::{AppError, KeyRow, NewKey};
#[cfg(feature = "ssr")]
use crate::server::*;

#[server(prefix = "/api", endpoint = "keys")]
pub async fn list_keys() -> Result<Vec<KeyRow>, AppError> {
    let (svc, account) = signed_in().await?;
    let keys = domain::keys::list(&svc.db, account.id)
        .await
        .map_err(fail)?;
    // The last 30 days: the 720 hourly buckets up to and including the current hour.
    let to = (domain::time::now() / 3600 + 1) * 3600;
    let scope = domain::rollup::Scope::account(account.id, to - 30 * 24 * 3600, to);
    let used = domain::rollup::by_key(&svc.db, &scope)
        .await
        .map_err(fail)?;
    Ok(keys
        .into_iter()
        .map(|k| {
            let mut row = key_row(k);
            if let Some(b) = used.iter().find(|b| b.key_id == Some(row.id)) {
                row.requests_30d = b.totals.requests;
                row.credits_30d = b.totals.credits;
            }
            row
        })
        .collect())
}

#[server(prefix = "/api", endpoint = "keys/create")]
pub async fn create_key(label: String) -> Result<NewKey, AppError> {
    let (svc, account) = signed_in().await?;
    let (info, secret) = domain::keys::create(&svc, &account, &label)
        .await
        .map_err(fail)?;
    Ok(NewKey {
        row: key_row(info),
        secret,
    })
}

#[server(prefix = "/api", endpoint = "keys/delete")]
pub async fn delete_key(id: i64) -> Result<(), AppError> {
    let (svc, account) = signed_in().await?;
    domain::keys::revoke(&svc.db, account.id, id)
        .await
        .map_err(fail)
}
