use locale::ErrorCode;

/// The one error type of the domain layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input was refused; `field` names the form field.
    #[error("invalid {field}: {code:?}")]
    Invalid {
        field: &'static str,
        code: ErrorCode,
    },
    /// A debit larger than the balance; nothing was changed.
    #[error("insufficient credits")]
    InsufficientCredits,
    #[error("not found")]
    NotFound,
    #[error("not authorised")]
    Unauthorized,
    /// The account is suspended by an admin: its keys and sessions are refused.
    #[error("account suspended")]
    Suspended,
    /// The payment provider refused a request or could not be reached; the text is for
    /// the log, the user sees a plain "payment could not be started, try again".
    #[error("payment provider: {0}")]
    PaymentProvider(String),
    /// The request is valid but the thing is not in a state that allows it (e.g. marking
    /// an order paid that is not pending).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Too many of these requests lately (registrations, checkouts); try again later.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// No payment provider is configured and the test gateway is not opened: nothing can
    /// be bought.
    #[error("payments are not available")]
    PaymentsDisabled,
    /// Signed in, but refused for a reason the code names (rights, plan, state): e.g. a
    /// team member trying an admin's action, or an expired invitation.
    #[error("refused: {0:?}")]
    Refused(ErrorCode),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &'static str, code: ErrorCode) -> Self {
        Error::Invalid { field, code }
    }

    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        Error::RateLimited {
            retry_after_secs: retry_after.as_secs().max(1),
        }
    }
}
