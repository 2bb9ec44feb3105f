//! The page language and how it is chosen for a request: `?lang=` (which the server then
//! remembers in the `lang` cookie), else the `lang` cookie, else the browser's
//! `Accept-Language` — Arabic unless English is preferred.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    Ar,
    En,
}

impl Lang {
    /// The name of the cookie that remembers a chosen language.
    pub const COOKIE: &'static str = "lang";

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::En => "en",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::En => "ltr",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ar => Lang::En,
            Lang::En => Lang::Ar,
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ar" => Some(Lang::Ar),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// A stored language code (an account's, a message's); Arabic when unknown.
    pub fn from_code_or_default(code: &str) -> Self {
        Self::from_code(code).unwrap_or_default()
    }

    /// The `lang=` parameter of a query string, if it names a language.
    pub fn from_query(query: &str) -> Option<Self> {
        query
            .split('&')
            .find_map(|p| p.strip_prefix("lang="))
            .and_then(Lang::from_code)
    }

    /// Arabic unless the browser ranks English above Arabic.
    pub fn from_accept_language(header: &str) -> Self {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("en") => Lang::En,
                Some("ar") => Lang::Ar,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Ar)
    }

    /// The language of a request, from its query string, its `lang` cookie value and its
    /// `Accept-Language` header, in that order.
    pub fn negotiate(
        query: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Self {
        query
            .and_then(Lang::from_query)
            .or_else(|| cookie.and_then(Lang::from_code))
            .unwrap_or_else(|| Lang::from_accept_language(accept_language.unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_is_the_default_unless_english_is_preferred() {
        assert_eq!(Lang::from_accept_language(""), Lang::Ar);
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9"), Lang::Ar);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("ar-KW,ar;q=0.9,en;q=0.8"),
            Lang::Ar
        );
        assert_eq!(Lang::from_accept_language("en;q=0.5,ar;q=0.4"), Lang::En);
    }

    #[test]
    fn the_query_wins_over_the_cookie_which_wins_over_the_browser() {
        let en_browser = Some("en-US,en;q=0.9");
        assert_eq!(
            Lang::negotiate(Some("a=1&lang=ar"), Some("en"), en_browser),
            Lang::Ar
        );
        assert_eq!(
            Lang::negotiate(Some("a=1"), Some("ar"), en_browser),
            Lang::Ar
        );
        assert_eq!(Lang::negotiate(None, Some("xx"), en_browser), Lang::En);
        assert_eq!(Lang::negotiate(Some("lang=fr"), None, None), Lang::Ar);
    }

    #[test]
    fn codes_round_trip_and_unknown_stored_codes_read_as_arabic() {
        for l in [Lang::Ar, Lang::En] {
            assert_eq!(Lang::from_code(l.code()), Some(l));
        }
        assert_eq!(Lang::from_code(" EN "), Some(Lang::En));
        assert_eq!(Lang::from_code_or_default("de"), Lang::Ar);
    }
}
