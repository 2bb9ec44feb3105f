//! A small HTTP/1.1 client for a plain-`http` upstream (the local Ollama), read and written
//! by the request's own task.
//!
//! Why not reqwest, nor hyper's client connection: those run the connection as a future of
//! its own that hands the request in and the body out through channels — each hand-off a
//! wake-up, and for a stream one per token. Here the task that reads the answer reads the
//! socket itself: one `write` sends the request, the head is parsed by `httparse` from what
//! the socket holds, and the body — `Content-Length`, chunked, or until the upstream closes
//! (RFC 9112 §6.3) — is cut out of the same buffer without copying. Whatever has arrived is
//! decoded in one go, so the relay writes it to the client in one syscall (measured in
//! BENCHMARKS.md). The cloud upstream (https) keeps reqwest.
//!
//! Connections are kept alive in a small pool; one found closed (or holding bytes nobody
//! asked for) when taken is dropped and the next one, or a fresh one, is used; one idle
//! longer than [`Timeouts::idle`] is not reused at all; a request whose kept-alive
//! connection fails before the answer's first byte (the upstream had closed it, and the
//! close was not yet seen) goes out again, once, on a new one.
//! An answer that says `Connection: close`, is delimited by the close, or leaves bytes after
//! its end is not reused. Connecting and waiting for the answer's head are timed
//! ([`Timeouts`]), so a hung upstream fails the request (and frees its local place) instead
//! of holding it for ever; the body is not timed, as a stream may last minutes.
use std::io;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderValue, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Idle connections kept at most.
const MAX_IDLE: usize = 256;
/// An answer's head (status line and headers) larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;
/// Headers of one answer at most.
const MAX_HEADERS: usize = 64;
/// A chunk-size line (with extensions) or a trailer line longer than this is refused.
const MAX_LINE: usize = 4096;
/// Room made in the read buffer before each read.
const READ_SIZE: usize = 8 * 1024;

/// How long the client waits for an upstream, and how long it reuses a connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open the TCP connection.
    pub connect: Duration,
    /// From the start of a request to the answer's head (status and headers).
    pub head: Duration,
    /// A kept-alive connection idle longer than this is closed, not reused: the upstream
    /// may have forgotten it, or be a new process behind the same address.
    pub idle: Duration,
}

/// One connection and what has been read from it and not yet consumed.
struct Conn {
    tcp: TcpStream,
    buf: BytesMut,
    /// When it went back to the pool.
    idle_since: Instant,
}

impl Conn {
    fn new(tcp: TcpStream) -> Self {
        Self {
            tcp,
            buf: BytesMut::new(),
            idle_since: Instant::now(),
        }
    }

    /// Reads what the socket holds onto the buffer: how many bytes, 0 at its end.
    ///
    /// Through tokio's `AsyncRead`, which takes a read that did not fill the space given as
    /// proof the socket is drained and clears its readiness: after an answer's last read
    /// the connection reads as not ready until the upstream sends or closes again, which
    /// [`Conn::is_quiet`] checks without a system call.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < READ_SIZE / 8 {
            self.buf.reserve(READ_SIZE);
        }
        tokio_util::io::poll_read_buf(std::pin::Pin::new(&mut self.tcp), cx, &mut self.buf)
    }

    async fn fill(&mut self) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }

    /// A kept-alive connection may be used again: still open, and the upstream has sent
    /// nothing on it since its last answer. Usually known without a system call: the
    /// readiness tokio keeps from epoll says nothing arrived since the last read drained
    /// the socket (a close, once seen, stays in it). Only when that is not known (the last
    /// read filled its buffer exactly, or something did arrive) is the socket asked.
    fn is_quiet(&self) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.tcp.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            Poll::Ready(Ok(())) => {
                let mut probe = [0u8; 1];
                matches!(
                    self.tcp.try_read(&mut probe),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock
                )
            }
        }
    }
}

/// Idle connections, oldest first (they are taken from and given back at the end, so the
/// order of `idle_since` holds).
struct Pool {
    conns: Mutex<Vec<Conn>>,
    max_idle_time: Duration,
}

