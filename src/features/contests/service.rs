//! Contests as a service: standings kept in the transaction of every sale change that counts
//! for a running contest, boards for `/rank <contest>` and `/contests`, update posts at each
//! `updates` due time, and the end of a contest — final standings archived, money prizes booked
//! once as statement lines, winners announced.
//!
//! Standings are built from the sales once per contest definition (a contest added to the
//! configuration after its start still counts what was sold since); from then on only the sale
//! changes move them, never a scan.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::engine::contest::{
    self, Award, Contest, ContestChats, Entrant, Facts, Metric, Phase, Placed, Rule, Shown,
};
use crate::engine::customer::customer_key;
use crate::engine::ids::PartnerId;
use crate::engine::money::Money;
use crate::engine::partner::Partner;
use crate::engine::period::Period;
use crate::engine::plan::{self, PartnerFacts};
use crate::engine::schedule;
use crate::store::contest_boards::{ContestBoard, ContestBoards};
use crate::store::contests::{self as stored, Archived, BookedPrize, Bump};
use crate::store::jobs::{self as runs, RunStatus};
use crate::store::outbox::{self as rows, NewOutgoing};
use crate::store::{self, Conn, StoreError, partners, statements};

/// How many places boards and posts show.
pub const TOP: usize = 10;

/// The contest state of one process: boards in memory and the contests it has seen built.
#[derive(Default)]
pub struct ContestState {
    pub boards: ContestBoards,
    built: std::sync::Mutex<HashSet<String>>,
}

impl ContestState {
    pub(crate) fn is_built(&self, id: &str) -> bool {
        self.built.lock().map(|b| b.contains(id)).unwrap_or(false)
    }

    fn mark_built(&self, id: &str) {
        if let Ok(mut b) = self.built.lock() {
            b.insert(id.to_string());
        }
    }
}

/// How a contest scores, in program currency.
pub fn rule(app: &App, contest: &Contest) -> Rule {
    let currency = app.config.program.currency;
    Rule {
        metric: contest.metric,
        handicap: contest.handicap,
        min_sales_minor: Money::new(contest.min_sales, currency)
            .round()
            .to_minor()
            .unwrap_or(i64::MAX),
    }
}

/// What the standings of a contest depend on: a change rebuilds them.
fn fingerprint(c: &Contest) -> String {
    format!(
        "{}|{}|{}|{:?}|{}|{:?}|{}|{}",
        c.metric.as_str(),
        c.start,
        c.end,
        c.scope,
        c.handicap,
        c.targets,
        c.min_sales,
        c.growth_base.as_str()
    )
}

/// The contest `text` names (id or name, any case).
pub fn find<'a>(app: &'a App, text: &str) -> Option<&'a Contest> {
    app.config.contests.iter().find(|c| c.is_named(text))
}

/// The contests running on `today`.
pub fn running(app: &App, today: NaiveDate) -> impl Iterator<Item = &Contest> {
    app.config
        .contests
        .iter()
        .filter(move |c| c.phase(today) == Phase::Running)
}

fn entrant(p: &Partner) -> Entrant<'_> {
    Entrant {
        id: p.id,
        name: &p.name,
        kind: p.kind,
        region: p.region.as_deref(),
        tier: p.tier.as_deref(),
    }
}

/// A partner's contest target in minor units: configured by name, else the plan's target ×
/// the months the contest touches. `None` when the contest ranks without targets.
fn target_for(app: &App, contest: &Contest, partner: &Partner) -> Option<i64> {
    if !contest.uses_target() {
        return None;
    }
    let currency = app.config.program.currency;
    let amount = match contest.configured_target(&partner.name) {
        Some(t) => t,
        None => {
            let facts = PartnerFacts {
                partner: partner.id,
                name: partner.name.clone(),
                kind: partner.kind.as_str().to_string(),
                region: partner.region.clone(),
                tier: partner.tier.clone(),
            };
            let plan = plan::select_plan(&app.config.plans, &facts, contest.start)?;
            plan.target? * rust_decimal::Decimal::from(contest.months())
        }
    };
    Money::new(amount, currency).round().to_minor().ok()
}

fn base_for_range(contest: &Contest) -> Option<(String, String)> {
    (contest.metric == Metric::GrowthRate && !contest.handicap).then(|| {
        let (from, to) = contest.base_span();
        (from.to_string(), to.to_string())
    })
}

