//! Parse, don't validate: a value of these types is known to be acceptable.
use crate::{Error, ErrorCode};

/// A lower-cased e-mail address of at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(Error::invalid("email", ErrorCode::Required));
        }
        if s.chars().count() > 254 {
            return Err(Error::invalid("email", ErrorCode::TooLong));
        }
        let ok = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && !domain.contains('@')
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "@._%+-'".contains(c))
            }
            None => false,
        };
        if ok {
            Ok(Self(s))
        } else {
            Err(Error::invalid("email", ErrorCode::InvalidEmail))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 with the leading `+`. Kuwait numbers (+965) must have
/// 8 national digits; other countries 7–15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if compact.is_empty() {
            return Err(Error::invalid("phone", ErrorCode::Required));
        }
        if compact.len() > 20 {
            return Err(Error::invalid("phone", ErrorCode::TooLong));
        }
        let digits = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"))
            .ok_or(Error::invalid("phone", ErrorCode::InvalidPhone))?;
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        let ok = all_digits
            && !digits.starts_with('0')
            && match digits.strip_prefix("965") {
                Some(national) => national.len() == 8 && !national.starts_with('0'),
                None => (8..=15).contains(&digits.len()),
            };
        if ok {
            Ok(Self(format!("+{digits}")))
        } else {
            Err(Error::invalid("phone", ErrorCode::InvalidPhone))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8 to 128 characters (kept only until it is hashed).
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let n = raw.chars().count();
        if n == 0 {
            Err(Error::invalid("password", ErrorCode::Required))
        } else if n < Self::MIN {
            Err(Error::invalid("password", ErrorCode::PasswordTooShort))
        } else if n > Self::MAX {
            Err(Error::invalid("password", ErrorCode::TooLong))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short, human label (API key names): 1 to 64 characters, control characters removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub const MAX: usize = 64;
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s: String = raw.trim().chars().filter(|c| !c.is_control()).collect();
        if s.is_empty() {
            Err(Error::invalid("label", ErrorCode::Required))
        } else if s.chars().count() > Self::MAX {
            Err(Error::invalid("label", ErrorCode::TooLong))
        } else {
            Ok(Self(s))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name a customer wants to be called by (profile): up to 64 characters, trimmed,
/// control and bidirectional-override characters removed; empty means no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(Option<String>);

impl Name {
    pub const MAX: usize = 64;
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s: String = raw
            .chars()
            .filter(|c| {
                !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            })
            .collect();
        let s = s.trim();
        if s.chars().count() > Self::MAX {
            Err(Error::invalid("name", ErrorCode::TooLong))
        } else {
            Ok(Self((!s.is_empty()).then(|| s.to_owned())))
        }
    }
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// A redirect target on this site (the `next=` of login and registration), as the
/// `Location` header will carry it.
///
/// Browsers parse `Location` by the URL standard, which first trims leading and trailing
/// spaces and control characters, removes every tab and newline, and reads `\\` as `/`:
/// `/\t/evil.example` and `/\\evil.example` are both `//evil.example`, another site. So
/// anything with a control character, a space or a backslash is refused outright (not
/// cleaned), as is anything that is not a path (`//host`, `scheme:`). The result is the
/// URL parser's own serialization (non-ASCII percent-encoded), so it always makes a valid
/// header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    pub const MAX: usize = 512;
    pub fn parse(raw: &str) -> Option<Self> {
        let plain = raw.len() < Self::MAX
            && raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
        if !plain {
            return None;
        }
        // The parser has the last word: the target must stay on the same origin.
        let base = url::Url::parse("http://same-origin.invalid/").ok()?;
        let joined = base.join(raw).ok()?;
        let same = joined.origin() == base.origin() && joined.path().starts_with('/');
        same.then(|| Self(joined[url::Position::BeforePath..].to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: Error) -> ErrorCode {
        match e {
            Error::Invalid { code, .. } => code,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Sara@Example.COM ").unwrap().as_str(),
            "sara@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "a",
            "a@b",
            "@x.com",
            "a@.com",
            "a@x..com",
            "<script>@x.com",
            "a@b@c.com",
            "a' OR 1=1 --",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            code(Email::parse(&format!("{}@x.com", "a".repeat(300))).unwrap_err()),
            ErrorCode::TooLong
        );
    }

    #[test]
    fn kuwait_numbers_need_eight_digits_and_keep_the_plus() {
        assert_eq!(
            Phone::parse("+965 5001 2345").unwrap().as_str(),
            "+96550012345"
        );
        assert_eq!(
            Phone::parse("0096550012345").unwrap().as_str(),
            "+96550012345"
        );
        assert_eq!(
            code(Phone::parse("+9655001234").unwrap_err()),
            ErrorCode::InvalidPhone
        );
        assert_eq!(
            code(Phone::parse("+965500123456").unwrap_err()),
            ErrorCode::InvalidPhone
        );
        assert_eq!(
            code(Phone::parse("50012345").unwrap_err()),
            ErrorCode::InvalidPhone
        );
        assert_eq!(
            code(Phone::parse("+96550O12345").unwrap_err()),
            ErrorCode::InvalidPhone
        );
    }

    #[test]
    fn other_countries_follow_e164_length() {
        assert_eq!(
            Phone::parse("+971501234567").unwrap().as_str(),
            "+971501234567"
        );
        assert!(Phone::parse("+1234").is_err());
    }

    #[test]
    fn passwords_have_a_minimum_and_maximum_length() {
        assert_eq!(
            code(Password::parse("short").unwrap_err()),
            ErrorCode::PasswordTooShort
        );
        assert_eq!(
            code(Password::parse(&"x".repeat(129)).unwrap_err()),
            ErrorCode::TooLong
        );
        assert!(Password::parse("long enough").is_ok());
    }

    #[test]
    fn local_paths_stay_on_this_site() {
        for ok in [
            "/dashboard",
            "/billing?item=pro&x=1",
            "/keys#new",
            "/a/b/../c",
        ] {
            assert!(LocalPath::parse(ok).is_some(), "{ok} refused");
        }
        assert_eq!(
            LocalPath::parse("/billing?q=ü").unwrap().as_str(),
            "/billing?q=%C3%BC"
        );
        assert_eq!(LocalPath::parse("/a/b/../c").unwrap().as_str(), "/a/c");
    }

    #[test]
    fn redirects_off_site_or_with_control_characters_are_refused() {
        for bad in [
            "",
            "dashboard",
            "//evil.example/phish",
            "/\\evil.example",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/%09/evil.example/phish\r\nSet-Cookie: x=1",
            "/dashboard\r\nSet-Cookie: x=1",
            "/x\u{7f}",
            "https://evil.example/",
            "javascript:alert(1)",
            "/\u{2028}/evil.example",
        ] {
            assert_eq!(LocalPath::parse(bad), None, "{bad:?} accepted");
        }
        assert_eq!(LocalPath::parse(&format!("/{}", "a".repeat(600))), None);
    }

    #[test]
    fn labels_are_bounded_and_cleaned() {
        assert_eq!(Label::parse(" ci\u{7} key ").unwrap().as_str(), "ci key");
        assert_eq!(code(Label::parse("   ").unwrap_err()), ErrorCode::Required);
        assert_eq!(
            Name::parse("  سارة \u{202E}x ")
                .unwrap()
                .into_inner()
                .as_deref(),
            Some("سارة x")
        );
        assert_eq!(Name::parse(" \t ").unwrap().into_inner(), None);
        assert_eq!(
            code(Name::parse(&"n".repeat(65)).unwrap_err()),
            ErrorCode::TooLong
        );
        assert_eq!(
            code(Label::parse(&"k".repeat(65)).unwrap_err()),
            ErrorCode::TooLong
        );
    }
}