impl Pool {
    /// The newest idle connection that is fresh and still open.
    fn take(&self) -> Option<Conn> {
        loop {
            let mut conns = self.conns.lock().ok()?;
            let c = conns.pop()?;
            if c.idle_since.elapsed() >= self.max_idle_time {
                // The newest is too old, so are all the others; close them outside the lock.
                let stale = std::mem::take(&mut *conns);
                drop(conns);
                drop(stale);
                return None;
            }
            drop(conns);
            if c.is_quiet() {
                return Some(c);
            }
        }
    }

    fn give_back(&self, mut c: Conn) {
        let now = Instant::now();
        c.idle_since = now;
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        let stale =
            conns.partition_point(|o| now.duration_since(o.idle_since) >= self.max_idle_time);
        let stale: Vec<Conn> = conns.drain(..stale).collect();
        if conns.len() < MAX_IDLE {
            conns.push(c);
        }
        drop(conns);
        drop(stale);
    }
}

pub struct DirectClient {
    /// `host:port` to connect to.
    addr: String,
    /// The start of every request's head after its path: ` HTTP/1.1`, `Host` and the
    /// content type.
    head_tail: Vec<u8>,
    idle: Arc<Pool>,
    timeouts: Timeouts,
}

impl DirectClient {
    /// For `http://host[:port]` (no path); None for anything else.
    pub fn new(base: &str, timeouts: Timeouts) -> Option<Self> {
        let rest = base.strip_prefix("http://")?.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('@') {
            return None;
        }
        let addr = if rest
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            && !rest.ends_with(']')
        {
            rest.to_owned()
        } else {
            format!("{rest}:80")
        };
        // What a header value may hold (no CR, LF or other controls).
        let host = HeaderValue::from_str(rest).ok()?;
        let mut head_tail = b" HTTP/1.1\r\nhost: ".to_vec();
        head_tail.extend_from_slice(host.as_bytes());
        head_tail.extend_from_slice(b"\r\ncontent-type: application/json\r\ncontent-length: ");
        Some(Self {
            addr,
            head_tail,
            idle: Arc::new(Pool {
                conns: Mutex::default(),
                max_idle_time: timeouts.idle,
            }),
            timeouts,
        })
    }

    async fn connect(&self) -> Result<Conn, String> {
        let tcp = tokio::time::timeout(self.timeouts.connect, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        Ok(Conn::new(tcp))
    }

    /// POSTs `body` as JSON to `path`; why no response came, otherwise — the upstream
    /// refused the connection, or sent no answer's head within [`Timeouts::head`].
    pub async fn post(&self, path: &str, body: Bytes) -> Result<DirectResponse, String> {
        // On time out the connection is dropped with the future: it is never reused.
        match tokio::time::timeout(self.timeouts.head, self.exchange(path, &body)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "no answer within {} s",
                self.timeouts.head.as_secs_f32()
            )),
        }
    }

    /// The request as written on the wire: head and body in one buffer, one `write`.
    fn request(&self, path: &str, body: &[u8]) -> Vec<u8> {
        let mut length = itoa::Buffer::new();
        let length = length.format(body.len());
        let mut req = Vec::with_capacity(
            5 + path.len() + self.head_tail.len() + length.len() + 4 + body.len(),
        );
        req.extend_from_slice(b"POST ");
        req.extend_from_slice(path.as_bytes());
        req.extend_from_slice(&self.head_tail);
        req.extend_from_slice(length.as_bytes());
        req.extend_from_slice(b"\r\n\r\n");
        req.extend_from_slice(body);
        req
    }

    async fn exchange(&self, path: &str, body: &[u8]) -> Result<DirectResponse, String> {
        let req = self.request(path, body);
        let mut reused = self.idle.take();
        loop {
            let fresh = reused.is_none();
            let mut c = match reused.take() {
                Some(c) => c,
                None => self.connect().await?,
            };
            match answer_head(&mut c, &req).await {
                Ok(head) => {
                    return Ok(DirectResponse {
                        status: head.status,
                        framing: head.framing,
                        reusable: head.keep_alive,
                        conn: Some(c),
                        idle: self.idle.clone(),
                    })
                }
                // A kept-alive connection the upstream had closed (the close not yet seen
                // when it was taken): sent again, once, on a new connection.
                Err(Failed::Closed(_)) if !fresh => continue,
                Err(Failed::Closed(e) | Failed::Broken(e)) => return Err(e),
            }
        }
    }
}