/// Makes sure a contest's standings are built for its current definition, on `conn` (the
/// caller's transaction). `true` if they were (re)built just now, from the sales as they are
/// on `conn` — a change already written there is then counted.
pub async fn ensure_built(
    app: &App,
    conn: &mut Conn,
    contest: &Contest,
    now: i64,
) -> store::Result<bool> {
    if app.contests.is_built(&contest.id) {
        return Ok(false);
    }
    let wanted = fingerprint(contest);
    if stored::build_fingerprint(conn, &contest.id)
        .await?
        .as_deref()
        == Some(wanted.as_str())
    {
        app.contests.mark_built(&contest.id);
        return Ok(false);
    }
    if !stored::claim_build(conn, &contest.id, &wanted, now).await? {
        app.contests.mark_built(&contest.id);
        return Ok(false);
    }
    rebuild(app, conn, contest).await?;
    app.contests.mark_built(&contest.id);
    tracing::info!(contest = %contest.id, "contest standings built from the sales");
    Ok(true)
}

/// [`ensure_built`] in a transaction of its own (read paths).
pub async fn ensure_built_now(app: &App, contest: &Contest) -> store::Result<()> {
    if app.contests.is_built(&contest.id) {
        return Ok(());
    }
    let mut tx = app.store.begin().await?;
    ensure_built(app, &mut tx, contest, app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Before a group commit (chat `/report`s, API sales): builds (or sees built) the standings
/// outside the group's transaction, because building them inside an item's savepoint that is
/// then rolled back would leave this process believing the standings exist. A failure is
/// logged; the group goes on (its sales then build the standings one by one).
pub async fn prepare_before_group(app: &App, group: &str) {
    if !app.config.contests.is_empty()
        && let Err(e) = prepare(app).await
    {
        tracing::warn!(error = %e, group, "contest standings not prepared before a group commit");
    }
}

/// Builds every configured contest's standings that are not built yet (start-up).
pub async fn prepare(app: &App) -> store::Result<()> {
    for contest in &app.config.contests {
        ensure_built_now(app, contest).await?;
    }
    Ok(())
}

/// Recomputes a contest's standings from the sales (one pass over the sales of its span).
async fn rebuild(app: &App, conn: &mut Conn, contest: &Contest) -> store::Result<()> {
    let id = &contest.id;
    stored::reset(conn, id).await?;
    let everyone: HashMap<PartnerId, Partner> = partners::list(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let (from, to) = (contest.start.to_string(), contest.end.to_string());
    let totals = stored::approved_by_partner(conn, &from, &to).await?;
    let mut customers: HashMap<PartnerId, HashMap<String, i64>> = HashMap::new();
    if contest.metric == Metric::NewCustomers {
        for (partner, name, n) in stored::approved_customers(conn, &from, &to).await? {
            *customers
                .entry(partner)
                .or_default()
                .entry(customer_key(&name))
                .or_default() += n;
        }
    }
    let base_range = base_for_range(contest);
    for (partner_id, (amount, count, at)) in totals {
        let Some(partner) = everyone.get(&partner_id) else {
            continue;
        };
        if !contest.includes(&entrant(partner)) {
            continue;
        }
        let base = match &base_range {
            Some((f, t)) => stored::approved_between(conn, partner_id, f, t).await?,
            None => 0,
        };
        let mut new_customers = 0;
        if let Some(bought) = customers.get(&partner_id) {
            let before: HashSet<String> = stored::customers_before(conn, partner_id, &from)
                .await?
                .iter()
                .map(|c| customer_key(c))
                .collect();
            for (key, n) in bought {
                let is_new = !before.contains(key);
                new_customers += i64::from(is_new && *n > 0);
                stored::put_customer(conn, id, partner_id, key, *n, is_new).await?;
            }
        }
        let facts = Facts {
            amount_minor: amount,
            count,
            base_minor: base,
            target_minor: target_for(app, contest, partner),
            new_customers,
        };
        stored::put(conn, id, partner_id, &facts, at).await?;
    }
    Ok(())
}

/// A change of approved sales by one sale, as the ledger sees it.
#[derive(Clone, Copy, Debug)]
pub struct SaleChange<'a> {
    pub partner: PartnerId,
    /// The sale's local date.
    pub date: NaiveDate,
    /// The customer as written.
    pub customer: &'a str,
    /// Approved minor units added (negative: removed).
    pub amount_minor: i64,
    /// Approved sales added (+1, -1).
    pub count: i64,
}

/// Moves the standings of every running contest the change belongs to, on `conn` (the sale's
/// transaction). Contests that ended keep their standings: a correction after the end (or after
/// a period lock) moves only those still running.
pub async fn on_sale_change(
    app: &App,
    conn: &mut Conn,
    change: SaleChange<'_>,
    now: i64,
) -> store::Result<()> {
    if change.amount_minor == 0 && change.count == 0 {
        return Ok(());
    }
    let today = app.local_date(now);
    let mut partner: Option<Partner> = None;
    for contest in running(app, today) {
        let counts = contest.counts(change.date);
        let in_base = contest.in_base(change.date);
        if !counts && !in_base {
            continue;
        }
        if ensure_built(app, conn, contest, now).await? {
            // Built from the sales as they are now: this change is counted already.
            continue;
        }
        if partner.is_none() {
            partner = partners::get(conn, change.partner).await?;
        }
        let Some(p) = &partner else { return Ok(()) };
        if !contest.includes(&entrant(p)) {
            continue;
        }
        if in_base {
            stored::add_base(conn, &contest.id, p.id, change.amount_minor).await?;
        }
        if !counts {
            continue;
        }
        let mut new_customers = 0;
        if contest.metric == Metric::NewCustomers {
            let key = customer_key(change.customer);
            let (after, known) =
                stored::bump_customer(conn, &contest.id, p.id, &key, change.count).await?;
            let is_new = match known {
                Some(is_new) => is_new,
                None => {
                    let start = contest.start.to_string();
                    let before = stored::customers_before(conn, p.id, &start).await?;
                    let is_new = !before.iter().any(|c| customer_key(c) == key);
                    stored::set_customer_new(conn, &contest.id, p.id, &key, is_new).await?;
                    is_new
                }
            };
            let before = after - change.count;
            if is_new {
                new_customers = i64::from(after > 0) - i64::from(before > 0);
            }
        }
        let moves_value = match contest.metric {
            Metric::SalesCount => change.count != 0,
            Metric::NewCustomers => new_customers != 0,
            _ => change.amount_minor != 0,
        };
        let bump = Bump {
            amount_minor: change.amount_minor,
            count: change.count,
            new_customers,
            moves_value,
        };
        if !stored::bump(conn, &contest.id, p.id, bump, now).await? {
            let base = match base_for_range(contest) {
                Some((f, t)) => stored::approved_between(conn, p.id, &f, &t).await?,
                None => 0,
            };
            let target = target_for(app, contest, p);
            stored::initialize(conn, &contest.id, p.id, base, target).await?;
        }
    }
    Ok(())
}

/// The board of a contest for `me` (after making sure it is built).
pub async fn board(
    app: &App,
    conn: &mut Conn,
    contest: &Contest,
    me: Option<PartnerId>,
) -> store::Result<ContestBoard> {
    ensure_built_now(app, contest).await?;
    app.contests
        .boards
        .board(conn, &contest.id, rule(app, contest), me, TOP)
        .await
}

/// Whether a partner competes in a contest.
pub async fn includes(
    conn: &mut Conn,
    contest: &Contest,
    partner: PartnerId,
) -> store::Result<bool> {
    // Everyone competes: no need to read the partner (the hot path of `/rank <contest>`).
    if contest.scope == crate::engine::contest::Scope::Everyone {
        return Ok(true);
    }
    Ok(partners::get(conn, partner)
        .await?
        .is_some_and(|p| contest.includes(&entrant(&p))))
}

/// A value as a message line of a board: `{place}. {partner} — {value}` in the metric's words.
pub fn board_line(app: &App, rule: &Rule, place: u64, partner: &str, facts: &Facts) -> Msg {
    let (key, value) = shown(app, rule.shown(facts));
    Msg::new(key)
        .int("place", place as i64)
        .text("partner", partner)
        .text("value", value)
}

/// The message key and formatted value of a shown value.
pub fn shown(app: &App, shown: Shown) -> (&'static str, String) {
    match shown {
        Shown::Money(m) => ("contest-line-money", app.program_money(m)),
        Shown::Count(n) => ("contest-line-count", n.to_string()),
        Shown::Customers(n) => ("contest-line-customers", n.to_string()),
        Shown::Growth(ppm) => ("contest-line-growth", contest::percent(ppm, true)),
        Shown::Attainment(ppm) => ("contest-line-attainment", contest::percent(ppm, false)),
        Shown::NoBase(m) => ("contest-line-nobase", app.program_money(m)),
        Shown::NoTarget(m) => ("contest-line-notarget", app.program_money(m)),
    }
}

/// Days left in a running contest, counting today.
pub fn days_left(contest: &Contest, today: NaiveDate) -> i64 {
    (contest.end - today).num_days() + 1
}

/// The instant a contest is over: the start of the day after its end, program time.
pub fn ends_at(app: &App, contest: &Contest) -> i64 {
    let next = contest.end + chrono::Duration::days(1);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    app.config
        .program
        .timezone
        .from_local_datetime(&midnight)
        .earliest()
        .map_or(i64::MAX, |t| t.timestamp_millis())
}

// --- posts -----------------------------------------------------------------------------------

/// The standings post of a contest: the top 10 as text (and, with `chart`, an image id).
pub fn standings_reply(
    app: &App,
    contest: &Contest,
    board: &ContestBoard,
    today: NaiveDate,
    chart: Option<i64>,
) -> Reply {
    let r = rule(app, contest);
    // Posts are rendered in the program's language (see `post_to_chats`).
    let mut reply = Reply::here(
        Msg::new("contest-post-header")
            .text("contest", post_name(app, contest))
            .int("days", days_left(contest, today))
            .int("partners", board.participants as i64),
    );
    if board.top.is_empty() {
        reply = reply.line(Msg::new("contest-board-empty"));
    }
    for (place, _, name, facts) in &board.top {
        reply = reply.line(board_line(app, &r, *place, name, facts));
    }
    reply.chart = chart;
    reply
}

/// The contest's name in the program's language (posts are rendered in it).
fn post_name<'a>(app: &App, contest: &'a Contest) -> &'a str {
    contest.display_name(app.config.program.default_locale == crate::config::Locale::ZhCn)
}

