//! The SSE relay: passes the upstream's events to the client as they arrive, reading the
//! usage chunk on the way, and settles the request when the stream ends however it ends.
//!
//! - The response is committed (200) only after the first upstream event arrived, so an
//!   upstream that fails at once still gets a proper error status ([`Relay::prime`]).
//! - `stream_options.include_usage` is always asked of the upstream; the usage chunk
//!   (`"choices":[]`) is passed on only when the client asked for it.
//! - A stream that ends without `data: [DONE]`, or with an `{"error":…}` line, is a
//!   failure: the client gets a `data: {"error":{…}}` event (which the OpenAI SDKs raise as
//!   `APIError`), and only what was generated is charged.
//! - A client that goes away mid-stream drops the relay: the upstream connection closes
//!   (so Ollama stops generating) and the request is charged the reservation's input
//!   estimate plus one token per content chunk relayed — the usage chunk never comes.
//! - An answer that is not SSE at all (a JSON answer to a stream request) is refused as a
//!   wrong-mode answer and charged by its usage: the upstream did the work.
//! - Events end at an empty line, whichever line ends the upstream uses (`\n`, `\r\n`,
//!   `\r`); an unfinished event larger than [`MAX_EVENT`] breaks the stream, so the buffer
//!   is bounded.
//!
//! What each ending is charged is `domain::pricing`'s rule; this module reports it.
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::StreamExt;
use memchr::memmem;
use serde::Deserialize;

use domain::pricing::{Ending, Usage};

use crate::capacity::Slot;
use crate::settlement::{Outcome, Ticket};
use crate::upstream::Answer;

// Searchers built once: building one per search showed in the stream profile.
static EVENT_END: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\n\n"));
static USAGE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"usage\":{"));
static CONTENT: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"content\":\""));
static EMPTY_CONTENT: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"content\":\"\""));

/// Bytes gathered into one write at most.
const COALESCE_MAX: usize = 16 * 1024;
/// An event still unfinished at this size breaks the stream (the buffer is bounded).
pub const MAX_EVENT: usize = 1 << 20;

const BROKEN: &[u8] = b"data: {\"error\":{\"message\":\"The model stopped before finishing the answer. Only the generated part is charged.\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_stream_broken\"}}\n\n";

pub struct Relay {
    upstream: BoxStream<'static, Result<Bytes, String>>,
    buf: BytesMut,
    client_wants_usage: bool,
    usage: Option<Usage>,
    /// Content chunks relayed (Ollama sends one token per chunk).
    chunks: u64,
    done: bool,
    ended: bool,
    ticket: Option<Ticket>,
    /// The local place, held until the stream ends.
    _slot: Option<Slot>,
}

/// Why a stream failed before its first event.
pub enum PrimeError {
    /// Nothing came, or an error line came first.
    Failed,
    /// A whole answer that is not SSE came.
    WrongMode,
}

#[derive(Deserialize)]
struct UsageChunk {
    #[serde(default)]
    choices: Option<Vec<serde::de::IgnoredAny>>,
    usage: Option<Usage>,
}

impl Relay {
    pub fn new(res: Answer, ticket: Ticket, slot: Option<Slot>, client_wants_usage: bool) -> Self {
        let upstream = Drainable::new(res.into_stream(), ticket.drain_signal());
        Self {
            upstream: Box::pin(upstream),
            buf: BytesMut::with_capacity(4096),
            client_wants_usage,
            usage: None,
            chunks: 0,
            done: false,
            ended: false,
            ticket: Some(ticket),
            _slot: slot,
        }
    }

    /// Reads until the first complete event. On failure the ticket is finished with
    /// nothing charged.
    pub async fn prime(&mut self) -> Result<(), PrimeError> {
        loop {
            if let Some((end, _)) = event_end(&self.buf) {
                let data = event_data(&self.buf[..end]);
                if data.starts_with(b"{\"error\"") {
                    tracing::warn!(event = %String::from_utf8_lossy(data), "upstream error before output");
                    self.fail_before_output();
                    return Err(PrimeError::Failed);
                }
                if let Some(t) = &self.ticket {
                    t.first_output();
                }
                return Ok(());
            }
            if self.buf.len() > MAX_EVENT {
                tracing::warn!("upstream event larger than {MAX_EVENT} bytes before output");
                self.fail_before_output();
                return Err(PrimeError::Failed);
            }
            match self.upstream.next().await {
                Some(Ok(b)) => self.buf.extend_from_slice(&b),
                Some(Err(e)) => {
                    tracing::warn!("upstream stream failed before output: {e}");
                    self.fail_before_output();
                    return Err(PrimeError::Failed);
                }
                None => return Err(self.ended_before_output()),
            }
        }
    }

