//! The TV page: `GET /tv` (the current period's ranking) and `GET /tv/{contest}`, a
//! full-screen leaderboard for an office screen, self-contained (no external assets), kept
//! live by server-sent events from the same URL (`Accept: text/event-stream`).
//!
//! TVs cannot log in, so the URL carries a key with the `tv` scope (`rally tvlink` prints it).
//! One poller per board and process reads the standings every [`POLL`] while a screen
//! watches, and publishes them when they change: a sale approved by any process sharing the
//! database (chat, API, import, another instance) is on every screen within a second. On
//! shutdown the event streams end, so the server can stop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::HttpState;
use crate::app::App;
use crate::chat::reply::Msg;
use crate::config::Locale;
use crate::engine::money::Money;
use crate::features::api_keys::{self, Scope};
use crate::features::ranking::board::{self, BoardError, BoardRef, Standings};
use crate::store::api as stored;

/// How often a watched board is read.
const POLL: Duration = Duration::from_millis(250);
/// Places shown.
const PLACES: usize = 10;
/// Sales in the ticker.
const TICKER: i64 = 8;

/// Which board a screen shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TvBoard {
    /// Whatever period is current (it changes at period end).
    CurrentPeriod,
    Contest(String),
}

impl TvBoard {
    fn board_ref(&self, app: &App) -> BoardRef {
        match self {
            TvBoard::CurrentPeriod => BoardRef::Period(app.period_at(app.now())),
            TvBoard::Contest(id) => BoardRef::Contest(id.clone()),
        }
    }
}