/// Enqueues `reply` for the contest's chats (all program chats, or a region's and those bound
/// without one), on both platforms, each keyed `<key>:chat:…`. Returns how many chats.
pub async fn post_to_chats(
    app: &App,
    conn: &mut Conn,
    contest: &Contest,
    key: &str,
    reply: &Reply,
) -> store::Result<usize> {
    let now = app.now();
    let locale = app.config.program.default_locale;
    let reply_json =
        serde_json::to_string(reply).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut chats = 0;
    for chat in runs::program_chats(&mut *conn).await? {
        let wanted = match (&contest.chats, &chat.region) {
            (ContestChats::All, _) | (ContestChats::Region(_), None) => true,
            (ContestChats::Region(wanted), Some(region)) => wanted.eq_ignore_ascii_case(region),
        };
        if !wanted {
            continue;
        }
        let message = NewOutgoing {
            dedupe_key: format!("{key}:chat:{}:{}", chat.platform, chat.chat_id),
            platform: chat.platform,
            target: chat.chat_id,
            member_id: None,
            reply_json: reply_json.clone(),
            locale: locale.tag().into(),
            broadcast_id: None,
        };
        rows::enqueue(&mut *conn, &message, now).await?;
        chats += 1;
    }
    app.outbox_wake.notify_waiters();
    Ok(chats)
}

