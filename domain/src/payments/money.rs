//! KWD amounts: integer fils (1 KWD = 1000 fils) in storage, three decimals on screen and
//! on the wire (shown with `locale::fmt_kwd`).
use serde_json::Value;

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
