//! Group commit, the mechanism shared by the chat's `/report`s (`chat::batch`) and the HTTP
//! API's `POST /api/v1/sales`: callers that arrive while a group's transaction runs wait in a
//! [`GroupQueue`]; when it is done, the oldest of them leads the next group and takes every
//! caller queued meanwhile (at most [`MAX_GROUP`]), so the commit rate follows the disk, not
//! the arrival rate. Each item of a group runs inside its own savepoint ([`Savepoints`]): one
//! that fails is rolled back alone and the others commit.
//!
//! The queue knows nothing of what an item is or how a group is stored: its leader runs the
//! caller's function over the items and hands each waiter its own result.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use sqlx::Executor;
use tokio::sync::oneshot;

use super::{Conn, Result};

/// The most items one group takes. Bounds the time a group holds the write lock (SQLite's, or
/// PostgreSQL's row locks on the totals it moves; about 100 µs per sale) and the work one
/// database error in the commit sends back.
pub const MAX_GROUP: usize = 256;

/// What a caller waiting in the queue is told.
enum Turn<T, R> {
    /// Its result, after the group's commit.
    Done(R),
    /// The previous leader finished: lead the next group, starting with this item (taken out
    /// of the queue).
    Lead(T),
}

struct Waiting<T, R> {
    item: T,
    turn: oneshot::Sender<Turn<T, R>>,
}

struct Queue<T, R> {
    waiting: VecDeque<Waiting<T, R>>,
    leading: bool,
}

/// How many items joined a queue and how many groups they formed: with callers arriving
/// together, fewer groups (commits) than items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// Items that called [`GroupQueue::join`].
    pub arrived: u64,
    /// Groups run (each one transaction).
    pub groups: u64,
    /// Items in those groups.
    pub grouped: u64,
}

/// Callers waiting for the running group to finish; `T` is what a caller brings, `R` what it
/// gets back.
pub struct GroupQueue<T, R> {
    /// Labels the group size metric (`chat`, `api`).
    path: &'static str,
    queue: Mutex<Queue<T, R>>,
    arrived: AtomicU64,
    groups: AtomicU64,
    grouped: AtomicU64,
}

/// Hands the lead on when a leader is done, or dropped half-way (its caller gave up): the
/// oldest waiting caller leads next; with none waiting nobody leads.
struct Leadership<'a, T, R>(&'a GroupQueue<T, R>);

impl<T, R> Drop for Leadership<'_, T, R> {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        while let Some(next) = queue.waiting.pop_front() {
            // A waiter that went away cannot lead; try the next.
            if next.turn.send(Turn::Lead(next.item)).is_ok() {
                return;
            }
        }
        queue.leading = false;
    }
}

impl<T, R> GroupQueue<T, R> {
    /// An empty queue; `path` labels its group sizes in the metrics.
    pub fn new(path: &'static str) -> GroupQueue<T, R> {
        GroupQueue {
            path,
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                leading: false,
            }),
            arrived: AtomicU64::new(0),
            groups: AtomicU64::new(0),
            grouped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue<T, R>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What this queue has grouped so far.
    pub fn stats(&self) -> GroupStats {
        GroupStats {
            arrived: self.arrived.load(Ordering::Relaxed),
            groups: self.groups.load(Ordering::Relaxed),
            grouped: self.grouped.load(Ordering::Relaxed),
        }
    }

    /// `item`'s result, from the group it joins: with no group running, this caller leads one
    /// at once; otherwise it waits, and either gets its result from that group's leader or
    /// leads the next group. A leader runs `group` over its own item first and every item
    /// queued meanwhile, in arrival order; `group` returns one result per item, in the same
    /// order, and each waiter is answered when it returns.
    ///
    /// `None` if the leader that took `item` went away before answering (its caller was
    /// dropped): what it did committed or not as a whole; the caller handles its item alone.
    pub async fn join<F, Fut>(&self, item: T, group: F) -> Option<R>
    where
        F: FnOnce(Vec<T>) -> Fut,
        Fut: Future<Output = Vec<R>>,
    {
        self.arrived.fetch_add(1, Ordering::Relaxed);
        let waiting = {
            let mut queue = self.lock();
            if queue.leading {
                let (turn, told) = oneshot::channel();
                queue.waiting.push_back(Waiting { item, turn });
                Err(told)
            } else {
                queue.leading = true;
                Ok(item)
            }
        };
        let mine = match waiting {
            Ok(item) => item,
            Err(told) => match told.await {
                Ok(Turn::Done(result)) => return Some(result),
                Ok(Turn::Lead(item)) => item,
                Err(_) => return None,
            },
        };
        let leadership = Leadership(self);
        let others: Vec<Waiting<T, R>> = {
            let mut queue = self.lock();
            let take = queue.waiting.len().min(MAX_GROUP - 1);
            queue.waiting.drain(..take).collect()
        };
        let mut items = Vec::with_capacity(others.len() + 1);
        items.push(mine);
        let mut turns = Vec::with_capacity(others.len());
        for waiting in others {
            items.push(waiting.item);
            turns.push(waiting.turn);
        }
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.grouped
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        crate::telemetry::group_commit(self.path, items.len());
        let mut results = group(items).await.into_iter();
        let mine = results.next();
        for (turn, result) in turns.into_iter().zip(results) {
            // A waiter that went away gets nothing; its item is stored.
            let _ = turn.send(Turn::Done(result));
        }
        drop(leadership);
        mine
    }
}

/// The savepoint around each item of a group, set before an item and released (and set again)
/// after one that succeeded, in one round trip.
#[derive(Clone, Copy, Debug, Default)]
pub struct Savepoints {
    state: Savepoint,
}

#[derive(Clone, Copy, Debug, Default)]
enum Savepoint {
    /// Not set yet.
    #[default]
    Unset,
    /// Set, and nothing done since (just set, or rolled back to).
    Fresh,
    /// Set before an item that succeeded: release it and set it again.
    Used,
}

const SAVEPOINT: &str = "SAVEPOINT rally_item";
const NEXT_SAVEPOINT: &str = "RELEASE SAVEPOINT rally_item; SAVEPOINT rally_item";
const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT rally_item";

impl Savepoints {
    /// Sets the savepoint before the next item, on the group's transaction.
    pub async fn set(&mut self, conn: &mut Conn) -> Result<()> {
        match self.state {
            Savepoint::Unset => {
                conn.execute(SAVEPOINT).await?;
            }
            Savepoint::Used => {
                conn.execute(NEXT_SAVEPOINT).await?;
            }
            Savepoint::Fresh => {}
        }
        self.state = Savepoint::Fresh;
        Ok(())
    }

    /// The item since [`Savepoints::set`] succeeded: what it did stays.
    pub fn keep(&mut self) {
        self.state = Savepoint::Used;
    }

    /// The item since [`Savepoints::set`] failed: undoes what it did, leaving the savepoint set
    /// for the next item.
    pub async fn undo(&mut self, conn: &mut Conn) -> Result<()> {
        conn.execute(ROLLBACK_TO_SAVEPOINT).await?;
        self.state = Savepoint::Fresh;
        Ok(())
    }
}