/// Why a request got no answer's head on a connection.
enum Failed {
    /// The connection failed before the answer's first byte: the write failed, or the
    /// connection ended or was reset with nothing read. On a kept-alive connection that is
    /// almost always the upstream having closed it while it sat idle. Sending the request
    /// again is safe here (RFC 9112 §9.3.1): a chat or embeddings request changes nothing
    /// at the upstream, and an upstream that is down fails over to the next one with the
    /// same request anyway ([`crate::upstream::Sent::Down`]).
    Closed(String),
    /// Anything else: a broken head, a connection cut after some of an answer came, a
    /// read that failed otherwise.
    Broken(String),
}

/// Writes `req` on `c` and reads the answer's head (skipping interim answers).
async fn answer_head(c: &mut Conn, req: &[u8]) -> Result<Head, Failed> {
    if let Err(e) = c.tcp.write_all(req).await {
        return Err(Failed::Closed(e.to_string()));
    }
    // Whether any byte of an answer (an interim one included) came.
    let mut received = false;
    loop {
        match parse_head(&mut c.buf).map_err(Failed::Broken)? {
            // An interim answer (100 Continue…): the final one follows.
            Some(head) if head.status.is_informational() => continue,
            Some(head) => return Ok(head),
            None if c.buf.len() > MAX_HEAD => {
                return Err(Failed::Broken(format!(
                    "answer head larger than {MAX_HEAD} bytes"
                )))
            }
            None => {}
        }
        let nothing_yet = !received;
        match c.fill().await {
            Ok(0) if nothing_yet => {
                return Err(Failed::Closed(
                    "connection closed before the answer's head".to_owned(),
                ))
            }
            Ok(0) => {
                return Err(Failed::Broken(
                    "connection closed inside the answer's head".to_owned(),
                ))
            }
            Ok(_) => received = true,
            Err(e)
                if nothing_yet
                    && matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
            {
                return Err(Failed::Closed(e.to_string()))
            }
            Err(e) => return Err(Failed::Broken(e.to_string())),
        }
    }
}

/// How an answer's body ends (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// This many bytes are left.
    Length(u64),
    Chunked(Chunk),
    /// Until the upstream closes the connection.
    Close,
    /// Read to its end.
    Done,
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk's data; this many bytes are left.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// After the last (empty) chunk: trailer lines up to an empty one.
    Trailers,
}

#[derive(Debug)]
struct Head {
    status: StatusCode,
    framing: Framing,
    /// The connection can carry another request once the body has been read.
    keep_alive: bool,
}

/// The answer's head, taken off the front of `buf` once it is all there (None before).
fn parse_head(buf: &mut BytesMut) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let len = match res.parse(&buf[..]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("invalid answer head: {e}")),
    };
    let status = res
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| "invalid answer status".to_owned())?;
    let mut keep_alive = res.version == Some(1);
    let mut length: Option<u64> = None;
    let mut chunked = None;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| "invalid content-length in the answer".to_owned())?;
            if length.is_some_and(|l| l != n) {
                return Err("two different content-lengths in the answer".to_owned());
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked only when it is the last coding applied.
            let last = h.value.rsplit(|&b| b == b',').next().unwrap_or_default();
            chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection")
            && h.value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
        {
            keep_alive = false;
        }
    }
    let framing = if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Framing::Done
    } else {
        match (chunked, length) {
            (Some(true), length) => {
                // Both framings: the length is ignored, and the connection not trusted again.
                if length.is_some() {
                    keep_alive = false;
                }
                Framing::Chunked(Chunk::Size)
            }
            (Some(false), _) | (None, None) => Framing::Close,
            (None, Some(0)) => Framing::Done,
            (None, Some(n)) => Framing::Length(n),
        }
    };
    if framing == Framing::Close {
        keep_alive = false;
    }
    buf.advance(len);
    Ok(Some(Head {
        status,
        framing,
        keep_alive,
    }))
}