/// Draws the chart of a board and stores it; `None` (logged) if drawing failed — the text goes
/// out anyway.
pub async fn store_chart(
    app: &App,
    conn: &mut Conn,
    contest: &Contest,
    board: &ContestBoard,
    today: NaiveDate,
) -> store::Result<Option<i64>> {
    let png = match super::chart::render(app, contest, board, today) {
        Ok(png) => png,
        Err(e) => {
            tracing::error!(contest = %contest.id, error = %e, "contest chart not drawn");
            return Ok(None);
        }
    };
    Ok(Some(
        stored::insert_image(conn, "image/png", &png, app.now()).await?,
    ))
}

/// Runs the contest jobs that are due: update posts at each `updates` due time while a contest
/// runs, and the end of each contest once it is over. Each due time once across instances (a
/// run row claimed in the transaction that does the work). Returns how many ran.
pub async fn run_due(app: &App, owner: &str) -> anyhow::Result<usize> {
    let mut ran = 0;
    for contest in &app.config.contests {
        ran += usize::from(post_update_if_due(app, owner, contest).await?);
        ran += usize::from(finish_if_due(app, owner, contest).await?);
    }
    Ok(ran)
}

async fn post_update_if_due(app: &App, owner: &str, contest: &Contest) -> anyhow::Result<bool> {
    let Some(updates) = &contest.updates else {
        return Ok(false);
    };
    let now = app.now();
    let today = app.local_date(now);
    if contest.phase(today) != Phase::Running {
        return Ok(false);
    }
    let job = format!("contest-updates:{}", contest.id);
    let mut conn = app.store.read().await?;
    let first_seen = runs::first_seen(&mut conn, &job, now).await?;
    let since = runs::last_due(&mut conn, &job)
        .await?
        .map_or(first_seen, |last| last.max(first_seen));
    drop(conn);
    let catch_up_ms = i64::from(app.config.jobs.catch_up_hours) * 3_600_000;
    let tz = app.config.program.timezone;
    let plan = schedule::plan_due(updates, tz, since, now, catch_up_ms);
    let mut conn = app.store.read().await?;
    for missed in &plan.skipped {
        runs::skip(
            &mut conn,
            &job,
            *missed,
            "missed while no instance ran",
            now,
        )
        .await?;
    }
    let Some(due) = plan.run else {
        return Ok(false);
    };
    let board = board(app, &mut conn, contest, None).await?;
    drop(conn);
    let mut tx = app.store.begin().await?;
    if !runs::claim(&mut tx, &job, due, owner, now, now).await? {
        return Ok(false);
    }
    let chart = store_chart(app, &mut tx, contest, &board, today).await?;
    let reply = standings_reply(app, contest, &board, today, chart);
    let chats = post_to_chats(app, &mut tx, contest, &format!("{job}:{due}"), &reply).await?;
    let detail = format!("standings posted to {chats} chats");
    runs::finish(&mut tx, &job, due, owner, RunStatus::Done, &detail, now).await?;
    tx.commit().await?;
    tracing::info!(contest = %contest.id, due, %detail, "contest update");
    Ok(true)
}

