//! Success stories and their reactions.

use sqlx::any::AnyRow;

use super::{Conn, Result, col};
use crate::engine::ids::{MemberId, PartnerId};

/// A stored story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    pub id: i64,
    pub partner: PartnerId,
    pub member: MemberId,
    pub text: String,
    pub image: Option<String>,
    pub platform: String,
    pub created_at: i64,
    pub featured_at: Option<i64>,
    pub hidden_at: Option<i64>,
}

const COLUMNS: &str =
    "id, partner_id, member_id, text, image, platform, created_at, featured_at, hidden_at";

fn from_row(r: &AnyRow) -> Result<Story> {
    Ok(Story {
        id: col(r, "id")?,
        partner: PartnerId(col(r, "partner_id")?),
        member: MemberId(col(r, "member_id")?),
        text: col(r, "text")?,
        image: col(r, "image")?,
        platform: col(r, "platform")?,
        created_at: col(r, "created_at")?,
        featured_at: col(r, "featured_at")?,
        hidden_at: col(r, "hidden_at")?,
    })
}

/// Stores a story; returns its id.
pub async fn insert(
    conn: &mut Conn,
    partner: PartnerId,
    member: MemberId,
    text: &str,
    image: Option<&str>,
    platform: &str,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO stories (partner_id, member_id, text, image, platform, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(partner.0)
    .bind(member.0)
    .bind(text)
    .bind(image)
    .bind(platform)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Story>> {
    let row = sqlx::query(super::sql(format!(
        "SELECT {COLUMNS} FROM stories WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The latest visible stories.
pub async fn latest(conn: &mut Conn, limit: i64) -> Result<Vec<Story>> {
    let rows = sqlx::query(super::sql(format!(
        "SELECT {COLUMNS} FROM stories WHERE hidden_at IS NULL ORDER BY created_at DESC, id DESC \
         LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The visible story posted in `[from, until)` with the most reactions (at least one); ties go
/// to the earliest story.
pub async fn most_reacted(conn: &mut Conn, from: i64, until: i64) -> Result<Option<(Story, i64)>> {
    let row = sqlx::query(super::sql(format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM story_reactions r WHERE r.story_id = s.id) AS n \
         FROM stories s WHERE hidden_at IS NULL AND created_at >= $1 AND created_at < $2 \
         ORDER BY n DESC, created_at, id LIMIT 1"
    )))
    .bind(from)
    .bind(until)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => {
            let n: i64 = col(&r, "n")?;
            Ok((n > 0).then(|| from_row(&r).map(|s| (s, n))).transpose()?)
        }
        None => Ok(None),
    }
}

/// Marks a story featured; `false` if it was featured before.
pub async fn feature(conn: &mut Conn, id: i64, now: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE stories SET featured_at = $1 WHERE id = $2 AND featured_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Hides a story; `false` if it was hidden before.
pub async fn hide(conn: &mut Conn, id: i64, by: MemberId, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE stories SET hidden_at = $1, hidden_by = $2 WHERE id = $3 AND hidden_at IS NULL",
    )
    .bind(now)
    .bind(by.0)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds a member's reaction of `kind`, or takes it back when it was there: `true` if added.
pub async fn toggle_reaction(
    conn: &mut Conn,
    story: i64,
    member: MemberId,
    kind: &str,
    now: i64,
) -> Result<bool> {
    let added = sqlx::query(
        "INSERT INTO story_reactions (story_id, member_id, kind, reacted_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(story)
    .bind(member.0)
    .bind(kind)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if added.rows_affected() == 1 {
        return Ok(true);
    }
    set_reaction(conn, story, member, kind, false, now).await?;
    Ok(false)
}

/// Sets a member's reaction of `kind` on or off (Telegram's own reactions say which); `true`
/// if anything changed.
pub async fn set_reaction(
    conn: &mut Conn,
    story: i64,
    member: MemberId,
    kind: &str,
    on: bool,
    now: i64,
) -> Result<bool> {
    let done = if on {
        sqlx::query(
            "INSERT INTO story_reactions (story_id, member_id, kind, reacted_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(story)
        .bind(member.0)
        .bind(kind)
        .bind(now)
        .execute(&mut *conn)
        .await?
    } else {
        sqlx::query(
            "DELETE FROM story_reactions WHERE story_id = $1 AND member_id = $2 AND kind = $3",
        )
        .bind(story)
        .bind(member.0)
        .bind(kind)
        .execute(&mut *conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

/// A story's reactions per kind.
pub async fn reaction_counts(conn: &mut Conn, story: i64) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) AS n FROM story_reactions WHERE story_id = $1 GROUP BY kind",
    )
    .bind(story)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((col(r, "kind")?, col(r, "n")?)))
        .collect()
}

/// Remembers that a platform message carries a story (once).
pub async fn add_post(
    conn: &mut Conn,
    platform: &str,
    chat: &str,
    message: &str,
    story: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO story_posts (platform, chat_id, message_id, story_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(platform)
    .bind(chat)
    .bind(message)
    .bind(story)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The story a platform message carries, if any.
pub async fn story_of_post(
    conn: &mut Conn,
    platform: &str,
    chat: &str,
    message: &str,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT story_id FROM story_posts WHERE platform = $1 AND chat_id = $2 AND message_id = $3",
    )
    .bind(platform)
    .bind(chat)
    .bind(message)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| col(&r, "story_id")).transpose()
}

/// A platform message that carries a story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    pub platform: String,
    pub chat_id: String,
    pub message_id: String,
}

/// Every remembered post of a story, in a stable order.
pub async fn posts_of(conn: &mut Conn, story: i64) -> Result<Vec<Post>> {
    let rows = sqlx::query(
        "SELECT platform, chat_id, message_id FROM story_posts WHERE story_id = $1 \
         ORDER BY platform, chat_id, message_id",
    )
    .bind(story)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Post {
                platform: col(r, "platform")?,
                chat_id: col(r, "chat_id")?,
                message_id: col(r, "message_id")?,
            })
        })
        .collect()
}

/// Forgets a post (its message was deleted); `false` if it was not remembered.
pub async fn remove_post(
    conn: &mut Conn,
    platform: &str,
    chat: &str,
    message: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM story_posts WHERE platform = $1 AND chat_id = $2 AND message_id = $3",
    )
    .bind(platform)
    .bind(chat)
    .bind(message)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
