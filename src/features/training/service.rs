//! Trainings as a service: configured ones synced into the database, `rally trainings add`,
//! and the scheduler's work — reminders before a session, the end-of-session round (rating
//! asks, quizzes, completions with certifications and tier recomputation) and the managers'
//! summary a day later. Every step is claimed in the database, so it happens once across
//! restarts and instances.

use rand::Rng;

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::config::TrainingConfig;
use crate::engine::audit::AuditAction;
use crate::engine::ids::MemberId;
use crate::engine::training::{
    self, CHECKIN_CODE_LEN, Enrollment, EnrollmentStatus, Training, due_reminders,
};
use crate::outbox;
use crate::store::trainings::{self as stored, Source};
use crate::store::{self, audit, members};

/// The summary goes to managers this long after the end (ratings have come in by then).
pub const SUMMARY_AFTER_END_MS: i64 = 24 * 3_600_000;

/// A training from its configuration, with a fresh check-in code (kept if it exists already).
pub fn from_config(app: &App, config: &TrainingConfig) -> Training {
    let starts_at = app.instant_of(config.start);
    Training {
        id: config.id.clone(),
        title: config.title.clone(),
        level: config.level,
        starts_at,
        ends_at: starts_at + i64::from(config.duration_minutes) * 60_000,
        capacity: config.capacity,
        enrolled: 0,
        link: config.link.clone(),
        place: config.place.clone(),
        eligible: config.eligible.clone(),
        certification: config.certification.clone(),
        reminders: config.reminders.clone(),
        quiz: config.quiz.clone(),
        checkin_code: new_checkin_code(),
        finished_at: None,
    }
}

/// Six random capital letters and digits.
pub fn new_checkin_code() -> String {
    training::checkin_code_from_random(rand::rng().random::<[u8; CHECKIN_CODE_LEN]>())
}

/// Stores the configured trainings (new ones added, changed ones updated in place).
pub async fn sync_config(app: &App) -> store::Result<usize> {
    if app.config.trainings.is_empty() {
        return Ok(0);
    }
    let now = app.now();
    let mut tx = app.store.begin().await?;
    for config in &app.config.trainings {
        stored::save(&mut tx, &from_config(app, config), Source::Config, now).await?;
    }
    tx.commit().await?;
    Ok(app.config.trainings.len())
}

