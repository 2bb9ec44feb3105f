//! Why a request was refused, as a code the page turns into words in its language.
use serde::{Deserialize, Serialize};

/// One enum for the domain (which refuses input) and the pages (which explain it). Its
/// variant names are on the wire (`{"Field":{"field":"email","code":"InvalidEmail"}}`).
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
    /// Registration is not open to the phone number's country.
    PhoneCountryNotAllowed,
    /// No valid session.
    Unauthorized,
    NotFound,
    /// Our fault; the cause was logged on the server.
    Server,
    /// The payment provider refused or could not be reached.
    PaymentUnavailable,
    /// Valid, but not in the current state (e.g. an order that is no longer pending).
    Conflict,
    /// Signed in, but not allowed (admin pages).
    Forbidden,
    /// Too many registrations or checkouts lately (HTTP 429).
    TooManyRequests,
    /// No payment provider is configured: nothing can be bought (HTTP 503).
    PaymentsDisabled,
    /// A one-time code that is not the one sent (or not six digits).
    InvalidCode,
    /// No code to check: none sent, expired, already used, replaced or out of tries.
    CodeExpired,
    /// The account is suspended by an admin (sign-in and API refused).
    AccountSuspended,
    /// Not a whole number (credit adjustments, prices in fils).
    NotAnInteger,
    /// The change would take a balance below zero.
    BelowZero,
    /// Must be greater than zero (multipliers, caps).
    NotPositive,
    /// No such model in the catalog (a fallback).
    UnknownModel,
    /// A restricted model: never served, whatever an admin says.
    ModelRestricted,
    /// Teams need an active plan of the highest tier (Enterprise).
    TeamPlanRequired,
    /// The invitee is already in this team (or the account is already in a team).
    AlreadyInTeam,
    /// The owner cannot be invited, removed, or leave.
    TeamOwner,
    /// This address already has a pending invitation to the team.
    AlreadyInvited,
    /// The invitation's 7 days are over.
    InvitationExpired,
    /// The invitation was accepted, declined or withdrawn already.
    InvitationClosed,
    /// Not the code of an open invitation to this account's address (never says more).
    InvalidInviteCode,
    /// Too many tries at invitation codes lately (HTTP 429).
    TooManyInviteCodes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cross_the_wire_by_their_variant_name() {
        // The pages and the API tests read these names; renaming one breaks them.
        let json = serde_json::to_string(&ErrorCode::InvalidEmail).unwrap_or_default();
        assert_eq!(json, "\"InvalidEmail\"");
        let back: ErrorCode =
            serde_json::from_str("\"PhoneCountryNotAllowed\"").unwrap_or(ErrorCode::Server);
        assert_eq!(back, ErrorCode::PhoneCountryNotAllowed);
    }
}
