//! Trainings, enrollments (with the waitlist), check-ins, ratings, quiz answers and the
//! reminders sent. Seats are taken and given back by conditional updates of
//! `trainings.enrolled`, so two members racing for the last seat get one seat and one place on
//! the waitlist, on SQLite and on PostgreSQL.

use sqlx::any::AnyRow;

use super::{Conn, Result, StoreError, col, parse_col, sql};
use crate::engine::ids::MemberId;
use crate::engine::partner::PartnerKind;
use crate::engine::training::{Eligibility, Enrollment, EnrollmentStatus, Level, Quiz, Training};

const TRAINING_COLUMNS: &str = "id, title, level, starts_at, ends_at, capacity, enrolled, link, \
     place, eligible_tier, eligible_kind, eligible_region, certification, reminders, quiz, \
     checkin_code, finished_at";

const ENROLLMENT_COLUMNS: &str = "training_id, member_id, status, enrolled_at, checked_in_at, \
     rating, comment, quiz_answers, quiz_score, completed_at";

fn count(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

fn training_from(row: &AnyRow) -> Result<Training> {
    let level: String = col(row, "level")?;
    let kind: Option<String> = col(row, "eligible_kind")?;
    let reminders: String = col(row, "reminders")?;
    let quiz: Option<String> = col(row, "quiz")?;
    Ok(Training {
        id: col(row, "id")?,
        title: col(row, "title")?,
        level: parse_col(&level, "trainings.level", Level::parse)?,
        starts_at: col(row, "starts_at")?,
        ends_at: col(row, "ends_at")?,
        capacity: count(col(row, "capacity")?),
        enrolled: count(col(row, "enrolled")?),
        link: col(row, "link")?,
        place: col(row, "place")?,
        eligible: Eligibility {
            tier: col(row, "eligible_tier")?,
            kind: kind
                .map(|k| parse_col(&k, "trainings.eligible_kind", PartnerKind::parse))
                .transpose()?,
            region: col(row, "eligible_region")?,
        },
        certification: col(row, "certification")?,
        reminders: reminders
            .split(',')
            .filter_map(|m| m.trim().parse().ok())
            .collect(),
        quiz: quiz
            .map(|q| serde_json::from_str::<Quiz>(&q))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("trainings.quiz: {e}")))?,
        checkin_code: col(row, "checkin_code")?,
        finished_at: col(row, "finished_at")?,
    })
}

fn enrollment_from(row: &AnyRow) -> Result<Enrollment> {
    let status: String = col(row, "status")?;
    let answers: Option<String> = col(row, "quiz_answers")?;
    Ok(Enrollment {
        training_id: col(row, "training_id")?,
        member_id: MemberId(col(row, "member_id")?),
        status: parse_col(
            &status,
            "training_enrollments.status",
            EnrollmentStatus::parse,
        )?,
        enrolled_at: col(row, "enrolled_at")?,
        checked_in_at: col(row, "checked_in_at")?,
        rating: col::<Option<i64>>(row, "rating")?.and_then(|r| u8::try_from(r).ok()),
        comment: col(row, "comment")?,
        quiz_answers: answers
            .unwrap_or_default()
            .split(',')
            .filter_map(|a| a.trim().parse().ok())
            .collect(),
        quiz_score: col::<Option<i64>>(row, "quiz_score")?.map(count),
        completed_at: col(row, "completed_at")?,
    })
}

/// Where a stored training came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Config,
    Cli,
    /// `rally demo`'s own trainings.
    Demo,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Cli => "cli",
            Source::Demo => "demo",
        }
    }
}

