//! What the wasm app and the server both need to speak the customer's language: the page
//! language and how it is chosen, the codes of refused form input, and how numbers, KWD
//! amounts and Kuwait times are written. Serde only, so it compiles to wasm32; written
//! once, so the page and a WhatsApp message show a number the same way.
//!
//! Layout: [`lang`] (`Lang`, negotiation), [`code`] (`ErrorCode`), [`format`] (digits,
//! KWD, Kuwait date and time).
mod code;
mod format;
mod lang;

pub use code::ErrorCode;
pub use format::{
    fmt_int, fmt_kwd, fmt_percent, kuwait_civil, kuwait_date, kuwait_day, kuwait_midnight,
    kuwait_time, seconds_to_kuwait_midnight, KUWAIT_OFFSET_SECS,
};
pub use lang::Lang;
