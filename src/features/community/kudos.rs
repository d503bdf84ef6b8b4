//! Kudos: a member thanks another member (or a partner) in the program chats. A daily
//! allowance per giver (refused attempts do not count), never to oneself or one's own partner,
//! not twice to the same receiver within the cooldown; each kudos gives its receiver's partner
//! points. Also remembers Telegram usernames, so `/kudos @name` can find the member.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::partner::{Member, Platform};
use crate::engine::points::SourceKind;
use crate::features::community::{badges, points};
use crate::store::kudos::{self as stored, NewKudos};
use crate::store::{self, Conn};

/// Longest kudos reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Who a kudos names, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Discord mention `<@123>` (or `<@!123>`): the user id.
    Mention(String),
    /// A Telegram `@username`, lowercase without `@`.
    Username(String),
    /// The author of the message replied to: their platform user id.
    ReplyAuthor(String),
    /// A partner by name.
    Partner(String),
}

impl Target {
    /// A mention or `@username` written as a word; `None` for anything else.
    pub fn addressed(word: &str) -> Option<Target> {
        let word = word.trim();
        if let Some(inner) = word.strip_prefix("<@").and_then(|w| w.strip_suffix('>')) {
            let id = inner.trim_start_matches('!');
            if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
                return Some(Target::Mention(id.to_string()));
            }
            return None;
        }
        let name = word.strip_prefix('@')?;
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then(|| Target::Username(name.to_ascii_lowercase()))
    }
}

/// Why a kudos is refused: one localized sentence each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Disabled,
    NoReason,
    ReasonTooLong,
    Unknown(String),
    /// The author of the message replied to is not a member of a partner.
    UnknownAuthor,
    ToSelf,
    OwnPartner,
    OverAllowance(u32),
    Cooldown(i64),
}

impl Refusal {
    pub fn msg(&self) -> Msg {
        match self {
            Refusal::Disabled => Msg::new("kudos-disabled"),
            Refusal::NoReason => Msg::new("kudos-no-reason"),
            Refusal::ReasonTooLong => {
                Msg::new("kudos-reason-too-long").int("max", MAX_REASON_CHARS as i64)
            }
            Refusal::Unknown(who) => Msg::new("kudos-unknown").text("who", who),
            Refusal::UnknownAuthor => Msg::new("kudos-unknown-author"),
            Refusal::ToSelf => Msg::new("kudos-self"),
            Refusal::OwnPartner => Msg::new("kudos-own-partner"),
            Refusal::OverAllowance(daily) => {
                Msg::new("kudos-over-allowance").int("daily", i64::from(*daily))
            }
            Refusal::Cooldown(minutes) => Msg::new("kudos-cooldown").int("minutes", *minutes),
        }
    }
}

/// A kudos given: its id, who received it (display), and how many the giver has left today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    pub id: i64,
    pub receiver: String,
    pub left: i64,
}

/// The receiver a target resolves to.
struct Receiver {
    member: Option<Member>,
    partner: PartnerId,
    shown: String,
}