/// What a screen shows: the event payload, and the initial state embedded in the page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    /// The period key or contest id.
    pub title: String,
    /// Unix milliseconds at which the board closes.
    pub ends_at: i64,
    pub entries: Vec<SnapshotEntry>,
    pub ticker: Vec<TickerSale>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnapshotEntry {
    pub rank: u64,
    pub partner: String,
    /// Formatted (`¥12,500`), or `None` when `[http] tv_show_amounts = false`.
    pub value: Option<String>,
    /// The value over the leader's, 0 to 1, for the bar.
    pub share: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TickerSale {
    pub id: i64,
    pub partner: String,
    pub amount: Option<String>,
}

/// Whole major units with the currency's symbol: `¥12,500`.
fn tv_money(app: &App, minor: i64) -> String {
    let money = Money::from_minor(minor, app.config.program.currency);
    let whole = Money::new(money.amount().round(), money.currency()).format();
    // `format` writes the currency's decimals; whole amounts need none.
    match whole.split_once('.') {
        Some((int, rest)) => {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            format!("{int}{}", &rest[digits..])
        }
        None => whole,
    }
}

async fn snapshot(app: &App, board: &TvBoard) -> Result<Snapshot, BoardError> {
    let standings: Standings = board::standings(app, &board.board_ref(app), PLACES).await?;
    let show = app.config.http.tv_show_amounts;
    let leader = standings
        .entries
        .first()
        .map_or(0, |e| e.value_minor)
        .max(1);
    let latest = {
        let mut conn = app.store.read().await?;
        stored::latest_approved(&mut conn, TICKER).await?
    };
    Ok(Snapshot {
        title: match &standings.board {
            BoardRef::Period(p) => p.key(),
            BoardRef::Contest(c) => c.clone(),
        },
        ends_at: standings.ends_at,
        entries: standings
            .entries
            .iter()
            .map(|e| SnapshotEntry {
                rank: e.rank,
                partner: e.partner.clone(),
                value: show.then(|| {
                    e.shown
                        .clone()
                        .unwrap_or_else(|| tv_money(app, e.value_minor))
                }),
                share: (Decimal::from(e.value_minor.max(0)) / Decimal::from(leader))
                    .try_into()
                    .unwrap_or(0.0),
            })
            .collect(),
        ticker: latest
            .into_iter()
            .map(|s| TickerSale {
                id: s.id,
                partner: s.partner,
                amount: show.then(|| tv_money(app, s.program_minor)),
            })
            .collect(),
    })
}

/// The boards screens watch in this process, each with its poller's channel.
#[derive(Default)]
pub struct TvHub {
    boards: Mutex<HashMap<TvBoard, watch::Sender<Option<Arc<String>>>>>,
}

impl TvHub {
    /// A receiver of `board`'s snapshots (as event JSON); starts its poller if none runs.
    fn watch(
        self: &Arc<Self>,
        app: &Arc<App>,
        board: &TvBoard,
        shutdown: &CancellationToken,
    ) -> watch::Receiver<Option<Arc<String>>> {
        let mut boards = self.boards.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = boards.get(board) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        boards.insert(board.clone(), sender.clone());
        let hub = Arc::clone(self);
        let (app, board, shutdown) = (Arc::clone(app), board.clone(), shutdown.clone());
        tokio::spawn(async move { hub.poll(app, board, sender, shutdown).await });
        receiver
    }

    /// Reads the board every [`POLL`] and publishes changes, until no screen watches.
    async fn poll(
        self: Arc<Self>,
        app: Arc<App>,
        board: TvBoard,
        sender: watch::Sender<Option<Arc<String>>>,
        shutdown: CancellationToken,
    ) {
        let mut last: Option<Snapshot> = None;
        loop {
            {
                // Under the lock, so a screen arriving now either finds this poller or starts
                // a new one.
                let mut boards = self.boards.lock().unwrap_or_else(PoisonError::into_inner);
                if sender.receiver_count() == 0 || shutdown.is_cancelled() {
                    boards.remove(&board);
                    return;
                }
            }
            match snapshot(&app, &board).await {
                Ok(now) if last.as_ref() != Some(&now) => match serde_json::to_string(&now) {
                    Ok(json) => {
                        sender.send_replace(Some(Arc::new(json)));
                        last = Some(now);
                    }
                    Err(e) => tracing::warn!(error = %e, "TV snapshot not serialized"),
                },
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "TV board not read; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => {}
            }
        }
    }
}

#[derive(Deserialize)]
pub struct TvQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// The current period's leaderboard.
#[utoipa::path(
    get,
    path = "/tv",
    tag = "tv",
    params(
        ("token" = String, Query, description = "A key with the tv scope (`rally tvlink` prints the whole URL)"),
        ("lang" = Option<String>, Query, description = "`en` or `zh-CN`; the program's default language otherwise"),
    ),
    responses(
        (status = 200, description = "The page (text/html), or with `Accept: text/event-stream` its live standings, one `standings` event per change", content_type = "text/html"),
        (status = 401, description = "No token, or a wrong or revoked one"),
    )
)]
pub async fn tv_period(
    State(state): State<HttpState>,
    Query(query): Query<TvQuery>,
    headers: HeaderMap,
) -> Response {
    tv(state, query, headers, TvBoard::CurrentPeriod).await
}

/// A contest's standings.
#[utoipa::path(
    get,
    path = "/tv/{contest}",
    tag = "tv",
    params(
        ("contest" = String, Path, description = "The contest's id"),
        ("token" = String, Query, description = "A key with the tv scope"),
        ("lang" = Option<String>, Query, description = "`en` or `zh-CN`"),
    ),
    responses(
        (status = 200, description = "The page, or its event stream", content_type = "text/html"),
        (status = 401, description = "No token, or a wrong or revoked one"),
        (status = 404, description = "No such contest"),
    )
)]
pub async fn tv_contest(
    State(state): State<HttpState>,
    Path(contest): Path<String>,
    Query(query): Query<TvQuery>,
    headers: HeaderMap,
) -> Response {
    tv(state, query, headers, TvBoard::Contest(contest)).await
}

fn page_error(status: StatusCode, lang: Locale, text: String) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"{}\"><meta charset=\"utf-8\"><title>Rally</title>\
         <body style=\"font-family:sans-serif;font-size:4vh;padding:5vh\"><p>{}</p></body></html>",
        lang.tag(),
        html_escape(&text)
    );
    (status, Html(body)).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Replaces each `{{NAME}}` of `template` in one pass, so a value that happens to contain
