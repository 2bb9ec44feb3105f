//! What server functions send to the browser: plain data, no secrets beyond what the
//! caller may see, and errors as codes the page turns into words in its language.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a request was refused, for the page to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    Required,
    TooLong,
    InvalidEmail,
    InvalidPhone,
    PasswordTooShort,
    EmailTaken,
    PhoneTaken,
    InvalidCredentials,
    TooManyAttempts,
    KeyLimitReached,
    Unauthorized,
    NotFound,
    Server,
}

/// The error of every server function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// A form field was refused; shown next to that field.
    Field { field: String, code: ErrorCode },
    /// No valid session (HTTP 401).
    Unauthorized,
    /// Not found, or not yours (HTTP 404).
    NotFound,
    /// Our fault (HTTP 500); the cause was logged on the server.
    Server,
    /// The request did not reach the function (network, decoding).
    Transport(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this runs when a request's arguments cannot be decoded: that is
        // the caller's mistake (400), not ours.
        #[cfg(feature = "ssr")]
        if matches!(
            value,
            ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_)
        ) {
            if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::BAD_REQUEST);
            }
        }
        AppError::Transport(value.to_string())
    }
}

impl AppError {
    /// The code to explain this error with.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Field { code, .. } => *code,
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::Server | AppError::Transport(_) => ErrorCode::Server,
        }
    }
    /// The code if this error belongs to `field`.
    pub fn for_field(&self, name: &str) -> Option<ErrorCode> {
        match self {
            AppError::Field { field, code } if field == name => Some(*code),
            _ => None,
        }
    }
}

/// The signed-in user, as the header and dashboard show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub is_admin: bool,
    pub plan: Option<String>,
    pub plan_expires_at: Option<i64>,
    pub credits: i64,
}

/// One API key in the list (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub label: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A key just created: the only time the full secret leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    pub row: KeyRow,
    pub secret: String,
}
