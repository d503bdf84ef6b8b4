//! Success stories: stored, posted to the partner's program chats with reaction buttons
//! (👏 🔥 💡, one of each per member, a second press takes it back), listed, featured (points),
//! hidden (moderation), and the week's most reacted posted by the `story-of-week` job.
//!
//! Every post shows the story's current counts: each one is remembered when the outbox sends
//! it (`story_posts`), and a change of counts (a button press on either platform, a Telegram
//! reaction) enqueues, in its own transaction, an edit of the story's other posts. The sender
//! renders the counts when it delivers ([`with_current_counts`]), so an edit is never stale and
//! one waiting edit per post covers a burst of presses.

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::engine::audit::AuditAction;
use crate::engine::ids::MemberId;
use crate::engine::partner::Member;
use crate::engine::points::SourceKind;
use crate::engine::schedule;
use crate::features::community::{badges, points};
use crate::store::jobs::{self as runs, RunStatus};
use crate::store::stories::{self as stored, Post, Story};
use crate::store::{self, Conn, audit, partners};

/// Longest story, in characters: it must fit a Telegram photo caption (1,024) and a Discord
/// message (2,000) with its header, on both platforms.
pub const MAX_STORY_CHARS: usize = 900;

/// The scheduler's name for the story of the week.
pub const STORY_OF_WEEK_JOB: &str = "story-of-week";

/// The reactions a story takes, as stored and as shown.
pub const REACTIONS: [(&str, &str); 3] = [("clap", "👏"), ("fire", "🔥"), ("idea", "💡")];

/// The emoji of a reaction kind, or the kind of an emoji (Telegram's own reactions).
pub fn reaction_kind(word: &str) -> Option<&'static str> {
    REACTIONS
        .iter()
        .find(|(kind, emoji)| word.eq_ignore_ascii_case(kind) || word == *emoji)
        .map(|(kind, _)| *kind)
}

/// The reaction buttons with their counts (`👏 3`).
pub async fn buttons(conn: &mut Conn, story: i64) -> store::Result<Vec<(Msg, String)>> {
    let counts = stored::reaction_counts(conn, story).await?;
    Ok(REACTIONS
        .iter()
        .map(|(kind, emoji)| {
            let n = counts
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(0, |(_, n)| *n);
            (
                Msg::new("story-button")
                    .text("emoji", *emoji)
                    .int("count", n),
                format!("/react {story} {kind}"),
            )
        })
        .collect())
}

/// The post of a story (`header` names what it is: a new story, featured, of the week).
async fn post(conn: &mut Conn, story: &Story, header: &str) -> store::Result<Reply> {
    let partner = partners::get(&mut *conn, story.partner)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let author = store::members::get(&mut *conn, story.member)
        .await?
        .map(|m| m.display_name)
        .unwrap_or_default();
    let mut reply = Reply::here(
        Msg::new(header)
            .int("story", story.id)
            .text("partner", partner)
            .text("author", author),
    )
    .line(Msg::new("story-text").text("text", &story.text));
    for (label, action) in buttons(conn, story.id).await? {
        reply = reply.button(label, action);
    }
    Ok(reply)
}

/// Posts a story to its partner's program chats; its picture goes only to chats on the
/// platform it came from (a Telegram file id means nothing to Discord, and back).
async fn post_to_chats(
    app: &App,
    conn: &mut Conn,
    story: &Story,
    header: &str,
    key: &str,
    now: i64,
) -> store::Result<usize> {
    let reply = post(conn, story, header).await?;
    let with_image = reply.clone().with_image(story.image.clone());
    let region = partners::get(&mut *conn, story.partner)
        .await?
        .and_then(|p| p.region);
    let mut chats = 0;
    for chat in runs::program_chats(&mut *conn).await? {
        if !super::covers(&chat, region.as_deref()) {
            continue;
        }
        let shown = if chat.platform == story.platform {
            &with_image
        } else {
            &reply
        };
        super::enqueue_to_chat(app, conn, chat, key, shown, now).await?;
        chats += 1;
    }
    if chats > 0 {
        app.outbox_wake.notify_waiters();
    }
    Ok(chats)
}

/// Why a story is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoryRefusal {
    Empty,
    TooLong,
    NoPartner,
}

/// Stores a member's story and posts it: the new story's id and how many chats it went to.
pub async fn share(
    app: &App,
    conn: &mut Conn,
    author: &Member,
    text: &str,
    image: Option<&str>,
    key: &str,
    now: i64,
) -> store::Result<Result<(i64, usize), StoryRefusal>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Err(StoryRefusal::Empty));
    }
    if text.chars().count() > MAX_STORY_CHARS {
        return Ok(Err(StoryRefusal::TooLong));
    }
    let Some(partner) = author.partner_id else {
        return Ok(Err(StoryRefusal::NoPartner));
    };
    let platform = author.platform.as_str();
    let id = stored::insert(&mut *conn, partner, author.id, text, image, platform, now).await?;
    let Some(story) = stored::get(&mut *conn, id).await? else {
        return Err(store::StoreError::Corrupt(format!("story {id} vanished")));
    };
    let chats = post_to_chats(app, conn, &story, "story-post", key, now).await?;
    Ok(Ok((id, chats)))
}