/// `{{…}}` (a partner's name) is never expanded itself.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, end + 2))
        });
        match value {
            Some((value, used)) => {
                out.push_str(value);
                rest = &after[used..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// JSON placed inside a `<script>` element: `</` would end it early.
fn script_json(json: &str) -> String {
    json.replace("</", "<\\/")
}

async fn tv(state: HttpState, query: TvQuery, headers: HeaderMap, board: TvBoard) -> Response {
    let app = &state.app;
    let lang = query
        .lang
        .as_deref()
        .and_then(Locale::from_tag)
        .unwrap_or(app.config.program.default_locale);
    let text = |msg: Msg| app.i18n.render(lang, &msg);
    let authorized = match &query.token {
        None => Ok(false),
        Some(token) => async {
            let mut conn = app.store.read().await?;
            api_keys::authenticate(&mut conn, token).await
        }
        .await
        .map(|key| key.is_some_and(|k| k.allows(Scope::Tv))),
    };
    match authorized {
        Ok(true) => {}
        Ok(false) => {
            return page_error(
                StatusCode::UNAUTHORIZED,
                lang,
                text(Msg::new("tv-unauthorized")),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "TV token not checked");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let first = match snapshot(app, &board).await {
        Ok(s) => s,
        Err(BoardError::UnknownContest(id)) => {
            return page_error(
                StatusCode::NOT_FOUND,
                lang,
                text(Msg::new("tv-unknown-contest").text("contest", id)),
            );
        }
        Err(BoardError::Store(e)) => {
            tracing::error!(error = %e, "TV board not read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let wants_events = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if wants_events {
        return events(&state, &board).into_response();
    }
    let strings = serde_json::json!({
        "period": text(Msg::new("tv-period").text("period", "{p}")),
        "time_left": text(Msg::new("tv-time-left").text("days", "{d}").text("hours", "{h}").text("minutes", "{m}")),
        "ended": text(Msg::new("tv-ended")),
        "latest": text(Msg::new("tv-latest")),
        "empty": text(Msg::new("tv-empty")),
        "offline": text(Msg::new("tv-offline")),
    });
    let initial = serde_json::to_string(&first).unwrap_or_else(|_| "{}".into());
    let program = html_escape(&app.config.program.name);
    let heading = html_escape(&text(Msg::new("tv-heading")));
    let title = format!("{program} · {heading}");
    let (strings, initial) = (script_json(&strings.to_string()), script_json(&initial));
    let page = fill(
        include_str!("page.html"),
        &[
            ("LANG", lang.tag()),
            ("TITLE", &title),
            ("PROGRAM", &program),
            ("STRINGS", &strings),
            ("INITIAL", &initial),
        ],
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

/// Counts an open stream in the metrics while it lives.
struct StreamGauge;

impl StreamGauge {
    fn open() -> StreamGauge {
        crate::telemetry::tv_streams(1.0);
        StreamGauge
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        crate::telemetry::tv_streams(-1.0);
    }
}

/// The board's snapshots as `standings` events: the current one at once, then each change;
/// ends on shutdown.
fn events(
    state: &HttpState,
    board: &TvBoard,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>> + use<>> {
    let receiver = state.tv.watch(&state.app, board, &state.shutdown);
    let gauge = StreamGauge::open();
    let stream = futures_util::stream::unfold(
        (receiver, gauge, true),
        |(mut receiver, gauge, first)| async move {
            loop {
                if !first || receiver.borrow().is_none() {
                    receiver.changed().await.ok()?;
                }
                let current = receiver.borrow_and_update().clone();
                if let Some(json) = current {
                    let event = Event::default().event("standings").data(json.as_str());
                    return Some((Ok(event), (receiver, gauge, false)));
                }
            }
        },
    )
    .take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_in_one_pass() {
        let page = fill("<p>{{A}} {{B}} {{C}} {{</p>", &[("A", "{{B}}"), ("B", "b")]);
        assert_eq!(page, "<p>{{B}} b {{C}} {{</p>");
        assert_eq!(
            script_json("{\"x\":\"</script>\"}"),
            "{\"x\":\"<\\/script>\"}"
        );
    }
}