/// One place of an archived board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalStanding {
    pub place: u64,
    pub partner_id: i64,
    pub partner: String,
    pub amount_minor: i64,
    pub count: i64,
    pub base_minor: i64,
    pub target_minor: Option<i64>,
    pub new_customers: i64,
}

impl FinalStanding {
    pub fn facts(&self) -> Facts {
        Facts {
            amount_minor: self.amount_minor,
            count: self.count,
            base_minor: self.base_minor,
            target_minor: self.target_minor,
            new_customers: self.new_customers,
        }
    }
}

/// The period a prize of a contest lands in: the one the contest ends in, or the next open
/// one if that is closed already.
async fn prize_period(app: &App, conn: &mut Conn, contest: &Contest) -> store::Result<Period> {
    let mut period = Period::containing(app.config.program.period, contest.end);
    while statements::is_closed(conn, &period.key()).await? {
        period = period.next();
    }
    Ok(period)
}

async fn finish_if_due(app: &App, owner: &str, contest: &Contest) -> anyhow::Result<bool> {
    let now = app.now();
    let due = ends_at(app, contest);
    if now < due {
        return Ok(false);
    }
    let job = format!("contest-end:{}", contest.id);
    let mut conn = app.store.read().await?;
    if runs::last_due(&mut conn, &job).await? == Some(due) {
        return Ok(false);
    }
    drop(conn);
    let finished = finish(app, owner, contest, &job, due).await?;
    Ok(finished)
}