/// Why `rally trainings add` refused a training.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("a training {0:?} exists already")]
    Exists(String),
    #[error("the start {0} is in the past")]
    InThePast(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Adds a training from the command line.
pub async fn add(app: &App, training: &Training) -> Result<(), AddError> {
    let now = app.now();
    if training.starts_at <= now {
        return Err(AddError::InThePast(app.local_time(training.starts_at)));
    }
    let mut tx = app.store.begin().await?;
    if !stored::save(&mut tx, training, Source::Cli, now).await? {
        return Err(AddError::Exists(training.id.clone()));
    }
    audit::record(
        &mut tx,
        None,
        AuditAction::TrainingAdd,
        &format!("training {}", training.id),
        None,
        Some(&serde_json::json!({
            "title": training.title,
            "starts_at": training.starts_at,
            "capacity": training.capacity,
        })),
        now,
    )
    .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// Where a session happens, for messages: the link or the place (or nothing).
pub fn venue(training: &Training) -> String {
    training
        .link
        .clone()
        .or_else(|| training.place.clone())
        .unwrap_or_default()
}

/// The scheduler's round: due reminders, ended sessions, due summaries. Returns how many
/// things it did.
pub async fn tick(app: &App) -> anyhow::Result<usize> {
    let now = app.now();
    let mut done = 0;
    let upcoming = {
        let mut conn = app.store.read().await?;
        stored::upcoming(&mut conn, now).await?
    };
    for training in &upcoming {
        done += send_reminders(app, training, now).await?;
    }
    let ended = {
        let mut conn = app.store.read().await?;
        stored::ended_unfinished(&mut conn, now).await?
    };
    let mut completed_any = false;
    for training in &ended {
        let (round, completed) = finish(app, training, now).await?;
        done += round;
        completed_any |= completed > 0;
    }
    if completed_any {
        crate::features::tiers::service::recompute_and_announce(app, "training-tiers").await?;
    }
    let summaries = {
        let mut conn = app.store.read().await?;
        stored::summaries_due(&mut conn, now - SUMMARY_AFTER_END_MS).await?
    };
    for training in &summaries {
        done += send_summary(app, training, now).await?;
    }
    Ok(done)
}

/// Sends the reminder due for a training to every enrolled member, once per offset.
async fn send_reminders(app: &App, training: &Training, now: i64) -> store::Result<usize> {
    let mut tx = app.store.begin().await?;
    let sent = stored::reminders_sent(&mut tx, &training.id).await?;
    let due = due_reminders(now, training.starts_at, &training.reminders, &sent);
    let Some(send) = due.send else {
        return Ok(0);
    };
    let mut first = false;
    for offset in &due.mark {
        // Another instance may have recorded it a moment ago: only the first one sends.
        first |=
            stored::record_reminder(&mut tx, &training.id, *offset, now).await? && *offset == send;
    }
    if !first {
        tx.commit().await?;
        return Ok(0);
    }
    let enrolled = stored::enrollments(&mut tx, &training.id, EnrollmentStatus::Enrolled).await?;
    for enrollment in &enrolled {
        let reply = Reply::here(
            Msg::new("training-reminder")
                .text("title", &training.title)
                .text("left", training::reminder_label(send))
                .text("start", app.local_time(training.starts_at))
                .text("venue", venue(training)),
        );
        let key = format!(
            "training:{}:reminder:{send}:{}",
            training.id, enrollment.member_id
        );
        outbox::enqueue_notice(app, &mut tx, enrollment.member_id, reply, key, now).await?;
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    tracing::info!(training = %training.id, offset_minutes = send, members = enrolled.len(), "training reminder sent");
    Ok(1)
}

/// The end-of-session round, once: every member who checked in is asked to rate and, with a
/// quiz, gets its first question; without a quiz, checking in completes the training. Returns
/// (rounds run, completions).
async fn finish(app: &App, training: &Training, now: i64) -> anyhow::Result<(usize, usize)> {
    let mut tx = app.store.begin().await?;
    if !stored::claim_finish(&mut tx, &training.id, now).await? {
        return Ok((0, 0));
    }
    let attendees: Vec<Enrollment> =
        stored::enrollments(&mut tx, &training.id, EnrollmentStatus::Enrolled)
            .await?
            .into_iter()
            .filter(|e| e.checked_in_at.is_some())
            .collect();
    let mut completed = 0;
    for attendee in &attendees {
        let key = format!("training:{}:end:{}", training.id, attendee.member_id);
        if attendee.rating.is_none() {
            outbox::enqueue_notice(
                app,
                &mut tx,
                attendee.member_id,
                rating_ask(training),
                format!("{key}:rate"),
                now,
            )
            .await?;
        }
        match &training.quiz {
            Some(_) => {
                if let Some(question) = quiz_question(training, 1) {
                    outbox::enqueue_notice(
                        app,
                        &mut tx,
                        attendee.member_id,
                        question,
                        format!("{key}:quiz"),
                        now,
                    )
                    .await?;
                }
            }
            None => {
                if let Some(reply) =
                    complete(app, &mut tx, training, attendee.member_id, now).await?
                {
                    completed += 1;
                    outbox::enqueue_notice(
                        app,
                        &mut tx,
                        attendee.member_id,
                        reply,
                        format!("{key}:completed"),
                        now,
                    )
                    .await?;
                }
            }
        }
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    tracing::info!(training = %training.id, attendees = attendees.len(), completed, "training ended");
    Ok((1, completed))
}

/// The rating question with star buttons.
pub fn rating_ask(training: &Training) -> Reply {
    let mut reply = Reply::here(
        Msg::new("training-ask-rating")
            .text("title", &training.title)
            .text("id", &training.id),
    );
    for stars in 1..=5 {
        reply = reply.button(
            Msg::new("button-stars").int("stars", stars),
            format!("/rate {} {stars}", training.id),
        );
    }
    reply
}

/// Quiz question `n` (1-based) with a button per choice; `None` past the last one.
pub fn quiz_question(training: &Training, n: u32) -> Option<Reply> {
    let quiz = training.quiz.as_ref()?;
    let question = quiz
        .questions
        .get(usize::try_from(n).ok()?.checked_sub(1)?)?;
    let mut reply = Reply::here(
        Msg::new("training-quiz-question")
            .text("title", &training.title)
            .int("n", i64::from(n))
            .int(
                "total",
                i64::try_from(quiz.questions.len()).unwrap_or(i64::MAX),
            )
            .text("question", &question.q),
    );
    for (i, choice) in question.choices.iter().enumerate() {
        let number = i + 1;
        reply = reply.button(
            Msg::new("button-choice")
                .int("n", i64::try_from(number).unwrap_or(i64::MAX))
                .text("text", choice),
            format!("/quiz {} {n} {number}", training.id),
        );
    }
    Some(reply)
}

/// Completes a member's training on `conn`: the certification granted to their partner (if
/// the training gives one), audited. `None` if it was completed before. Tiers are recomputed by
/// the next scheduler round (`tick`), outside this transaction.
pub async fn complete(
    app: &App,
    conn: &mut store::Conn,
    training: &Training,
    member: MemberId,
    now: i64,
) -> store::Result<Option<Reply>> {
    if !stored::complete(conn, &training.id, member, now).await? {
        return Ok(None);
    }
    let partner = members::get(conn, member).await?.and_then(|m| m.partner_id);
    let mut granted = false;
    if let (Some(certification), Some(partner)) = (&training.certification, partner) {
        granted = stored::grant_certification(conn, partner, certification, now).await?;
    }
    audit::record(
        conn,
        Some(member),
        AuditAction::TrainingComplete,
        &format!("training {}", training.id),
        None,
        Some(&serde_json::json!({
            "certification": training.certification,
            "partner": partner.map(|p| p.0),
            "granted": granted,
        })),
        now,
    )
    .await?;
    // Community (issue 11): points for the completion, and badges (certified).
    crate::features::community::points::on_training_completed(
        app,
        conn,
        &training.id,
        member,
        partner,
        now,
    )
    .await?;
    let mut reply = Reply::here(Msg::new("training-completed").text("title", &training.title));
    if let (true, Some(certification)) = (granted, &training.certification) {
        reply = reply.line(Msg::new("training-certified").text("certification", certification));
    }
    Ok(Some(reply))
}

/// Counts for a training: (enrolled, waitlisted, checked in, ratings, average rating, quiz
/// taken, quiz passed, comments).
pub struct Counts {
    pub enrolled: usize,
    pub waitlisted: usize,
    pub attended: usize,
    pub ratings: usize,
    pub average_rating: Option<f64>,
    pub quiz_taken: usize,
    pub quiz_passed: usize,
    pub comments: Vec<String>,
}

pub async fn counts(conn: &mut store::Conn, training: &Training) -> store::Result<Counts> {
    let enrolled = stored::enrollments(conn, &training.id, EnrollmentStatus::Enrolled).await?;
    let waitlisted = stored::enrollments(conn, &training.id, EnrollmentStatus::Waitlisted)
        .await?
        .len();
    let ratings: Vec<u8> = enrolled.iter().filter_map(|e| e.rating).collect();
    let pass = training.quiz.as_ref().map_or(0, |q| q.pass);
    let scores: Vec<u32> = enrolled.iter().filter_map(|e| e.quiz_score).collect();
    Ok(Counts {
        enrolled: enrolled.len(),
        waitlisted,
        attended: enrolled
            .iter()
            .filter(|e| e.checked_in_at.is_some())
            .count(),
        ratings: ratings.len(),
        average_rating: (!ratings.is_empty())
            .then(|| ratings.iter().map(|r| f64::from(*r)).sum::<f64>() / ratings.len() as f64),
        quiz_taken: scores.len(),
        quiz_passed: scores.iter().filter(|s| **s >= pass).count(),
        comments: enrolled.iter().filter_map(|e| e.comment.clone()).collect(),
    })
}

/// The managers' summary, once, a day after the end.
async fn send_summary(app: &App, training: &Training, now: i64) -> store::Result<usize> {
    let mut tx = app.store.begin().await?;
    if !stored::claim_summary(&mut tx, &training.id, now).await? {
        return Ok(0);
    }
    let counts = counts(&mut tx, training).await?;
    let mut reply = Reply::here(
        Msg::new("training-summary")
            .text("title", &training.title)
            .int(
                "enrolled",
                i64::try_from(counts.enrolled).unwrap_or(i64::MAX),
            )
            .int(
                "attended",
                i64::try_from(counts.attended).unwrap_or(i64::MAX),
            )
            .text(
                "rating",
                counts
                    .average_rating
                    .map_or_else(|| "-".to_string(), |r| format!("{r:.1}")),
            )
            .int("ratings", i64::try_from(counts.ratings).unwrap_or(i64::MAX))
            .int(
                "passed",
                i64::try_from(counts.quiz_passed).unwrap_or(i64::MAX),
            )
            .int(
                "taken",
                i64::try_from(counts.quiz_taken).unwrap_or(i64::MAX),
            ),
    );
    for comment in &counts.comments {
        reply = reply.line(Msg::new("training-summary-comment").text("comment", comment));
    }
    for manager in members::managers_to_notify(&mut tx).await? {
        let key = format!("training:{}:summary:{}", training.id, manager.id);
        outbox::enqueue_notice(app, &mut tx, manager.id, reply.clone(), key, now).await?;
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    Ok(1)
}

/// Sales before and after a session: attendees' partners against eligible partners who did not
/// attend (difference in differences).
#[derive(Clone, Debug)]
pub struct TrainingReport {
    pub training: Training,
    pub days: u32,
    /// The first day of the "before" window, the session day, the last day of "after".
    pub from: chrono::NaiveDate,
    pub session_day: chrono::NaiveDate,
    pub until: chrono::NaiveDate,
    /// Whether the "after" window has ended.
    pub complete: bool,
    pub numbers: training::DiffInDiff,
}

/// The report for `training` over `days` before and after its session day; `None` if there
/// is no such training.
pub async fn report(app: &App, name: &str, days: u32) -> store::Result<Option<TrainingReport>> {
    use std::collections::BTreeSet;
    let mut conn = app.store.read().await?;
    let all = stored::list(&mut conn).await?;
    let Some(training) = all.into_iter().find(|t| t.is_named(name)) else {
        return Ok(None);
    };
    let session_day = app.local_date(training.starts_at);
    let span = chrono::Duration::days(i64::from(days));
    let (from, until) = (session_day - span, session_day + span);
    let day_after = |d: chrono::NaiveDate| (d + chrono::Duration::days(1)).to_string();
    let before =
        stored::approved_between(&mut conn, &from.to_string(), &session_day.to_string()).await?;
    let after =
        stored::approved_between(&mut conn, &day_after(session_day), &day_after(until)).await?;
    let mut attended = BTreeSet::new();
    for e in stored::enrollments(&mut conn, &training.id, EnrollmentStatus::Enrolled).await? {
        if e.checked_in_at.is_none() {
            continue;
        }
        if let Some(partner) = members::get(&mut conn, e.member_id)
            .await?
            .and_then(|m| m.partner_id)
        {
            attended.insert(partner);
        }
    }
    let figures = |p: &crate::engine::ids::PartnerId| training::BeforeAfter {
        before: before.get(p).copied().unwrap_or(0),
        after: after.get(p).copied().unwrap_or(0),
    };
    let mut attendees = Vec::new();
    let mut others = Vec::new();
    for partner in crate::store::partners::list(&mut conn).await? {
        if attended.contains(&partner.id) {
            attendees.push(figures(&partner.id));
        } else if training.eligible.admits(Some(&partner)) {
            others.push(figures(&partner.id));
        }
    }
    Ok(Some(TrainingReport {
        complete: app.local_date(app.now()) > until,
        numbers: training::diff_in_diff(&attendees, &others),
        training,
        days,
        from,
        session_day,
        until,
    }))
}

/// The report as message lines (chat and `rally trainings report`).
pub fn report_reply(app: &App, report: &TrainingReport) -> Reply {
    let money = |minor: i64| app.program_money(minor);
    let n = &report.numbers;
    let mut reply = Reply::here(
        Msg::new("training-report")
            .text("title", &report.training.title)
            .int("days", i64::from(report.days))
            .text("day", report.session_day.to_string())
            .int("attendees", i64::try_from(n.attendees).unwrap_or(0))
            .text("att_before", money(n.attendees_before))
            .text("att_after", money(n.attendees_after))
            .int("others", i64::try_from(n.others).unwrap_or(0))
            .text("oth_before", money(n.others_before))
            .text("oth_after", money(n.others_after)),
    );
    reply = reply.line(match n.difference {
        Some(d) => Msg::new("training-report-difference").text(
            "difference",
            if d > 0 {
                format!("+{}", money(d))
            } else {
                money(d)
            },
        ),
        None => Msg::new("training-report-no-comparison"),
    });
    if !report.complete {
        reply =
            reply.line(Msg::new("training-report-partial").text("until", report.until.to_string()));
    }
    reply.line(Msg::new("training-report-caution"))
}