/// Stores a training. A configured one is updated in place when it exists (seats taken, the
/// check-in code and what already happened stay); `Source::Cli` never overwrites (`false` when
/// the id is taken).
pub async fn save(conn: &mut Conn, training: &Training, source: Source, now: i64) -> Result<bool> {
    let quiz = training
        .quiz
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let reminders = training
        .reminders
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let on_conflict = match source {
        Source::Config => {
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, level = excluded.level, \
             starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
             capacity = excluded.capacity, link = excluded.link, place = excluded.place, \
             eligible_tier = excluded.eligible_tier, eligible_kind = excluded.eligible_kind, \
             eligible_region = excluded.eligible_region, \
             certification = excluded.certification, reminders = excluded.reminders, \
             quiz = excluded.quiz"
        }
        Source::Cli | Source::Demo => "ON CONFLICT (id) DO NOTHING",
    };
    let done = sqlx::query(sql(format!(
        "INSERT INTO trainings (id, title, level, starts_at, ends_at, capacity, link, place, \
         eligible_tier, eligible_kind, eligible_region, certification, reminders, quiz, \
         checkin_code, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         {on_conflict}"
    )))
    .bind(&training.id)
    .bind(&training.title)
    .bind(training.level.as_str())
    .bind(training.starts_at)
    .bind(training.ends_at)
    .bind(i64::from(training.capacity))
    .bind(training.link.as_deref())
    .bind(training.place.as_deref())
    .bind(training.eligible.tier.as_deref())
    .bind(training.eligible.kind.map(|k| k.as_str()))
    .bind(training.eligible.region.as_deref())
    .bind(training.certification.as_deref())
    .bind(reminders)
    .bind(quiz)
    .bind(&training.checkin_code)
    .bind(source.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Training>> {
    let row = sqlx::query(sql(format!(
        "SELECT {TRAINING_COLUMNS} FROM trainings WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(training_from).transpose()
}

/// Every training, soonest first.
pub async fn list(conn: &mut Conn) -> Result<Vec<Training>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {TRAINING_COLUMNS} FROM trainings ORDER BY starts_at, id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(training_from).collect()
}

/// Trainings whose end-of-session work has not run and that ended by `now`.
pub async fn ended_unfinished(conn: &mut Conn, now: i64) -> Result<Vec<Training>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {TRAINING_COLUMNS} FROM trainings WHERE finished_at IS NULL AND ends_at <= $1 \
         ORDER BY ends_at"
    )))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(training_from).collect()
}

/// Trainings not started by `now` (their reminders may be due).
pub async fn upcoming(conn: &mut Conn, now: i64) -> Result<Vec<Training>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {TRAINING_COLUMNS} FROM trainings WHERE starts_at > $1 ORDER BY starts_at"
    )))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(training_from).collect()
}

/// Marks the end-of-session work as done; `true` for the one caller that did it first.
pub async fn claim_finish(conn: &mut Conn, id: &str, now: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE trainings SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Finished trainings whose managers' summary is due (a day after the end) and not sent.
pub async fn summaries_due(conn: &mut Conn, due_before_end: i64) -> Result<Vec<Training>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {TRAINING_COLUMNS} FROM trainings \
         WHERE finished_at IS NOT NULL AND summary_sent_at IS NULL AND ends_at <= $1"
    )))
    .bind(due_before_end)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(training_from).collect()
}

/// Marks the summary sent; `true` for the one caller that did it first.
pub async fn claim_summary(conn: &mut Conn, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE trainings SET summary_sent_at = $1 WHERE id = $2 AND summary_sent_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn enrollment(
    conn: &mut Conn,
    training: &str,
    member: MemberId,
) -> Result<Option<Enrollment>> {
    let row = sqlx::query(sql(format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM training_enrollments \
         WHERE training_id = $1 AND member_id = $2"
    )))
    .bind(training)
    .bind(member.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(enrollment_from).transpose()
}

/// Enrollments of a training with `status`, in the order they came.
pub async fn enrollments(
    conn: &mut Conn,
    training: &str,
    status: EnrollmentStatus,
) -> Result<Vec<Enrollment>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM training_enrollments \
         WHERE training_id = $1 AND status = $2 ORDER BY enrolled_at, member_id"
    )))
    .bind(training)
    .bind(status.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(enrollment_from).collect()
}

/// A member's enrollments that are not `left`.
pub async fn of_member(conn: &mut Conn, member: MemberId) -> Result<Vec<Enrollment>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM training_enrollments \
         WHERE member_id = $1 AND status <> 'left' ORDER BY enrolled_at"
    )))
    .bind(member.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(enrollment_from).collect()
}

