//! Server functions of the dashboard.
use leptos::prelude::*;

use crate::dto::{AppError, Me};
#[cfg(feature = "ssr")]
use crate::server::*;

/// The dashboard's data; 401 without a session.
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn dashboard() -> Result<Me, AppError> {
    Ok(me(&current_account().await?))
}
