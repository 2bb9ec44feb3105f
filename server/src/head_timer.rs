//! Two clocks for the wait for a request head, where hyper has one.
//!
//! Hyper's header read timeout starts when it begins waiting for a request — on a new
//! connection and after each answer — so one number would be both how long a kept-alive
//! connection may idle and how long a client may take to send a head. Those want different
//! values: idle connections are cheap and clients reuse them after tens of seconds (a
//! server that closes one a client is about to reuse makes that client's request fail),
//! while a head trickled over many seconds is an attack.
//!
//! So hyper is given this [`HeadTimer`] for the connection: each sleep it asks for waits
//! `idle` while no byte has come, and `header` from the first byte of the head. A
//! [`CountingIo`] around the socket tells it when bytes came. A new connection has nothing
//! to keep alive: its first request waits `header` from the start, so a connection that
//! never sends a byte is closed as soon as a slow one. Hyper still decides when a wait
//! starts and ends, and closes the connection when a sleep fires.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The socket, counting the reads that brought bytes.
pub struct CountingIo<T> {
    inner: T,
    reads: Arc<AtomicU64>,
}

impl<T> CountingIo<T> {
    pub fn new(inner: T) -> (Self, Arc<AtomicU64>) {
        let reads = Arc::new(AtomicU64::new(0));
        let io = Self {
            inner,
            reads: reads.clone(),
        };
        (io, reads)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CountingIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.reads.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CountingIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The timer of one connection (hyper uses it for the header read timeout only).
pub struct HeadTimer {
    reads: Arc<AtomicU64>,
    /// From the head's first byte to its end (and for the first head, from the start).
    header: Duration,
    /// Waiting for the first byte of a head after an answer.
    idle: Duration,
    /// A head was waited for before: the connection is a kept-alive one.
    kept_alive: AtomicBool,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, _: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.wait()
    }

    fn sleep_until(&self, _: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.wait()
    }
}

impl HeadTimer {
    pub fn new(reads: Arc<AtomicU64>, header: Duration, idle: Duration) -> Self {
        Self {
            reads,
            header,
            idle,
            kept_alive: AtomicBool::new(false),
        }
    }

    /// One wait for a head, starting now.
    fn wait(&self) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let first_byte_within = if self.kept_alive.swap(true, Ordering::Relaxed) {
            self.idle
        } else {
            self.header
        };
        Box::pin(HeadWait {
            reads: self.reads.clone(),
            reads_at_start: self.reads.load(Ordering::Relaxed),
            header: self.header,
            head_started: false,
            sleep: Box::pin(tokio::time::sleep(first_byte_within)),
        })
    }
}

struct HeadWait {
    reads: Arc<AtomicU64>,
    reads_at_start: u64,
    header: Duration,
    /// A byte came: the deadline is now the header one, and moves no more.
    head_started: bool,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadWait {
    type Output = ();

    // Hyper polls it each time it found the head incomplete, which is right after each
    // read: the first poll that sees a new read is when the head began.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.head_started && self.reads.load(Ordering::Relaxed) != self.reads_at_start {
            self.head_started = true;
            let deadline = tokio::time::Instant::now() + self.header;
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadWait {}
