//! What fail2ban reports (NOTIF-09). Its action (`deploy/fail2ban/action.d/
//! resayil-portal.conf`) calls `POST /internal/fail2ban` with a shared token; a ban is
//! stored in `ip_bans` and, in the same transaction, recorded as an `ip_banned` event whose
//! notification alerts the admins — once per ban (jail, IP, ban time).
use std::net::IpAddr;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::entities::ip_ban;
use crate::{events, time, Error, ErrorCode, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BanEvent {
    Ban,
    Unban,
}

/// The body fail2ban's action sends (JSON or form-encoded; numbers may come as text).
#[derive(Debug, Clone, Deserialize)]
pub struct Report {
    pub event: BanEvent,
    /// The jail's name (`<name>`).
    pub jail: String,
    pub ip: String,
    #[serde(default, deserialize_with = "lenient_number")]
    pub failures: Option<f64>,
    /// The ban's start, unix seconds (`<time>`).
    #[serde(default, deserialize_with = "lenient_number")]
    pub time: Option<f64>,
    /// Seconds; -1 for a permanent ban (`<bantime>`).
    #[serde(default, deserialize_with = "lenient_number")]
    pub bantime: Option<f64>,
    /// The account name of the last matched line (`<F-USER>`).
    #[serde(default)]
    pub user: Option<String>,
}

/// A ban as the admin pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub jail: String,
    pub ip: String,
    pub user: Option<String>,
    pub failures: i32,
    pub banned_at: i64,
    pub bantime: i64,
    pub unbanned_at: Option<i64>,
}

