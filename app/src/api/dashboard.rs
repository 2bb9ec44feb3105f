//! Server functions of the dashboard.
use leptos::prelude::*;

use crate::dto::{AppError, Me};
#[cfg(feature = "ssr")]
use crate::server::*;

/// The dashboard's data; 401 without a session.
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn dashboard() -> Result<Me, AppError> {
    let (_, account) = signed_in().await?;
    Ok(me(&account))
}