/// A member pressed a reaction: toggled; returns whether it is now on. The story's other posts
/// are brought up to date through the outbox; `pressed` (the post whose button it was, if
/// known) is not: the platform adapter shows the new counts on it at once.
pub async fn react(
    app: &App,
    conn: &mut Conn,
    story: i64,
    member: MemberId,
    kind: &str,
    pressed: Option<&Post>,
    now: i64,
) -> store::Result<bool> {
    let on = stored::toggle_reaction(&mut *conn, story, member, kind, now).await?;
    update_posts(app, conn, story, pressed, now).await?;
    Ok(on)
}

/// Enqueues an edit of every remembered post of `story` but `except` to the current counts.
/// Coalesced per post: while an edit of it waits, none is added (the sender renders the counts
/// when it delivers). Returns the edits added.
pub async fn update_posts(
    app: &App,
    conn: &mut Conn,
    story: i64,
    except: Option<&Post>,
    now: i64,
) -> store::Result<usize> {
    let posts = stored::posts_of(&mut *conn, story).await?;
    if posts.iter().all(|p| Some(p) == except) {
        return Ok(0);
    }
    let mut reply = Reply::button_refresh();
    for (label, action) in buttons(&mut *conn, story).await? {
        reply = reply.button(label, action);
    }
    let reply_json =
        serde_json::to_string(&reply).map_err(|e| store::StoreError::Corrupt(e.to_string()))?;
    let locale = app.config.program.default_locale;
    let mut added = 0;
    for post in posts.iter().filter(|p| Some(*p) != except) {
        let edit = store::outbox::NewOutgoing {
            // Unique per edit: a change while the last edit is in flight needs one more.
            dedupe_key: format!(
                "story-counts:{story}:{}:{}:{}:{:016x}",
                post.platform,
                post.chat_id,
                post.message_id,
                rand::random::<u64>()
            ),
            platform: post.platform.clone(),
            target: post.chat_id.clone(),
            member_id: None,
            reply_json: reply_json.clone(),
            locale: locale.tag().into(),
            broadcast_id: None,
        };
        if store::outbox::enqueue_edit(&mut *conn, &edit, &post.message_id, now).await? {
            added += 1;
        }
    }
    if added > 0 {
        app.outbox_wake.notify_waiters();
    }
    Ok(added)
}

/// The story a reply is a post (or an edit of a post) of: every button is one of its
/// reactions.
pub fn post_of(reply: &Reply) -> Option<i64> {
    let story = story_of(reply)?;
    let prefix = format!("/react {story} ");
    reply
        .buttons
        .iter()
        .all(|b| b.action.starts_with(&prefix))
        .then_some(story)
}

/// `reply` (a post of `story`) with the reaction buttons showing the counts as they are now.
pub async fn with_current_counts(
    conn: &mut Conn,
    story: i64,
    mut reply: Reply,
) -> store::Result<Reply> {
    reply.buttons.clear();
    for (label, action) in buttons(conn, story).await? {
        reply = reply.button(label, action);
    }
    Ok(reply)
}

/// Forgets a post whose message is gone (deleted in its chat): later counts skip it.
pub async fn forget_post(
    conn: &mut Conn,
    platform: &str,
    chat: &str,
    message: &str,
) -> store::Result<()> {
    stored::remove_post(conn, platform, chat, message).await?;
    Ok(())
}

/// Features a story: re-posted as featured, points to its partner (once), badges. `false` if
/// it was featured before.
pub async fn feature(
    app: &App,
    conn: &mut Conn,
    story: &Story,
    by: MemberId,
    now: i64,
) -> store::Result<bool> {
    if !stored::feature(&mut *conn, story.id, now).await? {
        return Ok(false);
    }
    let key = story.id.to_string();
    let reason = format!("story #{} featured", story.id);
    let featured = app.config.points.featured_story;
    points::award(
        conn,
        story.partner,
        Some(story.member),
        featured,
        &reason,
        SourceKind::StoryFeatured,
        &key,
        now,
    )
    .await?;
    badges::check(app, conn, story.partner, badges::Trigger::Any, now).await?;
    let detail = serde_json::json!({ "story": story.id, "partner": story.partner.0 });
    let target = format!("story {}", story.id);
    audit::record(
        conn,
        Some(by),
        AuditAction::StoryFeature,
        &target,
        None,
        Some(&detail),
        now,
    )
    .await?;
    let key = format!("story-featured:{}", story.id);
    post_to_chats(app, conn, story, "story-featured", &key, now).await?;
    Ok(true)
}

