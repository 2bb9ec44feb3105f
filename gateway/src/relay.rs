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
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::StreamExt;
use memchr::memmem;
use serde::Deserialize;

use crate::billing::{Outcome, Ticket, Usage};
use crate::capacity::Slot;
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
}

#[derive(Deserialize)]
struct UsageChunk {
    #[serde(default)]
    choices: Option<Vec<serde::de::IgnoredAny>>,
    usage: Option<Usage>,
}

impl Relay {
    pub fn new(res: Answer, ticket: Ticket, slot: Option<Slot>, client_wants_usage: bool) -> Self {
        Self {
            upstream: res.into_stream(),
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
            if let Some(end) = EVENT_END.find(&self.buf) {
                let data = event_data(&self.buf[..end]);
                if data.starts_with(b"{\"error\"") {
                    tracing::warn!(event = %String::from_utf8_lossy(data), "upstream error before output");
                    self.fail_before_output();
                    return Err(PrimeError::Failed);
                }
                return Ok(());
            }
            match self.upstream.next().await {
                Some(Ok(b)) => self.buf.extend_from_slice(&b),
                Some(Err(e)) => {
                    tracing::warn!("upstream stream failed before output: {e}");
                    self.fail_before_output();
                    return Err(PrimeError::Failed);
                }
                None => {
                    tracing::warn!("upstream stream ended before output");
                    self.fail_before_output();
                    return Err(PrimeError::Failed);
                }
            }
        }
    }

    fn fail_before_output(&mut self) {
        self.ended = true;
        if let Some(t) = self.ticket.take() {
            t.finish(Outcome {
                status: 502,
                usage: Usage::default(),
                charge: false,
                error: Some("upstream_error"),
            });
        }
    }

    /// Moves every complete event of the buffer to `out`. False when an error line came.
    fn drain(&mut self, out: &mut BytesMut) -> bool {
        while let Some(end) = EVENT_END.find(&self.buf) {
            let event = self.buf.split_to(end + 2);
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

    /// What was generated, when the upstream's usage never came.
    fn generated(&self) -> Usage {
        let prompt = self.ticket.as_ref().map_or(0, |t| t.prompt_estimate());
        Usage {
            prompt_tokens: prompt,
            completion_tokens: self.chunks,
            total_tokens: prompt + self.chunks,
        }
    }

    /// Ends a stream that failed after output: the error event, and only what was
    /// generated is charged.
    fn broken(&mut self, out: &mut BytesMut) {
        self.finish(502, Some("upstream_stream_broken"));
        out.extend_from_slice(BROKEN);
    }

    fn finish(&mut self, status: u16, error: Option<&'static str>) {
        self.ended = true;
        let (usage, charge) = match (error, self.usage) {
            (None, Some(u)) => (u, true),
            _ => (self.generated(), self.chunks > 0),
        };
        if let Some(t) = self.ticket.take() {
            t.finish(Outcome {
                status,
                usage,
                charge,
                error,
            });
        }
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
                this.finish(200, None);
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
            self.finish(499, Some("client_closed"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::event_data;

    #[test]
    fn event_payloads_are_found_with_or_without_the_space() {
        assert_eq!(event_data(b"data: [DONE]"), b"[DONE]");
        assert_eq!(event_data(b"data:{\"a\":1}"), b"{\"a\":1}");
        assert_eq!(event_data(b": comment"), b": comment");
    }
}
