//! Leaderboards for readers outside the chat (the HTTP API, the TV page): the top places of a
//! board with names and totals, and when the board ends.
//!
//! A board is a period's ranking or a contest's standings ([`BoardRef::Contest`], read from the
//! contest boards the chat uses, in the contest's own metric).

use chrono::TimeZone;

use crate::app::App;
use crate::engine::period::Period;
use crate::store::{self, totals::RankBasis};

/// Which leaderboard.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BoardRef {
    /// The program's ranking for a period.
    Period(Period),
    /// A contest's standings, by the contest's id.
    Contest(String),
}

/// One place on a board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based.
    pub rank: u64,
    pub partner_id: i64,
    pub partner: String,
    /// Minor units of program currency: the period total, or the approved sales counted in a
    /// contest.
    pub value_minor: i64,
    /// For a contest: its value in the contest's metric as shown in chat ("+12.5%", "7 sales").
    pub shown: Option<String>,
}

/// A board's top places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standings {
    pub board: BoardRef,
    /// `approved`, or `provisional` when pending sales count (`program.rank_pending`).
    pub basis: &'static str,
    /// Unix milliseconds at which the board closes (a period's end in the program time zone).
    pub ends_at: i64,
    /// Partners with a value on the board.
    pub participants: u64,
    pub entries: Vec<Entry>,
}

/// Why a board cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("there is no contest {0:?}")]
    UnknownContest(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The first `limit` places of `board`.
pub async fn standings(app: &App, board: &BoardRef, limit: usize) -> Result<Standings, BoardError> {
    let period = match board {
        BoardRef::Period(period) => *period,
        BoardRef::Contest(id) => return contest_standings(app, board, id, limit).await,
    };
    let basis = app.rank_basis();
    let mut conn = app.store.read().await?;
    let board_now = app
        .ranks
        .leaderboard(&mut conn, &period.key(), basis, None, limit)
        .await?;
    Ok(Standings {
        board: board.clone(),
        basis: match basis {
            RankBasis::Approved => "approved",
            RankBasis::Provisional => "provisional",
        },
        ends_at: period_end_ms(app, period),
        participants: board_now.participants,
        entries: board_now
            .top
            .into_iter()
            .map(|(rank, s)| Entry {
                rank,
                partner_id: s.partner_id.0,
                partner: s.name,
                value_minor: s.total_minor,
                shown: None,
            })
            .collect(),
    })
}

/// A contest's first `limit` places (qualified partners), valued in its metric.
async fn contest_standings(
    app: &App,
    board: &BoardRef,
    id: &str,
    limit: usize,
) -> Result<Standings, BoardError> {
    use crate::features::contests::service as contests;
    let contest =
        contests::find(app, id).ok_or_else(|| BoardError::UnknownContest(id.to_string()))?;
    let rule = contests::rule(app, contest);
    let mut conn = app.store.read().await?;
    let standings = contests::board(app, &mut conn, contest, None).await?;
    Ok(Standings {
        board: board.clone(),
        basis: "approved",
        ends_at: contests::ends_at(app, contest),
        participants: standings.participants,
        entries: standings
            .top
            .into_iter()
            .take(limit)
            .map(|(rank, partner, name, facts)| Entry {
                rank,
                partner_id: partner.0,
                partner: name,
                value_minor: facts.amount_minor,
                shown: Some(contests::shown(app, rule.shown(&facts)).1),
            })
            .collect(),
    })
}

/// The instant a period ends: midnight starting the next one, in the program time zone.
pub fn period_end_ms(app: &App, period: Period) -> i64 {
    let tz = app.config.program.timezone;
    let midnight = period
        .next()
        .start()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| midnight.and_utc().timestamp_millis())
}
