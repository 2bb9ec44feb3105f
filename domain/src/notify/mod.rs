//! WhatsApp notifications (NOTIF-01..10 in PRODUCT.md): durable, in Arabic and English.
//!
//! Layout:
//! - The hook: [`crate::events::record`] calls `outbox::enqueue` for every newly recorded
//!   event, on the event's own connection — so the notification is written in the same
//!   transaction as whatever caused it, and deduplicated by the event's key. Callers do
//!   nothing else.
//! - `outbox`: the `notifications` queue and the `outbox` of messages. The worker
//!   (`expand`) turns each notification into one message per recipient and language — the account's phone
//!   in its language (`user` templates) or every `ADMIN_PHONES` number in `ADMIN_LANG`
//!   (`admins` templates); both languages with `NOTIFY_BOTH_LANGUAGES` — filled from the
//!   catalog's templates by `templates`.
//! - [`worker`]: [`run`] (the background loop, one per instance) and [`run_once`] (one
//!   pass, for tests); claims with leases keep every message with one sender at a time,
//!   temporary failures are retried with exponential backoff.
//! - [`providers`]: `log` | `meta` (WhatsApp Cloud API) | `http` (generic gateway).
//! - [`schedules`]: renewal reminders. [`bans`]: fail2ban's reports (NOTIF-09).
//! - [`recent`] and [`resend`]: the admin view's list and its "resend" button.
pub mod bans;
pub(crate) mod expand;
mod outbox;
pub mod providers;
pub mod schedules;
mod templates;
pub mod worker;

pub(crate) use outbox::enqueue;
pub use outbox::{recent, resend, OutboxRow, Status};
pub use worker::{run, run_once, Worker, WorkerConfig};

#[cfg(test)]
mod tests;
