//! The server scaffolding both fakes share: an axum server on a free 127.0.0.1 port that
//! stops when the fake's last handle is dropped, and the [`Hub`] that holds a fake's state
//! between its request handlers and the test (a lock, a change counter waiters sleep on, and
//! the stop signal).

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A fake's fixed settings `C` (its URL, token, ...) and mutable state `T`, shared by its
/// request handlers and the test's handle. Derefs to `C`, so handlers read `shared.url` and
/// lock `shared.lock()` alike.
pub(crate) struct Hub<C, T> {
    config: C,
    /// Cancelled when the server stops; long-running handlers (long polls, websockets, delays)
    /// end on it.
    pub cancel: CancellationToken,
    /// Bumped on every change a waiter may care about; waiters re-check on each bump instead
    /// of polling.
    events: watch::Sender<u64>,
    inner: Mutex<T>,
}

impl<C, T> Hub<C, T> {
    pub fn new(config: C, inner: T) -> Arc<Hub<C, T>> {
        Arc::new(Hub {
            config,
            cancel: CancellationToken::new(),
            events: watch::Sender::new(0),
            inner: Mutex::new(inner),
        })
    }

    /// Locks the state, ignoring poison: a handler or test that panicked while holding the
    /// lock left the state as the fake last wrote it, and later assertions should see that.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter so it re-checks.
    pub fn bump(&self) {
        self.events.send_modify(|n| *n += 1);
    }

    /// A receiver that sees every later [`Hub::bump`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.events.subscribe()
    }

    /// Waits (at most `timeout`) until `check` finds something; checks once more at the
    /// deadline so a change racing the timeout is not lost.
    pub async fn wait_until<R>(
        &self,
        timeout: Duration,
        check: impl Fn(&T) -> Option<R>,
    ) -> Option<R> {
        let deadline = Instant::now() + timeout;
        let mut events = self.subscribe();
        loop {
            events.borrow_and_update();
            if let Some(found) = check(&self.lock()) {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, events.changed())
                .await
                .is_err()
            {
                return check(&self.lock());
            }
        }
    }

    /// Waits (at most `timeout`) until `ready` holds; returns whether it did.
    pub async fn wait_for(&self, timeout: Duration, ready: impl Fn(&T) -> bool) -> bool {
        self.wait_until(timeout, |inner| ready(inner).then_some(()))
            .await
            .is_some()
    }

    /// Sleeps `delay` (a [`Failure::Delay`](crate::telegram::Failure::Delay) answer), or less
    /// when the server stops meanwhile.
    pub async fn pause(&self, delay: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = self.cancel.cancelled() => {}
        }
    }
}

impl<C, T> Deref for Hub<C, T> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.config
    }
}

/// A fake's state that records the requests it received, in order of arrival.
pub(crate) trait Recorded {
    type Call: Clone;

    fn calls(&self) -> &[Self::Call];
}

impl<C, T: Recorded> Hub<C, T> {
    /// Waits (at most `timeout`) for a recorded request `matches` accepts, including requests
    /// made before this wait began; returns the first such request.
    pub async fn wait_for_call(
        &self,
        timeout: Duration,
        matches: impl Fn(&T::Call) -> bool,
    ) -> Option<T::Call> {
        self.wait_until(timeout, |inner| {
            inner.calls().iter().find(|c| matches(c)).cloned()
        })
        .await
    }

    /// Waits (at most `timeout`) until `n` recorded requests match; returns them all.
    pub async fn wait_for_calls(
        &self,
        timeout: Duration,
        n: usize,
        matches: impl Fn(&T::Call) -> bool,
    ) -> Option<Vec<T::Call>> {
        self.wait_until(timeout, |inner| {
            let found: Vec<T::Call> = inner
                .calls()
                .iter()
                .filter(|c| matches(c))
                .cloned()
                .collect();
            (found.len() >= n).then_some(found)
        })
        .await
    }
}

/// A bound port, before the server that will answer on it exists (its URL goes into the
/// fake's state, which the router needs).
pub(crate) struct Listener {
    listener: TcpListener,
    pub addr: SocketAddr,
}

impl Listener {
    /// Binds a free port on 127.0.0.1.
    pub async fn bind(what: &str) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind the fake {what} server: {e}"));
        let addr = listener.local_addr().expect("local address");
        Listener { listener, addr }
    }

    /// Serves `router` in a spawned task until `hub` is cancelled. Bodies are unlimited:
    /// uploads in tests may be larger than axum's 2 MB default, and the real servers take them.
    pub fn serve<C, T>(self, router: Router, hub: &Hub<C, T>) -> Arc<Server> {
        let app = router.layer(DefaultBodyLimit::disable());
        let cancel = hub.cancel.clone();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        Arc::new(Server {
            cancel,
            task: Mutex::new(Some(task)),
        })
    }
}

/// A running server. A fake keeps it in an `Arc` shared by all clones of the fake's handle,
/// so the server stops (without waiting) when the last handle is dropped.
pub(crate) struct Server {
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// Stops the server (waking `hub`'s waiters) and waits (at most 5 s) for it to finish.
    pub async fn shutdown<C, T>(&self, hub: &Hub<C, T>) {
        self.cancel.cancel();
        hub.bump();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Seconds since the Unix epoch, fractional (for timestamps and rate-limit resets).
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}