/// Ends a contest: archives the final board, books the prizes (once per place), announces the
/// winners. All in one transaction with the claim of the end job's run, so a second run — or a
/// second instance — finds it done and changes nothing.
pub async fn finish(
    app: &App,
    owner: &str,
    contest: &Contest,
    job: &str,
    due: i64,
) -> anyhow::Result<bool> {
    let now = app.now();
    ensure_built_now(app, contest).await?;
    let mut tx = app.store.begin().await?;
    if !runs::claim(&mut tx, job, due, owner, now, now).await? {
        return Ok(false);
    }
    let r = rule(app, contest);
    let all = app.contests.boards.all(&mut tx, &contest.id, r).await?;
    let ids: Vec<PartnerId> = all.iter().map(|(_, p, _)| *p).collect();
    let names = store::totals::partner_names(&mut tx, &ids).await?;
    let standings: Vec<FinalStanding> = all
        .iter()
        .map(|(place, p, f)| FinalStanding {
            place: *place,
            partner_id: p.0,
            partner: names.get(p).cloned().unwrap_or_default(),
            amount_minor: f.amount_minor,
            count: f.count,
            base_minor: f.base_minor,
            target_minor: f.target_minor,
            new_customers: f.new_customers,
        })
        .collect();
    let archived = stored::archive(
        &mut tx,
        &Archived {
            contest_id: contest.id.clone(),
            name: contest.name.clone(),
            name_zh: contest.name_zh.clone(),
            metric: contest.metric.as_str().to_string(),
            start: contest.start.to_string(),
            end: contest.end.to_string(),
            participants: standings.len() as i64,
            standings: serde_json::to_string(&standings)?,
            archived_at: now,
        },
    )
    .await?;
    let placed: Vec<Placed> = all
        .iter()
        .map(|(place, p, f)| Placed {
            place: u32::try_from(*place).unwrap_or(u32::MAX),
            partner: *p,
            facts: *f,
        })
        .collect();
    let period = prize_period(app, &mut tx, contest).await?;
    let currency = app.config.program.currency;
    let mut booked = 0;
    let mut reply =
        Reply::here(Msg::new("contest-final-header").text("contest", post_name(app, contest)));
    for (prize, partner) in contest::winners(contest, &placed) {
        let (amount_minor, reward) = match &prize.award {
            Award::Money(a) => (Money::new(*a, currency).round().to_minor().ok(), None),
            Award::Reward(r) => (None, Some(r.clone())),
        };
        let name = names.get(&partner).cloned().unwrap_or_default();
        let prize_row = BookedPrize {
            contest_id: contest.id.clone(),
            place: prize.rank,
            partner,
            contest_name: contest.name.clone(),
            amount_minor,
            reward: reward.clone(),
            period: period.key(),
        };
        booked += usize::from(stored::book_prize(&mut tx, &prize_row, now).await?);
        let won = match (amount_minor, reward) {
            (Some(m), _) => app.program_money(m),
            (None, Some(r)) => r,
            (None, None) => String::new(),
        };
        reply = reply.line(
            Msg::new("contest-winner")
                .int("place", i64::from(prize.rank))
                .text("partner", name)
                .text("prize", won),
        );
    }
    if placed.is_empty() {
        reply = reply.line(Msg::new("contest-board-empty"));
    }
    // Community (issue 11): podium points and badges, once per contest (the ledger's key).
    let places: Vec<(u32, PartnerId)> = placed.iter().map(|p| (p.place, p.partner)).collect();
    crate::features::community::points::on_contest_finished(
        app,
        &mut tx,
        &contest.id,
        &places,
        now,
    )
    .await?;
    let mut chats = 0;
    if archived {
        chats = post_to_chats(app, &mut tx, contest, &format!("{job}:{due}"), &reply).await?;
    }
    let detail = format!(
        "archived {} standings, booked {booked} prizes, announced to {chats} chats",
        standings.len()
    );
    runs::finish(&mut tx, job, due, owner, RunStatus::Done, &detail, now).await?;
    tx.commit().await?;
    tracing::info!(contest = %contest.id, %detail, "contest ended");
    Ok(true)
}

/// The final board of an archived contest.
pub fn final_standings(archived: &Archived) -> store::Result<Vec<FinalStanding>> {
    serde_json::from_str(&archived.standings)
        .map_err(|e| StoreError::Corrupt(format!("archive of {}: {e}", archived.contest_id)))
}

/// A partner's money prizes for a statement period: (contest name, place, minor units).
pub async fn prizes_for_statement(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
) -> store::Result<Vec<(String, u32, i64)>> {
    Ok(stored::money_prizes(conn, partner, period)
        .await?
        .into_iter()
        .filter_map(|p| Some((p.contest_name, p.place, p.amount_minor?)))
        .collect())
}