/// What the buffer gave.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Data(Bytes),
    /// More must be read.
    More,
    /// The body has ended.
    End,
}

/// The body's next piece from `buf`: all the data it holds, up to the framing's end.
fn step(framing: &mut Framing, buf: &mut BytesMut) -> Result<Step, String> {
    match framing {
        Framing::Done => Ok(Step::End),
        Framing::Length(0) => {
            *framing = Framing::Done;
            Ok(Step::End)
        }
        Framing::Length(left) => {
            if buf.is_empty() {
                return Ok(Step::More);
            }
            let n = (*left).min(buf.len() as u64);
            *left -= n;
            Ok(Step::Data(buf.split_to(n as usize).freeze()))
        }
        Framing::Close if buf.is_empty() => Ok(Step::More),
        Framing::Close => Ok(Step::Data(buf.split().freeze())),
        Framing::Chunked(state) => {
            // Every chunk the buffer holds: one piece when there is one chunk, joined when
            // several arrived together.
            let mut data = Pieces::default();
            let end = loop {
                match dechunk(state, buf)? {
                    Step::Data(d) => data.push(d),
                    Step::More => break false,
                    Step::End => break true,
                }
            };
            if end {
                *framing = Framing::Done;
            }
            match data.joined() {
                Some(d) => Ok(Step::Data(d)),
                None if end => Ok(Step::End),
                None => Ok(Step::More),
            }
        }
    }
}

/// Pieces of a body put together: the first is kept as it is and copied only when a second
/// one comes.
#[derive(Default)]
struct Pieces {
    first: Option<Bytes>,
    joined: Option<BytesMut>,
}

impl Pieces {
    fn push(&mut self, piece: Bytes) {
        if let Some(j) = &mut self.joined {
            j.extend_from_slice(&piece);
        } else if let Some(first) = self.first.take() {
            let mut j = BytesMut::with_capacity(first.len() + piece.len());
            j.extend_from_slice(&first);
            j.extend_from_slice(&piece);
            self.joined = Some(j);
        } else {
            self.first = Some(piece);
        }
    }

    /// Everything pushed, in order; None when nothing was.
    fn joined(self) -> Option<Bytes> {
        self.joined.map(BytesMut::freeze).or(self.first)
    }
}

/// One step of the chunked decoding: a chunk's data, More, or End after the trailers.
fn dechunk(state: &mut Chunk, buf: &mut BytesMut) -> Result<Step, String> {
    loop {
        match state {
            Chunk::Size => {
                let Some(line) = take_line(buf)? else {
                    return Ok(Step::More);
                };
                // `1a;ext=…`: the size in hex, extensions ignored.
                let digits = line[..].split(|&b| b == b';').next().unwrap_or_default();
                let digits = digits.trim_ascii();
                let size = Some(digits)
                    .filter(|d| d.len() <= 15 && d.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|d| std::str::from_utf8(d).ok())
                    .and_then(|d| u64::from_str_radix(d, 16).ok())
                    .ok_or_else(|| "invalid chunk size in the answer".to_owned())?;
                *state = if size == 0 {
                    Chunk::Trailers
                } else {
                    Chunk::Data(size)
                };
            }
            Chunk::Data(left) => {
                if buf.is_empty() {
                    return Ok(Step::More);
                }
                let n = (*left).min(buf.len() as u64);
                *left -= n;
                if *left == 0 {
                    *state = Chunk::DataEnd;
                }
                return Ok(Step::Data(buf.split_to(n as usize).freeze()));
            }
            Chunk::DataEnd => {
                if buf.len() < 2 {
                    return Ok(Step::More);
                }
                if &buf[..2] != b"\r\n" {
                    return Err("chunk data not followed by CRLF".to_owned());
                }
                buf.advance(2);
                *state = Chunk::Size;
            }
            Chunk::Trailers => {
                let Some(line) = take_line(buf)? else {
                    return Ok(Step::More);
                };
                if line.is_empty() {
                    return Ok(Step::End);
                }
            }
        }
    }
}