    /// The upstream ended without a single event: nothing, or a whole answer that is not
    /// SSE (it did not stream although asked to), which is charged by its usage.
    fn ended_before_output(&mut self) -> PrimeError {
        let usage = serde_json::from_slice::<UsageChunk>(&self.buf)
            .ok()
            .and_then(|c| c.usage);
        if usage.is_none() && !self.buf.starts_with(b"{") {
            tracing::warn!("upstream stream ended before output");
            self.fail_before_output();
            return PrimeError::Failed;
        }
        tracing::error!("upstream answered a stream request without streaming");
        self.ended = true;
        if let Some(t) = self.ticket.take() {
            t.finish(Outcome::wrong_mode(usage));
        }
        PrimeError::WrongMode
    }

    fn fail_before_output(&mut self) {
        self.ended = true;
        if let Some(t) = self.ticket.take() {
            t.finish(Outcome {
                status: 502,
                ending: Ending::FailedBeforeOutput,
                error: Some("upstream_error"),
            });
        }
    }

    /// Moves every complete event of the buffer to `out`. False when an error line came.
    fn drain(&mut self, out: &mut BytesMut) -> bool {
        while let Some((end, next)) = event_end(&self.buf) {
            let event = self.buf.split_to(next);
            let data = event_data(&event[..end]);
            if data == b"[DONE]" {
                self.done = true;
                out.extend_from_slice(&event);
                return true;
            }
            if data.starts_with(b"{\"error\"") {
                tracing::warn!(event = %String::from_utf8_lossy(data), "upstream error mid-stream");
                return false;
            }
            if USAGE.find(data).is_some() {
                if let Ok(chunk) = serde_json::from_slice::<UsageChunk>(data) {
                    self.usage = chunk.usage.or(self.usage);
                    let usage_only = chunk.choices.is_some_and(|c| c.is_empty());
                    if usage_only && !self.client_wants_usage {
                        continue;
                    }
                }
            }
            if CONTENT.find(data).is_some() && EMPTY_CONTENT.find(data).is_none() {
                self.chunks += 1;
            }
            out.extend_from_slice(&event);
        }
        true
    }

    /// Ends a stream that failed after output: the error event, and only what was
    /// generated is charged.
    fn broken(&mut self, out: &mut BytesMut) {
        self.finish(
            502,
            Ending::BrokenAfterOutput {
                usage: self.usage,
                relayed: self.chunks,
            },
            Some("upstream_stream_broken"),
        );
        out.extend_from_slice(BROKEN);
    }

    fn finish(&mut self, status: u16, ending: Ending, error: Option<&'static str>) {
        self.ended = true;
        if let Some(t) = self.ticket.take() {
            t.finish(Outcome {
                status,
                ending,
                error,
            });
        }
    }
}

/// Resolves once the gateway drains ([`crate::Gateway::end_streams`]).
pub(crate) async fn drained(mut signal: tokio::sync::watch::Receiver<bool>) {
    if signal.wait_for(|d| *d).await.is_err() {
        // The gateway is gone: nothing will ask to drain.
        std::future::pending::<()>().await;
    }
}

/// The upstream's stream, ended early when the gateway drains: the relay then sees a
/// stream that stopped before `[DONE]` and ends it as broken (the error event; only what
/// was generated is charged). The drain signal is looked at only when the upstream has
/// nothing ready, and then with one atomic load: the signal's future (which registers the
/// task to be woken, under a lock shared by every stream) is polled again only when the
/// task's waker changed.
struct Drainable {
    inner: BoxStream<'static, Result<Bytes, String>>,
    signal: tokio::sync::watch::Receiver<bool>,
    /// None once drained.
    drain: Option<Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
    registered: Option<std::task::Waker>,
}

impl Drainable {
    fn new(
        inner: BoxStream<'static, Result<Bytes, String>>,
        signal: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self {
            inner,
            drain: Some(Box::pin(drained(signal.clone()))),
            signal,
            registered: None,
        }
    }
}

