//! Numbers, KWD amounts and times as the customer reads them: Arabic-Indic digits and
//! separators in Arabic, Western ones in English; amounts in KWD with three decimals
//! (1 KWD = 1000 fils); times in Asia/Kuwait, which is UTC+3 all year (no DST).
use crate::Lang;

/// Asia/Kuwait's offset from UTC.
pub const KUWAIT_OFFSET_SECS: i64 = 3 * 3600;

/// Writes Western digits and separators of `text` as Arabic-Indic ones.
fn arabic_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap_or(c),
            '.' => '\u{066B}',
            ',' => '\u{066C}',
            other => other,
        })
        .collect()
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

/// An integer with the language's digits and thousands separator: `20,000` / `٢٠٬٠٠٠`.
pub fn fmt_int(lang: Lang, n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let text = format!("{sign}{}", group_thousands(n.unsigned_abs()));
    match lang {
        Lang::En => text,
        Lang::Ar => arabic_digits(&text),
    }
}

/// A whole percentage: `85%` / `٨٥٪` (the Arabic percent sign, after the digits as Arabic
/// writes it; a Latin `%` beside Arabic-Indic digits is placed by the bidi algorithm on
/// the wrong side in an RTL line).
pub fn fmt_percent(lang: Lang, n: i64) -> String {
    match lang {
        Lang::En => format!("{}%", fmt_int(lang, n)),
        Lang::Ar => format!("{}\u{066A}", fmt_int(lang, n)),
    }
}

/// An amount in fils as KWD: `5.000 KWD` / `٥٫٠٠٠ د.ك`.
pub fn fmt_kwd(lang: Lang, fils: i64) -> String {
    let sign = if fils < 0 { "-" } else { "" };
    let abs = fils.unsigned_abs();
    let text = format!("{sign}{}.{:03}", group_thousands(abs / 1000), abs % 1000);
    match lang {
        Lang::En => format!("{text} KWD"),
        Lang::Ar => format!("{} د.ك", arabic_digits(&text)),
    }
}

/// Days since the epoch, in Kuwait (the day boundary of daily caps and counters).
pub fn kuwait_day(unix: i64) -> i64 {
    (unix + KUWAIT_OFFSET_SECS).div_euclid(86_400)
}

/// Unix time of the last midnight in Kuwait.
pub fn kuwait_midnight(unix: i64) -> i64 {
    kuwait_day(unix) * 86_400 - KUWAIT_OFFSET_SECS
}

/// Seconds until the next midnight in Kuwait (1..=86400).
pub fn seconds_to_kuwait_midnight(unix: i64) -> u64 {
    (86_400 - (unix + KUWAIT_OFFSET_SECS).rem_euclid(86_400)) as u64
}

/// A unix time in Asia/Kuwait as (year, month, day, seconds into the day).
pub fn kuwait_civil(ts: i64) -> (i64, i64, i64, i64) {
    let t = ts + KUWAIT_OFFSET_SECS;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs)
}

/// `YYYY-MM-DD` of a unix time in Asia/Kuwait.
pub fn kuwait_date(ts: i64) -> String {
    let (y, m, d, _) = kuwait_civil(ts);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM` of a unix time in Asia/Kuwait.
pub fn kuwait_time(ts: i64) -> String {
    let (y, m, d, secs) = kuwait_civil(ts);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_take_the_language_s_sign() {
        assert_eq!(fmt_percent(Lang::En, 85), "85%");
        assert_eq!(fmt_percent(Lang::Ar, 85), "٨٥٪");
        assert_eq!(fmt_percent(Lang::Ar, 100), "١٠٠٪");
    }

    #[test]
    fn numbers_use_the_digits_of_the_language() {
        assert_eq!(fmt_int(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(fmt_int(Lang::Ar, 5000), "٥٬٠٠٠");
        assert_eq!(fmt_int(Lang::Ar, 20_000), "٢٠٬٠٠٠");
        assert_eq!(fmt_int(Lang::Ar, 5), "٥");
        assert_eq!(fmt_int(Lang::En, -20), "-20");
        assert_eq!(fmt_int(Lang::En, -1234), "-1,234");
    }

    #[test]
    fn kwd_is_shown_with_three_decimals_in_english_and_arabic() {
        assert_eq!(fmt_kwd(Lang::En, 5000), "5.000 KWD");
        assert_eq!(fmt_kwd(Lang::Ar, 5000), "٥٫٠٠٠ د.ك");
        assert_eq!(fmt_kwd(Lang::En, 12_345_678), "12,345.678 KWD");
        assert_eq!(fmt_kwd(Lang::Ar, 12_345_678), "١٢٬٣٤٥٫٦٧٨ د.ك");
        assert_eq!(fmt_kwd(Lang::En, 250), "0.250 KWD");
        assert_eq!(fmt_kwd(Lang::En, -1500), "-1.500 KWD");
    }

    #[test]
    fn kuwait_dates_turn_at_midnight_kuwait_time() {
        // 2026-11-25 20:59:59 UTC is 23:59:59 in Kuwait; a second later it is the 26th.
        assert_eq!(kuwait_date(1_795_640_399), "2026-11-25");
        assert_eq!(kuwait_date(1_795_640_400), "2026-11-26");
        assert_eq!(kuwait_time(1_795_640_400), "2026-11-26 00:00");
        // 2026-11-25T21:30:00Z is 00:30 on the 26th in Kuwait.
        assert_eq!(kuwait_time(1_795_642_200), "2026-11-26 00:30");
    }

    #[test]
    fn dates_before_1970_and_leap_days_are_right() {
        assert_eq!(kuwait_date(-3 * 3600 - 1), "1969-12-31");
        // 2024-02-29T12:00:00Z.
        assert_eq!(kuwait_date(1_709_208_000), "2024-02-29");
    }
}