async fn resolve(
    conn: &mut Conn,
    platform: Platform,
    target: &Target,
) -> store::Result<Option<Receiver>> {
    let member = match target {
        Target::Mention(id) | Target::ReplyAuthor(id) => {
            store::members::find(&mut *conn, platform, id).await?
        }
        Target::Username(name) => stored::find_by_username(&mut *conn, platform, name).await?,
        Target::Partner(name) => {
            let Some(partner) = store::partners::find_by_name(&mut *conn, name).await? else {
                return Ok(None);
            };
            return Ok(Some(Receiver {
                member: None,
                partner: partner.id,
                shown: partner.name,
            }));
        }
    };
    let Some(member) = member.filter(|m| m.role.is_some()) else {
        return Ok(None);
    };
    let Some(partner_id) = member.partner_id else {
        return Ok(None);
    };
    let partner = store::partners::get(&mut *conn, partner_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let shown = format!("{} ({partner})", member.display_name);
    Ok(Some(Receiver {
        member: Some(member),
        partner: partner_id,
        shown,
    }))
}

/// Gives a kudos from `giver` on `conn` (the command's transaction): checks, stores, awards
/// the receiver's partner points, re-checks its badges and posts the thanks to its program
/// chats. A refusal changes nothing.
pub async fn give(
    app: &App,
    conn: &mut Conn,
    giver: &Member,
    target: &Target,
    reason: &str,
    now: i64,
) -> store::Result<Result<Given, Refusal>> {
    let daily = app.config.kudos.daily;
    if daily == 0 {
        return Ok(Err(Refusal::Disabled));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refusal::NoReason));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Ok(Err(Refusal::ReasonTooLong));
    }
    let Some(receiver) = resolve(conn, giver.platform, target).await? else {
        let who = match target {
            Target::Mention(id) => format!("<@{id}>"),
            Target::Username(name) => format!("@{name}"),
            Target::ReplyAuthor(_) => return Ok(Err(Refusal::UnknownAuthor)),
            Target::Partner(name) => name.clone(),
        };
        return Ok(Err(Refusal::Unknown(who)));
    };
    if receiver.member.as_ref().is_some_and(|m| m.id == giver.id) {
        return Ok(Err(Refusal::ToSelf));
    }
    if giver.partner_id == Some(receiver.partner) {
        return Ok(Err(Refusal::OwnPartner));
    }
    let day = app.local_date(now).to_string();
    let given = stored::given_on(&mut *conn, giver.id, &day).await?;
    if given >= i64::from(daily) {
        return Ok(Err(Refusal::OverAllowance(daily)));
    }
    let to_member = receiver.member.as_ref().map(|m| m.id);
    let cooldown_ms = i64::from(app.config.kudos.cooldown_minutes) * 60_000;
    if let Some(last) = stored::last_to(&mut *conn, giver.id, to_member, receiver.partner).await?
        && now - last < cooldown_ms
    {
        let left_ms = cooldown_ms - (now - last);
        return Ok(Err(Refusal::Cooldown((left_ms + 59_999) / 60_000)));
    }
    let new = NewKudos {
        from: giver.id,
        to_member,
        to_partner: receiver.partner,
        reason,
        day: &day,
        now,
    };
    let Some(id) = stored::insert(&mut *conn, &new, given + 1).await? else {
        return Ok(Err(Refusal::OverAllowance(daily)));
    };
    let key = id.to_string();
    let why = format!("kudos from {}", giver.display_name);
    points::award(
        conn,
        receiver.partner,
        to_member,
        app.config.points.kudos_received,
        &why,
        SourceKind::Kudos,
        &key,
        now,
    )
    .await?;
    badges::check(app, conn, receiver.partner, badges::Trigger::Any, now).await?;
    let post = Reply::here(
        Msg::new("kudos-post")
            .text("from", &giver.display_name)
            .text("to", &receiver.shown)
            .text("reason", reason),
    );
    super::post_to_partner_chats(
        app,
        conn,
        Some(receiver.partner),
        &format!("kudos:{id}"),
        &post,
        now,
    )
    .await?;
    Ok(Ok(Given {
        id,
        receiver: receiver.shown,
        left: i64::from(daily) - given - 1,
    }))
}

/// The kudos a member has left today.
pub async fn left_today(
    app: &App,
    conn: &mut Conn,
    member: MemberId,
    now: i64,
) -> store::Result<i64> {
    let day = app.local_date(now).to_string();
    let given = stored::given_on(conn, member, &day).await?;
    Ok((i64::from(app.config.kudos.daily) - given).max(0))
}

/// The instant this program-local week (Monday 00:00) began.
pub fn week_start(app: &App, now: i64) -> i64 {
    use chrono::Datelike;
    let today = app.local_date(now);
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    app.instant_of(monday.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Usernames this process has already stored, so a member's every message costs no write.
#[derive(Default)]
pub struct Usernames(Mutex<HashMap<(Platform, String), String>>);

/// Stores the sender's username when it is new to this process and differs from the stored one.
pub async fn remember_username(app: &App, platform: Platform, user_id: &str, username: &str) {
    let username = username.trim_start_matches('@').to_ascii_lowercase();
    if username.is_empty() {
        return;
    }
    let key = (platform, user_id.to_string());
    let known = match app.usernames.0.lock() {
        Ok(map) => map.get(&key) == Some(&username),
        Err(_) => false,
    };
    if known {
        return;
    }
    let stored = match app.store.read().await {
        Ok(mut conn) => stored::set_username(&mut conn, platform, user_id, &username).await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(false) => {}
        Ok(true) => {
            if let Ok(mut map) = app.usernames.0.lock() {
                map.insert(key, username);
            }
        }
        Err(e) => tracing::warn!(error = %e, "username not remembered"),
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn addressed_targets() {
        assert_eq!(
            Target::addressed("<@123>"),
            Some(Target::Mention("123".into()))
        );
        assert_eq!(
            Target::addressed("<@!42>"),
            Some(Target::Mention("42".into()))
        );
        assert_eq!(
            Target::addressed("@Li_Ming"),
            Some(Target::Username("li_ming".into()))
        );
        assert_eq!(Target::addressed("@"), None);
        assert_eq!(Target::addressed("<@abc>"), None);
        assert_eq!(Target::addressed("Alice"), None);
        assert_eq!(Target::addressed("@王"), None);
    }
}
