//! Per-request context (request id, start time) and the tracker that lets a graceful
//! shutdown wait for open requests and their settlements.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tokio::sync::Notify;

/// Set by the outermost middleware on every request.
#[derive(Clone)]
pub struct Ctx {
    pub request_id: Arc<str>,
    pub started: Instant,
    /// A metered request's rate-limit decision still to be made (with Redis: in the
    /// script that takes its place in flight; `crate::ratelimit::Gate`).
    pub gate: Option<Arc<crate::ratelimit::Gate>>,
}

/// `req_` and 12 hex digits.
const PREFIX_LEN: usize = 16;

/// Unique request ids: a random per-process prefix and a counter (no syscall, no lock).
pub struct RequestIds {
    /// [`PREFIX_LEN`] ASCII characters.
    prefix: String,
    next: AtomicU64,
}

impl RequestIds {
    pub fn new() -> Self {
        Self {
            prefix: format!("req_{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff),
            next: AtomicU64::new(1),
        }
    }

    /// The prefix and the counter, at least ten digits (`req_…0000000042`), written into
    /// one buffer: one allocation, for the `Arc`.
    pub fn next(&self) -> Arc<str> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(n);
        let mut id = [b'0'; PREFIX_LEN + 20];
        id[..PREFIX_LEN].copy_from_slice(self.prefix.as_bytes());
        let end = PREFIX_LEN + digits.len().max(10);
        id[end - digits.len()..end].copy_from_slice(digits.as_bytes());
        Arc::from(std::str::from_utf8(&id[..end]).unwrap_or("req"))
    }
}

/// Step 1 of every request: an id and a start time, into the request's extensions (the
/// admission middleware calls it, one layer rather than a layer of its own).
pub fn begin(ids: &RequestIds, req: &mut Request) -> Ctx {
    let ctx = Ctx {
        request_id: ids.next(),
        started: Instant::now(),
        gate: None,
    };
    req.extensions_mut().insert(ctx.clone());
    ctx
}

/// Every answer carries its request's id as `x-request-id`.
pub fn with_id(ctx: &Ctx, mut res: Response) -> Response {
    const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        res.headers_mut().insert(X_REQUEST_ID, v);
    }
    res
}

/// Counts work that must finish before the process exits (open streams, settlements).
#[derive(Default)]
pub struct Tracker {
    open: AtomicUsize,
    idle: Notify,
}

pub struct TrackGuard(Arc<Tracker>);

impl Tracker {
    pub fn enter(self: &Arc<Self>) -> TrackGuard {
        self.open.fetch_add(1, Ordering::SeqCst);
        TrackGuard(self.clone())
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Waits until nothing is open, or the deadline passes. True when idle.
    pub async fn wait_idle(&self, deadline: Duration) -> bool {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let notified = self.idle.notified();
            if self.open() == 0 {
                return true;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.open() == 0;
            }
        }
    }
}

impl Drop for TrackGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_the_prefix_and_at_least_ten_digits() {
        let ids = RequestIds::new();
        assert_eq!(ids.prefix.len(), PREFIX_LEN);
        for (n, digits) in [
            (1u64, "0000000001"),
            (42, "0000000042"),
            (9_999_999_999, "9999999999"),
            (12_345_678_901, "12345678901"),
            (u64::MAX, "18446744073709551615"),
        ] {
            ids.next.store(n, Ordering::Relaxed);
            assert_eq!(&*ids.next(), format!("{}{digits}", ids.prefix));
        }
    }
}