/// A CRLF-ended line off the front of `buf`, without its CRLF; None until it is all there.
fn take_line(buf: &mut BytesMut) -> Result<Option<BytesMut>, String> {
    let Some(lf) = buf.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
        if buf.len() >= MAX_LINE {
            return Err(format!("a line of the answer longer than {MAX_LINE} bytes"));
        }
        return Ok(None);
    };
    if lf == 0 || buf[lf - 1] != b'\r' {
        return Err("a line of the answer not ended by CRLF".to_owned());
    }
    let mut line = buf.split_to(lf + 1);
    line.truncate(lf - 1);
    Ok(Some(line))
}

/// A response whose body is read from its connection by the task that polls it.
pub struct DirectResponse {
    status: StatusCode,
    framing: Framing,
    /// The connection can go back to the pool once the body has been read.
    reusable: bool,
    /// None once the body has ended or failed.
    conn: Option<Conn>,
    idle: Arc<Pool>,
}

impl DirectResponse {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The whole body (cut from the read buffer without a copy when it came in one read).
    pub async fn bytes(mut self) -> Result<Bytes, String> {
        let mut all = Pieces::default();
        loop {
            match std::future::poll_fn(|cx| self.poll_chunk(cx)).await {
                Some(Ok(b)) => all.push(b),
                Some(Err(e)) => return Err(e),
                None => return Ok(all.joined().unwrap_or_default()),
            }
        }
    }

