//! Leaderboards served from memory, kept exactly in step with `period_totals`.
//!
//! Counting the partners ahead of a caller in SQL visits every index entry ahead of them
//! (milliseconds at 100,000 partners); an in-process [`RankIndex`] answers in microseconds. Before
//! each use the index reads only the totals changed since its last sync, by their change stamp
//! (see [`totals::changes_since`]), so it also sees changes made by other processes sharing the
//! database — a CLI import, or other `rally run` instances on PostgreSQL.

use std::collections::HashMap;

use tokio::sync::Mutex;

use super::totals::{self, RankBasis};
use super::{Conn, Result};
use crate::engine::ids::PartnerId;
use crate::engine::ranking::{Leaderboard, RankIndex, Standing};

#[derive(Default)]
struct Board {
    index: RankIndex,
    /// Where the next sync starts; `None` before the first load.
    synced: Option<i64>,
}

/// Per-period ranking indexes of one process.
///
/// Call [`RankCache::leaderboard`] first to sync; [`RankCache::place_for`] then answers from
/// the synced index.
#[derive(Default)]
pub struct RankCache {
    // One lock for all boards: a sync is one indexed query, and holding the lock across it
    // keeps two syncs of a board from applying their rows out of order.
    boards: Mutex<HashMap<(String, RankBasis), Board>>,
}

impl RankCache {
    pub fn new() -> RankCache {
        RankCache::default()
    }

    /// The period leaderboard: the first `top` places and, for `me`, its place and the gap to
    /// the place above.
    pub async fn leaderboard(
        &self,
        conn: &mut Conn,
        period: &str,
        basis: RankBasis,
        me: Option<PartnerId>,
        top: usize,
    ) -> Result<Leaderboard> {
        let (top_entries, mine, above, participants) = {
            let mut boards = self.boards.lock().await;
            let board = boards.entry((period.to_string(), basis)).or_default();
            let (changes, next) = totals::changes_since(conn, period, basis, board.synced).await?;
            board.index.set_all(
                changes
                    .into_iter()
                    .map(|c| (c.partner, c.total_minor, c.reached_at)),
            );
            board.synced = Some(next);
            let mine = me.and_then(|p| board.index.place(p).map(|place| (p, place)));
            let above = me.and_then(|p| board.index.total_above(p));
            (board.index.top(top), mine, above, board.index.len())
        };

        let mut ids: Vec<PartnerId> = top_entries.iter().map(|(p, _, _)| *p).collect();
        if let Some((p, _)) = mine {
            ids.push(p);
        }
        let names = totals::partner_names(conn, &ids).await?;
        let standing = |partner: PartnerId, total_minor: i64, reached_at: i64| Standing {
            partner_id: partner,
            name: names.get(&partner).cloned().unwrap_or_default(),
            total_minor,
            reached_at,
        };
        let me = mine.map(|(p, (place, total, at))| (place, standing(p, total, at)));
        let gap_to_next = match (&me, above) {
            (Some((_, s)), Some(above)) => Some(crate::engine::ranking::gap_to_pass(
                s,
                &Standing {
                    total_minor: above,
                    ..s.clone()
                },
            )),
            _ => None,
        };
        Ok(Leaderboard {
            top: top_entries
                .into_iter()
                .enumerate()
                .map(|(i, (p, total, at))| (i as u64 + 1, standing(p, total, at)))
                .collect(),
            me,
            gap_to_next,
            participants: participants as u64,
        })
    }

    /// The place `partner` would hold with `total_minor` reached now, from the last synced
    /// index; `None` if the board was never loaded.
    pub async fn place_for(
        &self,
        period: &str,
        basis: RankBasis,
        partner: PartnerId,
        total_minor: i64,
    ) -> Option<u64> {
        let boards = self.boards.lock().await;
        let board = boards.get(&(period.to_string(), basis))?;
        Some(board.index.place_if(partner, total_minor, i64::MAX))
    }
}
