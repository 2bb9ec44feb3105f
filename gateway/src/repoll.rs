//! Polling two halves of one exchange from one task without waking that task from inside
//! its own poll.
//!
//! The server polls hyper's server connection and the request's handler in one task
//! (`server/src/serve.rs`), so each poll hands something from one half to the other inside
//! the poll: the request body's data into the handler, the answer into the connection, the
//! body's "want more". Each hand-off wakes the waker the other half registered — this very
//! task, while it runs. Tokio reads a wake-up during a poll as a yield: the task goes to
//! the back of the run queue and an idle worker thread is woken to take it (measured: one
//! futex wake-up of the other worker per request at concurrency 1, and the stolen task
//! polled once more for nothing). (The direct upstream client, `crate::direct`, used it for
//! hyper's client connection until it read its socket itself.)
//!
//! [`Repoll`] gives the halves a waker of its own. While a poll runs, a wake-up through it
//! is only noted, and the poll is run again at once (at most [`MAX_REPOLLS`] times, so a
//! future that always wakes itself — a spent co-operative budget, say — still yields);
//! outside a poll, a wake-up (the socket became readable) wakes the task as usual.
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Polls in a row at most, before a future that keeps waking itself yields for real.
pub const MAX_REPOLLS: usize = 4;

const IDLE: u8 = 0;
const POLLING: u8 = 1;
const WOKEN: u8 = 2;

struct Shared {
    state: AtomicU8,
    /// The task's waker, as of its last poll.
    task: Mutex<Option<Waker>>,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self
            .state
            .compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
        {
            // Noted: the poll under way runs again.
            Ok(_) => {}
            Err(WOKEN) => {}
            Err(_) => {
                let task = self.task.lock().ok().and_then(|t| t.clone());
                if let Some(task) = task {
                    task.wake();
                }
            }
        }
    }
}

/// The waker of one exchange's halves (see the module's doc).
pub struct Repoll {
    shared: Arc<Shared>,
    waker: Waker,
}

impl Default for Repoll {
    fn default() -> Self {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            task: Mutex::new(None),
        });
        Self {
            waker: Waker::from(shared.clone()),
            shared,
        }
    }
}

impl Repoll {
    /// Runs `f` with this waker in place of the task's; again while `f` woke it and is
    /// not ready, up to [`MAX_REPOLLS`] times.
    pub fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        if let Ok(mut task) = self.shared.task.lock() {
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let mut inner = Context::from_waker(&self.waker);
        for _ in 0..MAX_REPOLLS {
            self.shared.state.store(POLLING, Ordering::Release);
            let polled = f(&mut inner);
            let woken = self.shared.state.swap(IDLE, Ordering::AcqRel) == WOKEN;
            if polled.is_ready() || !woken {
                return polled;
            }
        }
        // Still waking itself: the scheduler runs others first.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts the wake-ups of the task.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_up_inside_the_poll_polls_again_instead_of_waking_the_task() {
        let count = Arc::new(Count::default());
        let task = Waker::from(count.clone());
        let mut cx = Context::from_waker(&task);
        let r = Repoll::default();
        let mut polls = 0;
        let polled = r.poll(&mut cx, |cx| {
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        assert!(polled.is_ready());
        assert_eq!(polls, 3);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_wake_up_after_the_poll_wakes_the_task() {
        let count = Arc::new(Count::default());
        let task = Waker::from(count.clone());
        let mut cx = Context::from_waker(&task);
        let r = Repoll::default();
        let mut kept = None;
        let polled: Poll<()> = r.poll(&mut cx, |cx| {
            kept = Some(cx.waker().clone());
            Poll::Pending
        });
        assert!(polled.is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        kept.as_ref().unwrap().wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // From another thread too.
        let w = kept.unwrap();
        std::thread::spawn(move || w.wake()).join().unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_future_that_always_wakes_itself_still_yields() {
        let count = Arc::new(Count::default());
        let task = Waker::from(count.clone());
        let mut cx = Context::from_waker(&task);
        let r = Repoll::default();
        let mut polls = 0;
        let polled: Poll<()> = r.poll(&mut cx, |cx| {
            polls += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        assert!(polled.is_pending());
        assert_eq!(polls, MAX_REPOLLS);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task is woken once");
    }

    #[test]
    fn the_task_woken_is_the_one_of_the_latest_poll() {
        let (first, second) = (Arc::new(Count::default()), Arc::new(Count::default()));
        let r = Repoll::default();
        let mut kept = None;
        for c in [&first, &second] {
            let task = Waker::from(c.clone());
            let _: Poll<()> = r.poll(&mut Context::from_waker(&task), |cx| {
                kept = Some(cx.waker().clone());
                Poll::Pending
            });
        }
        kept.unwrap().wake();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