impl futures::Stream for Drainable {
    type Item = Result<Bytes, String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(drain) = this.drain.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = this.inner.poll_next_unpin(cx) {
            return Poll::Ready(item);
        }
        let same_waker = this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        let draining = if same_waker {
            this.signal.has_changed().unwrap_or(false)
        } else {
            this.registered = Some(cx.waker().clone());
            drain.as_mut().poll(cx).is_ready()
        };
        if draining {
            tracing::warn!("shutdown: ending an open stream");
            this.drain = None;
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

/// Where the first complete event of `buf` ends: (end of its text, start of the next).
/// An event ends at an empty line; lines end with `\n`, `\r\n` or `\r` (the SSE spec).
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    if memchr::memchr(b'\r', buf).is_none() {
        // What Ollama sends: a search for "\n\n" only.
        return EVENT_END.find(buf).map(|i| (i, i + 2));
    }
    let mut i = 0;
    while let Some(found) = memchr::memchr2(b'\r', b'\n', &buf[i..]) {
        let at = i + found;
        let after = line_end(buf, at)?;
        if after < buf.len() && (buf[after] == b'\r' || buf[after] == b'\n') {
            return line_end(buf, after).map(|next| (at, next));
        }
        i = after;
    }
    None
}

/// The position after the line terminator at `at`; None when a `\r` ends the buffer (a
/// `\n` may follow in the next chunk).
fn line_end(buf: &[u8], at: usize) -> Option<usize> {
    match buf[at] {
        b'\r' if at + 1 == buf.len() => None,
        b'\r' if buf[at + 1] == b'\n' => Some(at + 2),
        _ => Some(at + 1),
    }
}

/// The payload of an SSE event (`data: …`), or the whole text for anything else.
fn event_data(event: &[u8]) -> &[u8] {
    let data = event
        .strip_prefix(b"data:")
        .map(|d| d.strip_prefix(b" ").unwrap_or(d))
        .unwrap_or(event);
    data.strip_suffix(b"\r").unwrap_or(data)
}

/// The response body. It says when it has ended ([`http_body::Body::is_end_stream`]), so
/// hyper writes the last events and the end of the chunked body in one write.
impl http_body::Body for Relay {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.poll_events(cx)
            .map(|events| events.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}

impl Relay {
    /// Everything the upstream already sent goes out in one write (one syscall and one TCP
    /// segment for a burst of tokens, not one each); then it waits for more.
    fn poll_events(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self;
        let mut out = BytesMut::new();
        loop {
            if this.ended {
                return Poll::Ready((!out.is_empty()).then(|| out.freeze()));
            }
            if !this.drain(&mut out) {
                this.broken(&mut out);
                continue;
            }
            if this.done {
                let ending = Ending::Answered {
                    usage: this.usage,
                    relayed: Some(this.chunks),
                };
                this.finish(200, ending, None);
                continue;
            }
            if this.buf.len() > MAX_EVENT {
                tracing::warn!("upstream event larger than {MAX_EVENT} bytes");
                this.broken(&mut out);
                continue;
            }
            if out.len() >= COALESCE_MAX {
                return Poll::Ready(Some(out.freeze()));
            }
            match this.upstream.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(b))) => this.buf.extend_from_slice(&b),
                Poll::Ready(Some(Err(e))) => {
                    tracing::warn!("upstream stream failed: {e}");
                    this.broken(&mut out);
                }
                Poll::Ready(None) => {
                    tracing::warn!("upstream stream ended before [DONE]");
                    this.broken(&mut out);
                }
                Poll::Pending if out.is_empty() => return Poll::Pending,
                Poll::Pending => return Poll::Ready(Some(out.freeze())),
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if !self.ended {
            // The client went away mid-stream.
            let ending = Ending::GoneAfterUpstream {
                relayed: self.chunks,
            };
            self.finish(499, ending, Some("client_closed"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{event_data, event_end};

    #[test]
    fn events_end_at_an_empty_line_whatever_the_line_ends() {
        assert_eq!(event_end(b"data: a\n\ndata: b"), Some((7, 9)));
        assert_eq!(event_end(b"data: a\r\n\r\ndata: b"), Some((7, 11)));
        assert_eq!(event_end(b"data: a\r\rdata: b"), Some((7, 9)));
        assert_eq!(event_end(b"data: a\r\n\n"), Some((7, 10)));
        assert_eq!(event_end(b"id: 1\r\ndata: a\r\n\r\n"), Some((14, 18)));
        // Not yet: a lone line end, or a \r that a \n may follow in the next chunk.
        assert_eq!(event_end(b"data: a\n"), None);
        assert_eq!(event_end(b"data: a\r\n\r"), None);
        assert_eq!(event_end(b"data: a\r"), None);
    }

    #[test]
    fn event_payloads_are_found_with_or_without_the_space() {
        assert_eq!(event_data(b"data: [DONE]"), b"[DONE]");
        assert_eq!(event_data(b"data:{\"a\":1}"), b"{\"a\":1}");
        assert_eq!(event_data(b": comment"), b": comment");
    }
}