/// Hides a story from every list and job (moderation, audited); nothing is posted.
pub async fn hide(conn: &mut Conn, story: &Story, by: MemberId, now: i64) -> store::Result<bool> {
    if !stored::hide(&mut *conn, story.id, by, now).await? {
        return Ok(false);
    }
    let detail = serde_json::json!({ "story": story.id, "partner": story.partner.0 });
    let target = format!("story {}", story.id);
    audit::record(
        conn,
        Some(by),
        AuditAction::StoryHide,
        &target,
        None,
        Some(&detail),
        now,
    )
    .await?;
    Ok(true)
}

/// Runs the story of the week when due (`[stories] story_of_week`), once per due time across
/// instances; returns the runs made.
pub async fn run_due(app: &App, owner: &str) -> anyhow::Result<usize> {
    let now = app.now();
    let mut conn = app.store.read().await?;
    let first_seen = runs::first_seen(&mut conn, STORY_OF_WEEK_JOB, now).await?;
    let since = runs::last_due(&mut conn, STORY_OF_WEEK_JOB)
        .await?
        .map_or(first_seen, |last| last.max(first_seen));
    let catch_up_ms = i64::from(app.config.jobs.catch_up_hours) * 3_600_000;
    let tz = app.config.program.timezone;
    let plan = schedule::plan_due(
        &app.config.stories.story_of_week,
        tz,
        since,
        now,
        catch_up_ms,
    );
    for missed in &plan.skipped {
        let why = "missed while no instance ran";
        runs::skip(&mut conn, STORY_OF_WEEK_JOB, *missed, why, now).await?;
    }
    drop(conn);
    let Some(due) = plan.run else {
        return Ok(0);
    };
    Ok(usize::from(story_of_week(app, owner, due).await?))
}

/// The story of the week for the due time `due`: the most reacted visible story of the seven
/// days before it (ties: the earliest), posted to its partner's program chats. The run is
/// claimed in the transaction that posts, so a second run or instance does nothing.
pub async fn story_of_week(app: &App, owner: &str, due: i64) -> anyhow::Result<bool> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    if !runs::claim(&mut tx, STORY_OF_WEEK_JOB, due, owner, now, now).await? {
        return Ok(false);
    }
    let week_ms = 7 * 86_400_000;
    let detail = match stored::most_reacted(&mut tx, due - week_ms, due).await? {
        Some((story, reactions)) => {
            let key = format!("job:{STORY_OF_WEEK_JOB}:{due}");
            let chats = post_to_chats(app, &mut tx, &story, "story-of-week", &key, now).await?;
            format!(
                "story #{} with {reactions} reactions posted to {chats} chats",
                story.id
            )
        }
        None => "no story with reactions this week".to_string(),
    };
    runs::finish(
        &mut tx,
        STORY_OF_WEEK_JOB,
        due,
        owner,
        RunStatus::Done,
        &detail,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%detail, "story of the week");
    Ok(true)
}

/// The story a reply is the post of: the one its reaction buttons name.
pub fn story_of(reply: &Reply) -> Option<i64> {
    reply.buttons.iter().find_map(|b| {
        let mut words = b.action.strip_prefix("/react ")?.split_whitespace();
        words.next()?.parse().ok()
    })
}

/// Records that a platform message is a post of `story` (the outbox, in the transaction that
/// marks the post sent), so Telegram's own reactions on it count and later counts reach it.
pub async fn remember_post(
    conn: &mut Conn,
    platform: &str,
    chat: &str,
    message: &str,
    story: i64,
) -> store::Result<()> {
    stored::add_post(conn, platform, chat, message, story).await
}

/// A platform's own reactions on a message (Telegram's `message_reaction`): when the message
/// is a story's post and the user a member, each (kind, on) is set — idempotent, so a
/// redelivered update changes nothing.
pub async fn platform_reactions(
    app: &App,
    platform: &str,
    chat: &str,
    message: &str,
    user_id: &str,
    changes: &[(&str, bool)],
) {
    if let Err(e) = apply_platform_reactions(app, platform, chat, message, user_id, changes).await {
        tracing::warn!(error = %e, "reaction not counted");
    }
}

async fn apply_platform_reactions(
    app: &App,
    platform: &str,
    chat: &str,
    message: &str,
    user_id: &str,
    changes: &[(&str, bool)],
) -> store::Result<()> {
    let Some(account) = crate::engine::partner::Platform::parse(platform) else {
        return Ok(());
    };
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let Some(story) = stored::story_of_post(&mut tx, platform, chat, message).await? else {
        return Ok(());
    };
    let member = store::members::find(&mut tx, account, user_id).await?;
    let Some(member) = member.filter(|m| m.role.is_some()) else {
        return Ok(());
    };
    if stored::get(&mut tx, story)
        .await?
        .is_none_or(|s| s.hidden_at.is_some())
    {
        return Ok(());
    }
    let mut changed = false;
    for (kind, on) in changes {
        changed |= stored::set_reaction(&mut tx, story, member.id, kind, *on, now).await?;
    }
    // The reacted post's buttons show counts too: every post is brought up to date.
    if changed {
        update_posts(app, &mut tx, story, None, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
