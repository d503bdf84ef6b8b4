//! Broadcasts as a service: deliver a message to the program chats and members an audience
//! selects (through the outbox, in the caller's transaction), send or schedule a manager's
//! broadcast, run scheduled ones when due, and report deliveries to the author.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::engine::broadcast::{AudienceFilter, When, next_at};
use crate::engine::ids::MemberId;
use crate::engine::partner::{PartnerKind, Platform};
use crate::engine::schedule::{CronSchedule, Recipients};
use crate::outbox;
use crate::store::broadcasts::{self as stored, Broadcast, BroadcastStatus};
use crate::store::jobs::{self as runs, RunStatus};
use crate::store::outbox::{self as rows, NewOutgoing};
use crate::store::{self, members};

/// The audience as stored with a broadcast.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct StoredAudience {
    region: Option<String>,
    tier: Option<String>,
    kind: Option<String>,
    platform: Option<String>,
    to: String,
}

fn audience_json(filter: &AudienceFilter, to: Recipients) -> String {
    let stored = StoredAudience {
        region: filter.region.clone(),
        tier: filter.tier.clone(),
        kind: filter.kind.map(|k| k.as_str().to_string()),
        platform: filter.platform.map(|p| p.as_str().to_string()),
        to: to.as_str().to_string(),
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

fn audience_of(broadcast: &Broadcast) -> (AudienceFilter, Recipients) {
    let stored: StoredAudience = serde_json::from_str(&broadcast.audience).unwrap_or_default();
    let filter = AudienceFilter {
        region: stored.region,
        tier: stored.tier,
        kind: stored.kind.as_deref().and_then(PartnerKind::parse),
        platform: stored.platform.as_deref().and_then(Platform::parse),
    };
    (filter, Recipients::parse(&stored.to).unwrap_or_default())
}

/// Enqueues `reply` for the program chats and/or members `filter` selects, on the caller's
/// connection (its transaction), each row keyed `<key>:…` so a repeat adds nothing; counted
/// under `broadcast_id` when given. Returns (chats, members) reached.
pub async fn deliver(
    app: &App,
    conn: &mut store::Conn,
    key: &str,
    reply: &Reply,
    filter: &AudienceFilter,
    to: Recipients,
    broadcast_id: Option<i64>,
) -> store::Result<(usize, usize)> {
    let now = app.now();
    let locale = app.config.program.default_locale;
    let reply_json =
        serde_json::to_string(reply).map_err(|e| store::StoreError::Corrupt(e.to_string()))?;
    let mut chats = 0;
    if to.chats() {
        for chat in runs::program_chats(&mut *conn).await? {
            let region_matches = match (&filter.region, &chat.region) {
                (Some(wanted), Some(region)) => wanted.eq_ignore_ascii_case(region),
                _ => true,
            };
            let platform_matches = filter.platform.is_none_or(|p| p.as_str() == chat.platform);
            if !region_matches || !platform_matches {
                continue;
            }
            let message = NewOutgoing {
                dedupe_key: format!("{key}:chat:{}:{}", chat.platform, chat.chat_id),
                platform: chat.platform,
                target: chat.chat_id,
                member_id: None,
                reply_json: reply_json.clone(),
                locale: locale.tag().into(),
                broadcast_id,
            };
            rows::enqueue(&mut *conn, &message, now).await?;
            chats += 1;
        }
    }
    let mut reached = 0;
    if to.members() {
        for member in members::audience(&mut *conn, filter).await? {
            let dedupe = format!("{key}:member:{member}");
            let personal = reply.clone();
            // Terminal members (the demo) have no platform to be reached on later.
            // A broadcast for one platform stays there; otherwise the person's choice counts.
            let routing = match filter.platform {
                Some(_) => outbox::Routing::ToThisAccount,
                None => outbox::Routing::ToPerson,
            };
            let queued = outbox::enqueue_for_member(
                app,
                conn,
                member,
                routing,
                personal,
                dedupe,
                broadcast_id,
                now,
            )
            .await?
            .is_none();
            reached += usize::from(queued);
        }
    }
    app.outbox_wake.notify_waiters();
    Ok((chats, reached))
}

/// The message a broadcast's text is sent as.
fn announcement(text: &str) -> Reply {
    Reply::here(Msg::new("announcement").text("text", text))
}

/// A manager's broadcast, sent now: stored and enqueued on `conn` (the command's transaction).
/// Returns its id and the (chats, members) it reaches.
pub async fn send_now(
    app: &App,
    conn: &mut store::Conn,
    author: MemberId,
    text: &str,
    filter: &AudienceFilter,
    to: Recipients,
) -> store::Result<(i64, usize, usize)> {
    let now = app.now();
    let audience = audience_json(filter, to);
    let id = stored::insert(
        &mut *conn,
        Some(author),
        text,
        &audience,
        None,
        None,
        BroadcastStatus::Sent,
        now,
    )
    .await?;
    let key = format!("broadcast:{id}");
    let (chats, members) =
        deliver(app, conn, &key, &announcement(text), filter, to, Some(id)).await?;
    Ok((id, chats, members))
}

/// Why a schedule was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("that time is in the past")]
    InThePast,
    #[error("that time does not exist on the program clock")]
    NoSuchTime,
}

/// A manager's broadcast for later: `HH:MM` (next occurrence), a date and time, or every match
/// of a cron expression, on the program clock. Returns its id and first due time.
pub async fn schedule(
    app: &App,
    conn: &mut store::Conn,
    author: MemberId,
    when: &When,
    text: &str,
    filter: &AudienceFilter,
    to: Recipients,
) -> store::Result<Result<(i64, i64), ScheduleError>> {
    let now = app.now();
    let tz = app.config.program.timezone;
    let local_now = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&tz)
        .naive_local();
    let to_instant = |wall: chrono::NaiveDateTime| {
        use chrono::TimeZone;
        tz.from_local_datetime(&wall)
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    let (cron, due) = match when {
        When::Time(time) => match to_instant(next_at(*time, local_now)) {
            Some(due) => (None, due),
            None => return Ok(Err(ScheduleError::NoSuchTime)),
        },
        When::At(wall) => match to_instant(*wall) {
            Some(due) if due > now => (None, due),
            Some(_) => return Ok(Err(ScheduleError::InThePast)),
            None => return Ok(Err(ScheduleError::NoSuchTime)),
        },
        When::Cron(schedule) => match schedule.due_after(tz, now).next() {
            Some(due) => (Some(schedule.expression().to_string()), due),
            None => return Ok(Err(ScheduleError::NoSuchTime)),
        },
    };
    let audience = audience_json(filter, to);
    let id = stored::insert(
        conn,
        Some(author),
        text,
        &audience,
        cron.as_deref(),
        (cron.is_none()).then_some(due),
        BroadcastStatus::Scheduled,
        now,
    )
    .await?;
    app.outbox_wake.notify_waiters();
    Ok(Ok((id, due)))
}

/// The next due time of a scheduled broadcast after `after_ms`.
pub fn next_due(app: &App, broadcast: &Broadcast, after_ms: i64) -> Option<i64> {
    match (&broadcast.schedule, broadcast.due_at) {
        (Some(cron), _) => cron
            .parse::<CronSchedule>()
            .ok()?
            .due_after(app.config.program.timezone, after_ms)
            .next(),
        (None, due) => due,
    }
}

/// Sends the scheduled broadcasts that are due, each due time once across instances (a run row
/// per broadcast and due time). Returns how many this instance sent.
pub async fn send_due(app: &App, owner: &str) -> store::Result<usize> {
    let now = app.now();
    let mut conn = app.store.read().await?;
    let due_list = stored::scheduled(&mut conn).await?;
    drop(conn);
    let mut sent = 0;
    for broadcast in due_list {
        let job = format!("broadcast:{}", broadcast.id);
        let mut conn = app.store.read().await?;
        let since = runs::last_due(&mut conn, &job)
            .await?
            .unwrap_or(broadcast.created_at);
        drop(conn);
        let due = match (&broadcast.schedule, broadcast.due_at) {
            (Some(_), _) => next_due(app, &broadcast, since).filter(|d| *d <= now),
            (None, Some(due)) if due <= now => Some(due),
            _ => None,
        };
        let Some(due) = due else { continue };
        // The claim, the deliveries and the run's end commit together: a crash sends nothing
        // and leaves the due time to the next look.
        let mut tx = app.store.begin().await?;
        if !runs::claim(&mut tx, &job, due, owner, now, now).await? {
            continue;
        }
        let (filter, to) = audience_of(&broadcast);
        let key = format!("{job}:{due}");
        let (chats, members) = deliver(
            app,
            &mut tx,
            &key,
            &announcement(&broadcast.text),
            &filter,
            to,
            Some(broadcast.id),
        )
        .await?;
        let detail = format!("sent to {chats} chats and {members} members");
        runs::finish(&mut tx, &job, due, owner, RunStatus::Done, &detail, now).await?;
        if broadcast.schedule.is_none() {
            stored::set_status(
                &mut tx,
                broadcast.id,
                BroadcastStatus::Scheduled,
                BroadcastStatus::Sent,
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(broadcast = broadcast.id, due, late_ms = now - due, %detail, "scheduled broadcast sent");
        sent += 1;
    }
    Ok(sent)
}

/// Cancels a scheduled broadcast; `false` if there is none by that id waiting.
pub async fn cancel(conn: &mut store::Conn, id: i64) -> store::Result<bool> {
    stored::set_status(
        conn,
        id,
        BroadcastStatus::Scheduled,
        BroadcastStatus::Cancelled,
    )
    .await
}

/// When every delivery of a broadcast so far is settled (sent or failed) and some were not
/// reported yet, tells the author: "sent 124, failed 2 (blocked the bot: 2)". One instance
/// reports each batch.
pub async fn report_if_delivered(app: &App, broadcast_id: i64) -> store::Result<()> {
    // Cheap first look on a read connection: most calls come while rows are still pending.
    let mut conn = app.store.read().await?;
    if rows::has_pending(&mut conn, broadcast_id).await? {
        return Ok(());
    }
    drop(conn);
    let mut tx = app.store.begin().await?;
    let tally = rows::tally(&mut tx, broadcast_id).await?;
    if tally.pending > 0 {
        return Ok(());
    }
    let Some(broadcast) = stored::get(&mut tx, broadcast_id).await? else {
        return Ok(());
    };
    let Some(author) = broadcast.author else {
        return Ok(());
    };
    if !stored::claim_report(&mut tx, broadcast_id, tally.total()).await? {
        return Ok(());
    }
    let report = Reply::here(
        Msg::new("broadcast-report")
            .int("id", broadcast_id)
            .int("sent", tally.sent)
            .int("failed", tally.failed)
            .int("refused", tally.refused),
    );
    let key = format!("broadcast-report:{broadcast_id}:{}", tally.total());
    outbox::enqueue_notice(app, &mut tx, author, report, key, app.now()).await?;
    tx.commit().await?;
    Ok(())
}
