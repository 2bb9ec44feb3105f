//! Arabic and English texts, grouped per page (one file per area). Every word a page
//! shows comes from here, written as one text with its two languages side by side; the
//! [`texts!`] macro refuses a text without both, so a missing translation is a compile
//! error rather than a blank on screen.
//!
//! The page language is decided on the server (`locale::Lang::negotiate`: `?lang=` →
//! `lang` cookie → `Accept-Language`, Arabic unless English is preferred) and written into
//! `<html lang dir>`; code in the browser reads it back from there.
use leptos::prelude::*;

pub use locale::{
    fmt_int, fmt_percent, kuwait_date as fmt_kuwait_date, kuwait_time as fmt_kuwait_time,
    ErrorCode, Lang,
};

/// Declares a struct of texts and its Arabic and English values, from a list of
/// `name { ar: "…", en: "…" }`; `Name::of(lang)` gives the texts of a language.
macro_rules! texts {
    ($(#[$doc:meta])* pub struct $name:ident {
        $($field:ident { ar: $ar:expr, en: $en:expr, })*
    }) => {
        $(#[$doc])*
        pub struct $name {
            $(pub $field: &'static str,)*
        }

        impl $name {
            /// The texts of `lang`.
            pub fn of(lang: $crate::i18n::Lang) -> &'static $name {
                static AR: $name = $name { $($field: $ar,)* };
                static EN: $name = $name { $($field: $en,)* };
                match lang {
                    $crate::i18n::Lang::Ar => &AR,
                    $crate::i18n::Lang::En => &EN,
                }
            }
        }
    };
}

mod account;
mod admin;
mod auth;
mod billing;
mod common;
mod credits;
mod dashboard;
mod docs;
mod header;
mod keys;
mod landing;
mod playground;
mod team;
mod usage;

pub use account::Account;
pub use admin::Admin;
pub use auth::Auth;
pub use billing::Billing;
pub use common::Common;
pub use credits::Credits;
pub use dashboard::Dashboard;
pub use docs::Docs;
pub use header::Header;
pub use keys::Keys;
pub use landing::Landing;
pub use playground::Playground;
pub use team::Team;
pub use usage::Usage;

impl Common {
    /// The words for an error code.
    pub fn error(&self, code: ErrorCode) -> &'static str {
        match code {
            ErrorCode::Required => self.err_required,
            ErrorCode::TooLong => self.err_too_long,
            ErrorCode::InvalidEmail => self.err_invalid_email,
            ErrorCode::InvalidPhone => self.err_invalid_phone,
            ErrorCode::PasswordTooShort => self.err_password_short,
            ErrorCode::EmailTaken => self.err_email_taken,
            ErrorCode::PhoneTaken => self.err_phone_taken,
            ErrorCode::InvalidCredentials => self.err_credentials,
            ErrorCode::TooManyAttempts => self.err_too_many,
            ErrorCode::KeyLimitReached => self.err_key_limit,
            ErrorCode::Unauthorized => self.err_unauthorized,
            ErrorCode::NotFound => self.err_not_found,
            ErrorCode::Server => self.err_server,
            ErrorCode::PaymentUnavailable => self.err_payment_unavailable,
            ErrorCode::Conflict => self.err_conflict,
            ErrorCode::Forbidden => self.err_forbidden,
            ErrorCode::PhoneCountryNotAllowed => self.err_phone_country,
            ErrorCode::TooManyRequests => self.err_too_many_requests,
            ErrorCode::PaymentsDisabled => self.err_payments_disabled,
            ErrorCode::InvalidCode => self.err_invalid_code,
            ErrorCode::CodeExpired => self.err_code_expired,
            ErrorCode::AccountSuspended => self.err_account_suspended,
            ErrorCode::NotAnInteger => self.err_not_an_integer,
            ErrorCode::BelowZero => self.err_below_zero,
            ErrorCode::NotPositive => self.err_not_positive,
            ErrorCode::UnknownModel => self.err_unknown_model,
            ErrorCode::ModelRestricted => self.err_model_restricted,
            ErrorCode::TeamPlanRequired => self.err_team_plan,
            ErrorCode::AlreadyInTeam => self.err_already_in_team,
            ErrorCode::TeamOwner => self.err_team_owner,
            ErrorCode::AlreadyInvited => self.err_already_invited,
            ErrorCode::InvitationExpired => self.err_invitation_expired,
            ErrorCode::InvitationClosed => self.err_invitation_closed,
            ErrorCode::InvalidInviteCode => self.err_invalid_invite_code,
            ErrorCode::TooManyInviteCodes => self.err_too_many_invite_codes,
        }
    }

    /// A plan's name; an unknown id is shown as the basic plan.
    pub fn plan_name(&self, id: &str) -> &'static str {
        match id {
            "pro" => self.plan_pro,
            "enterprise" => self.plan_enterprise,
            _ => self.plan_basic,
        }
    }
}

/// The page language from context (provided by `App`).
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_has_its_own_words() {
        assert_eq!(Auth::of(Lang::En).email, "Email");
        assert_eq!(Auth::of(Lang::Ar).email, "البريد الإلكتروني");
        assert_eq!(Common::of(Lang::Ar).plan_name("pro"), "الاحترافية");
        assert_eq!(Common::of(Lang::En).plan_name("nope"), "Basic");
        assert_eq!(
            Common::of(Lang::En).error(ErrorCode::InvalidEmail),
            "Enter a valid email address."
        );
    }
}