/// True when `presented` is the configured token (compared in constant time). Without a
/// configured token nothing matches.
pub fn token_matches(settings: &Settings, presented: Option<&str>) -> bool {
    let (Some(expected), Some(presented)) = (&settings.fail2ban_token, presented) else {
        return false;
    };
    let expected = expected.expose_secret();
    if expected.is_empty() {
        return false;
    }
    // Equal-length digests, compared without an early exit.
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Stores a ban (and queues the admin alert) or an unban. True when something new was
/// recorded; a repeated report changes nothing.
pub async fn report(db: &DatabaseConnection, r: Report) -> Result<bool, Error> {
    let ip: IpAddr =
        r.ip.trim()
            .parse()
            .map_err(|_| Error::invalid("ip", ErrorCode::Required))?;
    let jail = r.jail.trim();
    let jail_ok = !jail.is_empty()
        && jail.len() <= 64
        && jail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !jail_ok {
        return Err(Error::invalid("jail", ErrorCode::Required));
    }
    let now = time::now();
    match r.event {
        BanEvent::Ban => {
            let at = r.time.map_or(now, |t| t as i64);
            let user: Option<String> = r
                .user
                .map(|u| u.trim().chars().take(254).collect::<String>())
                .filter(|u| !u.is_empty());
            let failures = r.failures.unwrap_or(0.0).clamp(0.0, i32::MAX as f64) as i32;
            let bantime = r.bantime.map_or(0, |b| b as i64);
            ban(db, jail, &ip.to_string(), user, failures, at, bantime).await
        }
        BanEvent::Unban => {
            let res = ip_ban::Entity::update_many()
                .col_expr(ip_ban::Column::UnbannedAt, Expr::value(Some(now)))
                .filter(ip_ban::Column::Jail.eq(jail))
                .filter(ip_ban::Column::Ip.eq(ip.to_string()))
                .filter(ip_ban::Column::UnbannedAt.is_null())
                .exec(db)
                .await?;
            Ok(res.rows_affected > 0)
        }
    }
}

async fn ban(
    db: &DatabaseConnection,
    jail: &str,
    ip: &str,
    user: Option<String>,
    failures: i32,
    at: i64,
    bantime: i64,
) -> Result<bool, Error> {
    let txn = crate::db::begin_write(db).await?;
    let inserted = ip_ban::Entity::insert(ip_ban::ActiveModel {
        jail: Set(jail.to_owned()),
        ip: Set(ip.to_owned()),
        username: Set(user.clone()),
        failures: Set(failures),
        banned_at: Set(at),
        bantime: Set(bantime),
        created_at: Set(time::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            ip_ban::Column::Jail,
            ip_ban::Column::Ip,
            ip_ban::Column::BannedAt,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let payload = serde_json::json!({
        "jail": jail, "ip": ip, "failures": failures, "time": at, "bantime": bantime,
        "user": user,
    });
    let key = format!("ban:{jail}:{ip}:{at}");
    let recorded = events::record(&txn, events::Kind::IpBanned, None, &key, payload).await?;
    txn.commit().await?;
    if inserted > 0 {
        tracing::warn!(jail, ip, failures, "fail2ban banned an address");
    }
    Ok(inserted > 0 || recorded)
}

/// The most recent bans, newest first.
pub async fn recent(db: &DatabaseConnection, limit: u64) -> Result<Vec<Ban>, Error> {
    Ok(ip_ban::Entity::find()
        .order_by_desc(ip_ban::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Ban {
            jail: m.jail,
            ip: m.ip,
            user: m.username,
            failures: m.failures,
            banned_at: m.banned_at,
            bantime: m.bantime,
            unbanned_at: m.unbanned_at,
        })
        .collect())
}

/// The account name of a ban (typed by whoever failed to log in) as the admins' WhatsApp
/// alert may show it. WhatsApp has no escaping, so what would change the message is
/// replaced or removed: control and invisible formatting characters (newlines, bidi
/// overrides that reorder the text, zero-width joiners) are dropped, the formatting marks
/// `* _ ~ `` ` `` and a leading `>` become look-alikes that format nothing, runs of spaces
/// become one (Meta refuses template parameters with newlines or four spaces), and the
/// result is at most [`ALERT_NAME_MAX`] characters. The stored ban keeps the name verbatim.
pub(crate) fn alert_safe_name(name: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true;
    for c in name.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                count += 1;
            }
            last_space = true;
        } else if c.is_control() || is_invisible(c) {
            continue;
        } else {
            out.push(match c {
                '*' => '\u{2217}',                   // ∗
                '_' => '\u{FF3F}',                   // ＿
                '~' => '\u{223C}',                   // ∼
                '`' => '\u{02CB}',                   // ˋ
                '>' if out.is_empty() => '\u{203A}', // ›
                c => c,
            });
            count += 1;
            last_space = false;
        }
        if count >= ALERT_NAME_MAX {
            out.push('…');
            break;
        }
    }
    out.trim_end().to_owned()
}

/// Longest account name an alert shows.
pub(crate) const ALERT_NAME_MAX: usize = 64;

/// Unicode format characters that change how text around them is shown.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Numbers as JSON numbers or as text (`3`, `1795641659.27`), as curl forms send them.
fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(f64),
        S(String),
    }
    match Option::<Num>::deserialize(d)? {
        None => Ok(None),
        Some(Num::N(n)) => Ok(Some(n)),
        Some(Num::S(s)) if s.trim().is_empty() => Ok(None),
        Some(Num::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("not a number: {s}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_alerts_cannot_format_reorder_or_flood_the_message() {
        assert_eq!(alert_safe_name("eve@example.com"), "eve@example.com");
        assert_eq!(
            alert_safe_name("*URGENT* _pay_ ~now~ ```x```"),
            "\u{2217}URGENT\u{2217} \u{FF3F}pay\u{FF3F} \u{223C}now\u{223C} \u{02CB}\u{02CB}\u{02CB}x\u{02CB}\u{02CB}\u{02CB}"
        );
        assert_eq!(
            alert_safe_name("a\nb\r\n\tc     d\u{202E}moc.live\u{200B}"),
            "a b c dmoc.live"
        );
        assert_eq!(alert_safe_name("> quoted"), "\u{203A} quoted");
        let long = alert_safe_name(&"x".repeat(5000));
        assert_eq!(long.chars().count(), ALERT_NAME_MAX + 1);
        assert!(long.ends_with('…'));
        assert_eq!(alert_safe_name("\u{7}\u{202E}"), "");
    }
}
