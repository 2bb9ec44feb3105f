//! KWD amounts: integer fils (1 KWD = 1000 fils) in storage, three decimals on screen and
//! on the wire.
use serde_json::Value;

/// `5.000 KWD` (English) or `٥٫٠٠٠ د.ك` (Arabic, with Arabic-Indic digits).
pub fn format_kwd(fils: i64, lang: &str) -> String {
    let sign = if fils < 0 { "-" } else { "" };
    let abs = fils.unsigned_abs();
    let whole = group_thousands(abs / 1000);
    let text = format!("{sign}{whole}.{:03}", abs % 1000);
    if lang == "ar" {
        let arabic: String = text
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap_or(c),
                '.' => '\u{066B}',
                ',' => '\u{066C}',
                other => other,
            })
            .collect();
        format!("{arabic} د.ك")
    } else {
        format!("{text} KWD")
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount for a MyFatoorah request: a JSON number with at most three decimals. The
/// division happens only here, on the way out; the shortest representation of n/1000 is
/// the exact three-decimal text, so `12345` goes out as `12.345`.
pub(crate) fn kwd_number(fils: i64) -> Value {
    serde_json::Number::from_f64(fils as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// An amount MyFatoorah sent (a JSON number, or a string such as `"12,345.000"`), in
/// fils. Read from the text, never through floating-point arithmetic; more than three
/// decimals is not a KWD amount.
pub(crate) fn parse_fils(v: &Value) -> Option<i64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().replace(',', ""),
        _ => return None,
    };
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = frac.trim_end_matches('0');
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 3 || !digits(whole) || !digits(frac) {
        return None;
    }
    let fils = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(format!("{frac:0<3}").parse::<i64>().ok()?)?;
    Some(if negative { -fils } else { fils })
}

/// MyFatoorah writes KWD as `KD` in v2 transaction fields; everything else is ISO.
pub(crate) fn iso_currency(code: &str) -> String {
    match code.trim().to_ascii_uppercase().as_str() {
        "KD" => "KWD".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kwd_is_shown_with_three_decimals_in_english_and_arabic() {
        assert_eq!(format_kwd(5000, "en"), "5.000 KWD");
        assert_eq!(format_kwd(5000, "ar"), "٥٫٠٠٠ د.ك");
        assert_eq!(format_kwd(12_345_678, "en"), "12,345.678 KWD");
        assert_eq!(format_kwd(12_345_678, "ar"), "١٢٬٣٤٥٫٦٧٨ د.ك");
        assert_eq!(format_kwd(250, "en"), "0.250 KWD");
        assert_eq!(format_kwd(-1500, "en"), "-1.500 KWD");
    }

    #[test]
    fn amounts_go_out_as_exact_three_decimal_numbers() {
        for (fils, text) in [
            (5000, "5.0"),
            (12_345, "12.345"),
            (35_000, "35.0"),
            (1, "0.001"),
        ] {
            assert_eq!(kwd_number(fils).to_string(), text);
            assert_eq!(parse_fils(&kwd_number(fils)), Some(fils));
        }
    }

    #[test]
    fn amounts_from_myfatoorah_are_read_as_decimals() {
        assert_eq!(parse_fils(&json!(5)), Some(5000));
        assert_eq!(parse_fils(&json!(2.5)), Some(2500));
        assert_eq!(parse_fils(&json!("12,345.000")), Some(12_345_000));
        assert_eq!(parse_fils(&json!("0.0011")), None);
        assert_eq!(parse_fils(&json!("5 KD")), None);
        assert_eq!(parse_fils(&json!(null)), None);
    }
}
