//! Community (issue 11): points, badges and kudos. Points are one append-only ledger, each row
//! unique on its source (a sale, a kudos, a training, a contest, a featured story), so every
//! award is idempotent; badges are pure rules (`engine::badges`) evaluated where their facts
//! change; kudos are thanks between members, posted to the program chats.
pub mod badges;
pub mod chat;
pub mod kudos;
pub mod points;
pub mod stories;

use crate::app::App;
use crate::chat::reply::Reply;
use crate::engine::ids::PartnerId;
use crate::store::jobs as runs;
use crate::store::outbox::{self as rows, NewOutgoing};
use crate::store::{self, Conn, StoreError, partners};

/// Posts `reply` to the program chats of a partner's region (and to those bound without a
/// region), in the caller's transaction; `key` makes each chat's row unique, so a redelivery
/// or a second run posts nothing twice. Returns how many chats it went to.
pub async fn post_to_partner_chats(
    app: &App,
    conn: &mut Conn,
    partner: Option<PartnerId>,
    key: &str,
    reply: &Reply,
    now: i64,
) -> store::Result<usize> {
    let region = match partner {
        Some(p) => partners::get(&mut *conn, p).await?.and_then(|p| p.region),
        None => None,
    };
    post_to_region_chats(app, conn, region.as_deref(), key, reply, now).await
}

/// [`post_to_partner_chats`] for a caller that has read the partner already: the chats that
/// cover `region`.
pub async fn post_to_region_chats(
    app: &App,
    conn: &mut Conn,
    region: Option<&str>,
    key: &str,
    reply: &Reply,
    now: i64,
) -> store::Result<usize> {
    let mut chats = 0;
    for chat in runs::program_chats(&mut *conn).await? {
        if !covers(&chat, region) {
            continue;
        }
        enqueue_to_chat(app, conn, chat, key, reply, now).await?;
        chats += 1;
    }
    if chats > 0 {
        app.outbox_wake.notify_waiters();
    }
    Ok(chats)
}

/// Whether a program chat covers a partner of `region`: a chat bound without a region covers
/// everyone, and a partner without a region is covered by every chat.
pub(crate) fn covers(chat: &runs::ProgramChat, region: Option<&str>) -> bool {
    match (region, chat.region.as_deref()) {
        (_, None) | (None, _) => true,
        (Some(mine), Some(theirs)) => mine.eq_ignore_ascii_case(theirs),
    }
}

/// Queues `reply` for one program chat in the program's language, unique on
/// `<key>:chat:<platform>:<chat id>` (a redelivery or a second run adds nothing).
pub(crate) async fn enqueue_to_chat(
    app: &App,
    conn: &mut Conn,
    chat: runs::ProgramChat,
    key: &str,
    reply: &Reply,
    now: i64,
) -> store::Result<()> {
    let reply_json =
        serde_json::to_string(reply).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let message = NewOutgoing {
        dedupe_key: format!("{key}:chat:{}:{}", chat.platform, chat.chat_id),
        platform: chat.platform,
        target: chat.chat_id,
        member_id: None,
        reply_json,
        locale: app.config.program.default_locale.tag().into(),
        broadcast_id: None,
    };
    rows::enqueue(&mut *conn, &message, now).await?;
    Ok(())
}
