//! A clock tests move by hand, so periods, deadlines and expiries happen when a test says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use rally::app::Clock;

/// A clock tests move by hand.
#[derive(Clone)]
pub struct TestClock(pub Arc<AtomicI64>);

impl TestClock {
    /// 2026-11-15 10:00 UTC.
    pub fn new() -> TestClock {
        TestClock(Arc::new(AtomicI64::new(1_794_736_800_000)))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Default for TestClock {
    fn default() -> TestClock {
        TestClock::new()
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
