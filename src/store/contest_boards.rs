//! Contest leaderboards served from memory, kept in step with `contest_standings` exactly as
//! [`super::rank_cache`] keeps period boards in step with `period_totals`: before each use a
//! board reads only the standings changed since its last sync, by their stamp, so it also sees
//! changes made by other processes sharing the database.

use std::collections::HashMap;

use tokio::sync::Mutex;

use super::{Conn, Result, contests, totals};
use crate::engine::contest::{Facts, Rule};
use crate::engine::ids::PartnerId;
use crate::engine::ranking::RankIndex;

#[derive(Default)]
struct Board {
    index: RankIndex,
    facts: HashMap<PartnerId, Facts>,
    /// Names of partners shown on this board so far. A partner's name never changes (it is the
    /// partner's key for imports and configuration), so a name read once stays right.
    names: HashMap<PartnerId, String>,
    synced: Option<i64>,
}

/// A contest board as one member sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestBoard {
    /// Best first: (place, partner, name, facts).
    pub top: Vec<(u64, PartnerId, String, Facts)>,
    /// The caller's place, if qualified.
    pub place: Option<u64>,
    /// The caller's facts, qualified or not (`None`: no standing yet).
    pub mine: Option<Facts>,
    /// The score of the place above the caller.
    pub above: Option<i64>,
    /// Qualified partners.
    pub participants: u64,
}

/// Per-contest boards of one process.
#[derive(Default)]
pub struct ContestBoards {
    boards: Mutex<HashMap<String, Board>>,
}

impl ContestBoards {
    pub fn new() -> ContestBoards {
        ContestBoards::default()
    }

    /// Syncs the board of `contest` and returns its first `top` places and `me`'s standing.
    pub async fn board(
        &self,
        conn: &mut Conn,
        contest: &str,
        rule: Rule,
        me: Option<PartnerId>,
        top: usize,
    ) -> Result<ContestBoard> {
        let mut boards = self.boards.lock().await;
        let board = boards.entry(contest.to_string()).or_default();
        sync(board, conn, contest, rule).await?;
        let shown: Vec<PartnerId> = board
            .index
            .top(top)
            .into_iter()
            .map(|(p, _, _)| p)
            .collect();
        // Only partners new to the top places cost a query (usually none: the top moves slowly).
        let unnamed: Vec<PartnerId> = shown
            .iter()
            .filter(|p| !board.names.contains_key(p))
            .copied()
            .collect();
        if !unnamed.is_empty() {
            board
                .names
                .extend(totals::partner_names(conn, &unnamed).await?);
        }
        Ok(ContestBoard {
            top: shown
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    (
                        i as u64 + 1,
                        p,
                        board.names.get(&p).cloned().unwrap_or_default(),
                        board.facts.get(&p).copied().unwrap_or_default(),
                    )
                })
                .collect(),
            place: me
                .and_then(|p| board.index.place(p))
                .map(|(place, _, _)| place),
            mine: me.and_then(|p| board.facts.get(&p).copied()),
            above: me.and_then(|p| board.index.total_above(p)),
            participants: board.index.len() as u64,
        })
    }

    /// The whole board after a sync: every qualified partner, best first (the end of a
    /// contest archives it).
    pub async fn all(
        &self,
        conn: &mut Conn,
        contest: &str,
        rule: Rule,
    ) -> Result<Vec<(u64, PartnerId, Facts)>> {
        let mut boards = self.boards.lock().await;
        let board = boards.entry(contest.to_string()).or_default();
        sync(board, conn, contest, rule).await?;
        Ok(board
            .index
            .top(board.index.len())
            .into_iter()
            .enumerate()
            .map(|(i, (p, _, _))| {
                let facts = board.facts.get(&p).copied().unwrap_or_default();
                (i as u64 + 1, p, facts)
            })
            .collect())
    }
}

/// Reads the standings changed since the board's last sync into it.
async fn sync(board: &mut Board, conn: &mut Conn, contest: &str, rule: Rule) -> Result<()> {
    let (changes, next) = contests::changes_since(conn, contest, board.synced).await?;
    let scored: Vec<(PartnerId, i64, i64)> = changes
        .iter()
        .map(|c| (c.partner, rule.score(&c.facts).unwrap_or(0), c.reached_at))
        .collect();
    for c in &changes {
        board.facts.insert(c.partner, c.facts);
    }
    board.index.set_all(scored);
    board.synced = Some(next);
    Ok(())
}
