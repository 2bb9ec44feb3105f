use serde::{Deserialize, Serialize};

/// Why a user's input was refused; the web layer turns it into words in the page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
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
}

/// The one error type of the domain layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input was refused; `field` names the form field.
    #[error("invalid {field}: {code:?}")]
    Invalid {
        field: &'static str,
        code: FieldCode,
    },
    /// A debit larger than the balance; nothing was changed.
    #[error("insufficient credits")]
    InsufficientCredits,
    #[error("not found")]
    NotFound,
    #[error("not authorised")]
    Unauthorized,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &'static str, code: FieldCode) -> Self {
        Error::Invalid { field, code }
    }
}