/// Takes a seat if one is left; `true` if taken. The condition makes the last seat one
/// member's, whoever commits first.
async fn take_seat(conn: &mut Conn, training: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE trainings SET enrolled = enrolled + 1 WHERE id = $1 AND enrolled < capacity",
    )
    .bind(training)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Enrolls a member: a seat if one is left, else the waitlist. (Callers check that the member
/// is not enrolled or waitlisted already.)
pub async fn enroll(
    conn: &mut Conn,
    training: &str,
    member: MemberId,
    now: i64,
) -> Result<EnrollmentStatus> {
    let status = if take_seat(conn, training).await? {
        EnrollmentStatus::Enrolled
    } else {
        EnrollmentStatus::Waitlisted
    };
    sqlx::query(
        "INSERT INTO training_enrollments (training_id, member_id, status, enrolled_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (training_id, member_id) DO UPDATE SET status = excluded.status, \
         enrolled_at = excluded.enrolled_at",
    )
    .bind(training)
    .bind(member.0)
    .bind(status.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(status)
}

/// Takes a member out. A seat given back goes to the first on the waitlist, whose id is
/// returned (to tell them).
pub async fn leave(
    conn: &mut Conn,
    training: &str,
    member: MemberId,
    was: EnrollmentStatus,
) -> Result<Option<MemberId>> {
    sqlx::query(
        "UPDATE training_enrollments SET status = 'left' WHERE training_id = $1 AND member_id = $2",
    )
    .bind(training)
    .bind(member.0)
    .execute(&mut *conn)
    .await?;
    if was != EnrollmentStatus::Enrolled {
        return Ok(None);
    }
    sqlx::query("UPDATE trainings SET enrolled = enrolled - 1 WHERE id = $1 AND enrolled > 0")
        .bind(training)
        .execute(&mut *conn)
        .await?;
    let Some(next) = enrollments(conn, training, EnrollmentStatus::Waitlisted)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    if !take_seat(conn, training).await? {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE training_enrollments SET status = 'enrolled' \
         WHERE training_id = $1 AND member_id = $2",
    )
    .bind(training)
    .bind(next.member_id.0)
    .execute(&mut *conn)
    .await?;
    Ok(Some(next.member_id))
}

/// Records a check-in; `false` if the member had checked in already.
pub async fn check_in(conn: &mut Conn, training: &str, member: MemberId, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE training_enrollments SET checked_in_at = $1 \
         WHERE training_id = $2 AND member_id = $3 AND status = 'enrolled' \
           AND checked_in_at IS NULL",
    )
    .bind(now)
    .bind(training)
    .bind(member.0)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a rating; `false` if the member had rated already (one evaluation per member).
pub async fn rate(
    conn: &mut Conn,
    training: &str,
    member: MemberId,
    rating: u8,
    comment: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE training_enrollments SET rating = $1, comment = $2, rated_at = $3 \
         WHERE training_id = $4 AND member_id = $5 AND rated_at IS NULL",
    )
    .bind(i64::from(rating))
    .bind(comment)
    .bind(now)
    .bind(training)
    .bind(member.0)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the quiz answers so far, if they extend what is stored by exactly one (a pressed
/// button delivered twice, or an old question's button, changes nothing); `true` if stored.
pub async fn answer_quiz(
    conn: &mut Conn,
    training: &str,
    member: MemberId,
    before: &[u32],
    answer: u32,
    score: Option<u32>,
) -> Result<bool> {
    let join = |a: &[u32]| a.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let mut after = before.to_vec();
    after.push(answer);
    let done = sqlx::query(
        "UPDATE training_enrollments SET quiz_answers = $1, quiz_score = $2 \
         WHERE training_id = $3 AND member_id = $4 AND COALESCE(quiz_answers, '') = $5 \
           AND quiz_score IS NULL",
    )
    .bind(join(&after))
    .bind(score.map(i64::from))
    .bind(training)
    .bind(member.0)
    .bind(join(before))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a member's training completed; `true` the first time.
pub async fn complete(conn: &mut Conn, training: &str, member: MemberId, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE training_enrollments SET completed_at = $1 \
         WHERE training_id = $2 AND member_id = $3 AND completed_at IS NULL",
    )
    .bind(now)
    .bind(training)
    .bind(member.0)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Reminder offsets already sent (or passed over) for a training.
pub async fn reminders_sent(conn: &mut Conn, training: &str) -> Result<Vec<u32>> {
    let rows = sqlx::query("SELECT offset_minutes FROM training_reminders WHERE training_id = $1")
        .bind(training)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok(count(col(r, "offset_minutes")?)))
        .collect()
}

/// Records a reminder offset; `true` for the one caller that recorded it first.
pub async fn record_reminder(
    conn: &mut Conn,
    training: &str,
    offset_minutes: u32,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO training_reminders (training_id, offset_minutes, sent_at) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(training)
    .bind(i64::from(offset_minutes))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Grants a certification to a partner; `true` if it is new.
pub async fn grant_certification(
    conn: &mut Conn,
    partner: crate::engine::ids::PartnerId,
    certification: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO certifications (partner_id, certification, granted_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(partner.0)
    .bind(certification)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Approved sales (program minor units) per partner with a sale date from `from` up to, not
/// including, `until` (`YYYY-MM-DD`).
pub async fn approved_between(
    conn: &mut Conn,
    from: &str,
    until: &str,
) -> Result<std::collections::HashMap<crate::engine::ids::PartnerId, i64>> {
    let rows = sqlx::query(
        "SELECT partner_id, CAST(SUM(program_minor) AS BIGINT) AS total FROM sales \
         WHERE status = 'approved' AND sale_date >= $1 AND sale_date < $2 GROUP BY partner_id",
    )
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                crate::engine::ids::PartnerId(col(r, "partner_id")?),
                col(r, "total")?,
            ))
        })
        .collect()
}