    /// The next piece of the body: everything received and not yet given, decoded.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, String>>> {
        loop {
            let Some(c) = self.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match step(&mut self.framing, &mut c.buf) {
                Ok(Step::Data(d)) => return Poll::Ready(Some(Ok(d))),
                Ok(Step::End) => {
                    self.end();
                    return Poll::Ready(None);
                }
                Ok(Step::More) => {}
                Err(e) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            match ready!(c.poll_fill(cx)) {
                Ok(0) if self.framing == Framing::Close => {
                    self.framing = Framing::Done;
                    self.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(
                        "connection closed before the answer's end".to_owned()
                    )));
                }
                Ok(_) => {}
                Err(e) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(e.to_string())));
                }
            }
        }
    }

    /// The body has been read: the connection serves another request unless the answer
    /// said otherwise or left bytes behind it.
    fn end(&mut self) {
        if let Some(c) = self.conn.take() {
            if self.reusable && c.buf.is_empty() {
                self.idle.give_back(c);
            }
        }
    }

    /// The body as a stream of pieces.
    pub fn into_stream(mut self) -> impl futures::Stream<Item = Result<Bytes, String>> + Send {
        futures::stream::poll_fn(move |cx| self.poll_chunk(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LONG: Timeouts = Timeouts {
        connect: Duration::from_secs(5),
        head: Duration::from_secs(30),
        idle: Duration::from_secs(60),
    };

    /// An upstream that keeps connections alive and counts the ones it accepted.
    async fn counting_upstream() -> (String, Arc<AtomicUsize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let l = axum::serve::ListenerExt::tap_io(l, move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        });
        let app = axum::Router::new().route("/v1/x", axum::routing::post(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(l, app).await });
        (base, accepted)
    }

    async fn post_ok(c: &DirectClient) {
        let res = c
            .post("/v1/x", bytes::Bytes::from_static(b"{}"))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(&res.bytes().await.unwrap()[..], b"ok");
    }

    #[tokio::test]
    async fn a_connection_is_reused_while_fresh_and_not_once_idle_too_long() {
        let (base, accepted) = counting_upstream().await;
        let idle = Duration::from_millis(150);
        let c = DirectClient::new(&base, Timeouts { idle, ..LONG }).unwrap();
        post_ok(&c).await;
        post_ok(&c).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "reused while fresh");
        // Nothing to poll for: the idle limit is a span of time.
        tokio::time::sleep(idle + Duration::from_millis(50)).await;
        post_ok(&c).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new one once stale");
    }

    /// Counts the wake-ups a future gives its own task from inside its poll (each one a
    /// yield to tokio: the task requeued and an idle worker thread woken to take it).
    #[derive(Default)]
    struct Probe {
        polling: std::sync::atomic::AtomicBool,
        inside: AtomicUsize,
        task: std::sync::Mutex<Option<std::task::Waker>>,
    }

    impl std::task::Wake for Probe {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            if self.polling.load(Ordering::SeqCst) {
                self.inside.fetch_add(1, Ordering::SeqCst);
            }
            if let Some(t) = self.task.lock().unwrap().as_ref() {
                t.wake_by_ref();
            }
        }
    }

    async fn watched<F: std::future::Future>(probe: Arc<Probe>, f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::from(probe.clone());
        std::future::poll_fn(|cx| {
            *probe.task.lock().unwrap() = Some(cx.waker().clone());
            probe.polling.store(true, Ordering::SeqCst);
            let polled = f.as_mut().poll(&mut std::task::Context::from_waker(&waker));
            probe.polling.store(false, Ordering::SeqCst);
            polled
        })
        .await
    }

    #[tokio::test]
    async fn a_request_and_its_answer_never_wake_their_own_task_from_inside_its_poll() {
        let (base, accepted) = counting_upstream().await;
        let c = DirectClient::new(&base, LONG).unwrap();
        let probe = Arc::new(Probe::default());
        // A new connection, then the same one again from the pool.
        watched(probe.clone(), post_ok(&c)).await;
        watched(probe.clone(), post_ok(&c)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(probe.inside.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_upstream_that_accepts_and_never_answers_fails_within_the_head_timeout() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        // Accepts, reads what comes and never answers.
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            while s.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        });
        let head = Duration::from_millis(300);
        let c = DirectClient::new(&base, Timeouts { head, ..LONG }).unwrap();
        let started = Instant::now();
        let err = c.post("/v1/x", bytes::Bytes::from_static(b"{}")).await;
        assert!(err.is_err());
        assert!(started.elapsed() >= head);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// An upstream that answers one request per connection and then closes it, as a
    /// server whose keep-alive ran out does.
    async fn one_answer_per_connection() -> (String, tokio::task::JoinHandle<usize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut served = 0;
            while served < 3 {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !String::from_utf8_lossy(&got).contains("{}") {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await
                    .unwrap();
                served += 1;
                // Closed right after the answer.
            }
            served
        });
        (base, task)
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_by_the_upstream_is_replaced() {
        let (base, server) = one_answer_per_connection().await;
        let c = DirectClient::new(&base, LONG).unwrap();
        for _ in 0..3 {
            post_ok(&c).await;
            // Let the close arrive before the next request.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(server.await.unwrap(), 3);
    }

    /// An upstream that answers the first request on each connection and closes the
    /// connection on the next one, after reading it, without a word — as a server closing
    /// an idle connection just as a request arrives on it. Only the first `answering`
    /// connections answer at all.
    async fn closing_on_the_second_request(answering: usize) -> (String, Arc<AtomicUsize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                let n = count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    for answered in 0.. {
                        let mut got = Vec::new();
                        while !got.ends_with(b"\r\n\r\n{}") {
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(k) => got.extend_from_slice(&buf[..k]),
                            }
                        }
                        if answered == 1 || n >= answering {
                            return; // closed, the request read and not answered
                        }
                        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .await
                            .unwrap();
                    }
                });
            }
        });
        (base, accepted)
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_under_a_request_is_replaced_once() {
        let (base, accepted) = closing_on_the_second_request(usize::MAX).await;
        let c = DirectClient::new(&base, LONG).unwrap();
        // Each request after the first goes out on the kept connection, which the upstream
        // closes; it is sent again on a new one, which answers.
        for n in 1..=3 {
            post_ok(&c).await;
            assert_eq!(accepted.load(Ordering::SeqCst), n);
        }

        // A new connection that fails the same way is not tried again: an error, after
        // the kept one and one new one.
        let (base, accepted) = closing_on_the_second_request(1).await;
        let c = DirectClient::new(&base, LONG).unwrap();
        post_ok(&c).await;
        let second = c.post("/v1/x", bytes::Bytes::from_static(b"{}")).await;
        assert_eq!(
            second.err().as_deref(),
            Some("connection closed before the answer's head")
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    /// Whether a pooled connection's readiness says nothing arrived on it since its answer.
    fn pooled_is_silent(c: &DirectClient) -> bool {
        let conns = c.idle.conns.lock().unwrap();
        let conn = conns.last().expect("a connection kept alive");
        let mut cx = Context::from_waker(std::task::Waker::noop());
        conn.tcp.poll_read_ready(&mut cx).is_pending()
    }

    /// After an answer read to its end, a pooled connection's readiness says the socket is
    /// drained, so taking it needs no read that would block; once the upstream has closed
    /// it, the close is in the readiness and the connection is not taken.
    #[tokio::test]
    async fn a_pooled_connection_is_known_quiet_without_reading_and_known_closed_once_closed() {
        let (base, _) = counting_upstream().await;
        let c = DirectClient::new(&base, LONG).unwrap();
        for _ in 0..3 {
            post_ok(&c).await;
            assert!(pooled_is_silent(&c));
        }

        let (base, server) = one_answer_per_connection().await;
        let c = DirectClient::new(&base, LONG).unwrap();
        post_ok(&c).await;
        // The upstream closes it right after answering; once the close has come in:
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!pooled_is_silent(&c));
        assert!(c.idle.take().is_none(), "a closed connection is not taken");
        post_ok(&c).await;
        post_ok(&c).await;
        assert_eq!(server.await.unwrap(), 3);
    }

    #[tokio::test]
    async fn nothing_listening_is_an_error_not_a_hang() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let c = DirectClient::new(&base, LONG).unwrap();
        assert!(c.post("/v1/x", bytes::Bytes::new()).await.is_err());
    }

    /// The body of `wire` (an answer's head and body) given to the decoder in pieces cut at
    /// every position: the same data and the end at the same place, however it arrives.
    fn decode_in_two_pieces(wire: &[u8]) -> Result<(StatusCode, Vec<u8>, bool), String> {
        let mut whole = None;
        for cut in 0..=wire.len() {
            let mut buf = BytesMut::new();
            let mut head = None;
            let mut body = Vec::new();
            let mut ended = false;
            for piece in [&wire[..cut], &wire[cut..]] {
                buf.extend_from_slice(piece);
                if head.is_none() {
                    head = parse_head(&mut buf)?;
                }
                let Some(h) = head.as_mut() else { continue };
                loop {
                    match step(&mut h.framing, &mut buf)? {
                        Step::Data(d) => body.extend_from_slice(&d),
                        Step::More => break,
                        Step::End => {
                            ended = true;
                            break;
                        }
                    }
                }
            }
            let h = head.ok_or("no head")?;
            let got = (h.status, body, ended && buf.is_empty() && h.keep_alive);
            match &whole {
                None => whole = Some(got),
                Some(w) => assert_eq!(w, &got, "cut at {cut}"),
            }
        }
        Ok(whole.unwrap())
    }

    #[test]
    fn bodies_are_cut_by_their_length_by_chunks_or_by_the_close() {
        let length = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
        assert_eq!(
            decode_in_two_pieces(length).unwrap(),
            (StatusCode::OK, br#"{"a":1}"#.to_vec(), true)
        );
        // Go's chunks, with an extension, upper-case hex and a trailer.
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: \r\nA;x=y\r\n{\"n\":1234}\r\n0\r\nX-T: 1\r\n\r\n";
        assert_eq!(
            decode_in_two_pieces(chunked).unwrap(),
            (StatusCode::OK, br#"data: {"n":1234}"#.to_vec(), true)
        );
        // Nothing says where it ends: the close does, and the connection is not kept.
        let close = b"HTTP/1.1 500 Internal Server Error\r\n\r\noops";
        assert_eq!(
            decode_in_two_pieces(close).unwrap(),
            (StatusCode::INTERNAL_SERVER_ERROR, b"oops".to_vec(), false)
        );
        // An interim answer, then the answer; no body for 204.
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"[..],
        );
        assert!(parse_head(&mut buf)
            .unwrap()
            .unwrap()
            .status
            .is_informational());
        let mut h = parse_head(&mut buf).unwrap().unwrap();
        assert_eq!(step(&mut h.framing, &mut buf).unwrap(), Step::End);
        // `Connection: close`, HTTP/1.0, both framings: read, then not kept.
        for wire in [
            &b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok"[..],
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        ] {
            assert_eq!(
                decode_in_two_pieces(wire).unwrap(),
                (StatusCode::OK, b"ok".to_vec(), false)
            );
        }
        // Bytes after the answer's end: the connection is not reused.
        let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1";
        assert!(!decode_in_two_pieces(extra).unwrap().2);
    }

    #[test]
    fn answers_that_break_the_protocol_are_errors() {
        for wire in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
        ] {
            assert!(
                decode_in_two_pieces(wire).is_err(),
                "{}",
                String::from_utf8_lossy(wire)
            );
        }
        let mut long =
            BytesMut::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
        let mut h = parse_head(&mut long).unwrap().unwrap();
        long.extend_from_slice(&[b'0'; MAX_LINE]);
        assert!(step(&mut h.framing, &mut long).is_err());
    }

    /// An upstream that answers each connection's requests with `answers`, in turn, and
    /// counts the connections.
    async fn scripted(answers: Vec<&'static [u8]>) -> (String, Arc<AtomicUsize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            let mut next = 0;
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let mut got = Vec::new();
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    // One request (its body is `{}`) read: answer it, in two writes.
                    if got.ends_with(b"\r\n\r\n{}") {
                        got.clear();
                        let answer = answers[next % answers.len()];
                        next += 1;
                        let (a, b) = answer.split_at(answer.len() / 2);
                        s.write_all(a).await.unwrap();
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        if s.write_all(b).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
        (base, accepted)
    }

    async fn body_of(c: &DirectClient) -> Result<(u16, Vec<u8>), String> {
        let res = c.post("/v1/x", bytes::Bytes::from_static(b"{}")).await?;
        let status = res.status().as_u16();
        Ok((status, res.bytes().await?.to_vec()))
    }

    #[tokio::test]
    async fn chunked_answers_are_read_and_their_connection_reused_closing_ones_are_not() {
        let chunked: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (base, accepted) = scripted(vec![chunked]).await;
        let c = DirectClient::new(&base, LONG).unwrap();
        for _ in 0..3 {
            assert_eq!(body_of(&c).await.unwrap(), (200, b"abcde".to_vec()));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);

        let closing: &[u8] =
            b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 4\r\n\r\nnope";
        let (base, accepted) = scripted(vec![closing]).await;
        let c = DirectClient::new(&base, LONG).unwrap();
        for _ in 0..2 {
            assert_eq!(body_of(&c).await.unwrap(), (404, b"nope".to_vec()));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_an_error_not_a_short_body() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move {
            for answer in [
                &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nonly"[..],
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nonly\r\n",
                b"HTTP/1.1 200 OK\r\nContent-",
            ] {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                s.write_all(answer).await.unwrap();
                // Closed here.
            }
        });
        let c = DirectClient::new(&base, LONG).unwrap();
        for _ in 0..3 {
            assert!(body_of(&c).await.is_err());
        }
    }

    #[test]
    fn only_plain_http_bases_are_taken() {
        let c = DirectClient::new("http://127.0.0.1:11434", LONG).unwrap();
        assert_eq!(c.addr, "127.0.0.1:11434");
        assert_eq!(
            DirectClient::new("http://ollama/", LONG).unwrap().addr,
            "ollama:80"
        );
        assert!(DirectClient::new("https://ollama.com", LONG).is_none());
        assert!(DirectClient::new("http://host/prefix", LONG).is_none());
    }
}
