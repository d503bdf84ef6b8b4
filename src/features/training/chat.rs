//! Training commands: `/trainings`, `/enroll`, `/leave`, `/checkin`, `/rate`, and `/quiz` (what
//! the quiz buttons send).

use crate::app::App;
use crate::chat::command::{self, Command, ParseError, Token};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Destination, Msg, Reply};
use crate::config::Locale;
use crate::engine::training::{self, CheckinRefusal, EnrollmentStatus, RatingRefusal, Training};
use crate::features::training::service;
use crate::store::trainings as stored;
use crate::store::{self, members, partners};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "trainings",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Trainings),
        example: "",
    },
    CommandSpec {
        name: "enroll",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("training", K::Name)],
        parse: |t| {
            Ok(Command::Enroll {
                training: training_name(t, "enroll")?,
            })
        },
        example: "basics-1",
    },
    CommandSpec {
        name: "leave",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("training", K::Name)],
        parse: |t| {
            Ok(Command::LeaveTraining {
                training: training_name(t, "leave")?,
            })
        },
        example: "basics-1",
    },
    CommandSpec {
        name: "checkin",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("code", K::Word)],
        parse: |t| {
            Ok(Command::CheckIn {
                code: command::optional_word(t).ok_or(ParseError::Usage("checkin"))?,
            })
        },
        example: "K7M2QX",
    },
    CommandSpec {
        name: "rate",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[
            req("training", K::Name),
            req("stars", K::Number),
            opt("comment", K::Text),
        ],
        parse: parse_rate,
        example: "basics-1 5 Very practical",
    },
    CommandSpec {
        name: "trainingreport",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[req("training", K::Name)],
        parse: |t| {
            Ok(Command::TrainingReport {
                training: training_name(t, "trainingreport")?,
            })
        },
        example: "basics-0",
    },
    CommandSpec {
        name: "quiz",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[
            req("training", K::Word),
            req("question", K::Number),
            req("choice", K::Number),
        ],
        parse: |t| {
            Ok(Command::Quiz {
                training: command::optional_word(t).ok_or(ParseError::Usage("quiz"))?,
                question: command::number(t, 1, "quiz")?,
                choice: command::number(t, 2, "quiz")?,
            })
        },
        example: "basics-1 1 2",
    },
];

fn training_name(tokens: &[Token], usage: &'static str) -> Result<String, ParseError> {
    let name = command::join(tokens);
    if name.is_empty() {
        return Err(ParseError::Usage(usage));
    }
    command::checked_name(name)
}

/// `/rate <training words> <1-5> [comment]`: the training runs up to the stars.
fn parse_rate(tokens: &[Token]) -> Result<Command, ParseError> {
    let at = tokens
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, t)| !t.quoted && t.text.parse::<u8>().is_ok())
        .map(|(i, _)| i)
        .ok_or(ParseError::Usage("rate"))?;
    let stars = tokens[at]
        .text
        .parse::<u8>()
        .map_err(|_| ParseError::Usage("rate"))?;
    Ok(Command::Rate {
        training: command::checked_name(command::join(&tokens[..at]))?,
        stars,
        comment: Some(command::join(&tokens[at + 1..])).filter(|c| !c.is_empty()),
    })
}

/// The training a member named (id or title, any case), or a sentence with the list.
async fn named(conn: &mut store::Conn, name: &str) -> Handled<Training> {
    let all = stored::list(conn).await?;
    if let Some(found) = all.iter().find(|t| t.is_named(name)) {
        return Ok(found.clone());
    }
    let list = all
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Err(user(Msg::new("training-unknown").text("name", name).text(
        "list",
        if list.is_empty() { "-".into() } else { list },
    )))
}

fn who_may(training: &Training) -> String {
    let e = &training.eligible;
    [
        e.tier.clone(),
        e.kind.map(|k| k.as_str().to_string()),
        e.region.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// `/trainings`: upcoming sessions the member may join and their own enrollments; managers
/// also see the check-in code and the counts.
pub(crate) async fn list(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let manager = ctx.require_manager().is_ok();
    let partner = match ctx.member.partner_id {
        Some(p) => partners::get(conn, p).await?,
        None => None,
    };
    let mine = stored::of_member(conn, ctx.member.id).await?;
    let mut reply = Reply::here(Msg::new("training-list-head"));
    let mut shown = 0;
    for training in stored::list(conn).await? {
        let enrollment = mine.iter().find(|e| e.training_id == training.id);
        let upcoming = training.ends_at > ctx.now;
        let open_to_me = manager || training.eligible.admits(partner.as_ref());
        // Yours (past or coming), or coming and open to you.
        if !(enrollment.is_some() || upcoming && open_to_me) {
            continue;
        }
        shown += 1;
        reply = reply.line(
            Msg::new("training-line")
                .text("id", &training.id)
                .text("title", &training.title)
                .text("level", training.level.as_str())
                .text("start", app.local_time(training.starts_at))
                .text("venue", service::venue(&training))
                .int("seats", i64::from(training.seats_left())),
        );
        if let Some(e) = enrollment {
            reply = reply.line(Msg::new(match e.status {
                EnrollmentStatus::Enrolled if e.completed_at.is_some() => "training-you-completed",
                EnrollmentStatus::Enrolled if e.checked_in_at.is_some() => "training-you-attended",
                EnrollmentStatus::Enrolled => "training-you-enrolled",
                _ => "training-you-waitlisted",
            }));
        }
        if manager {
            let counts = service::counts(conn, &training).await?;
            reply = reply.line(
                Msg::new("training-manager-line")
                    .text("code", &training.checkin_code)
                    .int("enrolled", i64::try_from(counts.enrolled).unwrap_or(0))
                    .int("capacity", i64::from(training.capacity))
                    .int("waitlisted", i64::try_from(counts.waitlisted).unwrap_or(0))
                    .int("attended", i64::try_from(counts.attended).unwrap_or(0)),
            );
        }
    }
    if shown == 0 {
        return Ok(vec![Reply::here(Msg::new("training-none"))]);
    }
    // Check-in codes are for the room, not for a group chat.
    if manager {
        reply.to = Destination::Sender;
    }
    Ok(vec![reply])
}

/// `/enroll <training>`: a seat, or the waitlist when it is full.
pub(crate) async fn enroll(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    name: &str,
) -> Handled {
    let training = named(conn, name).await?;
    if training.starts_at <= ctx.now {
        return Err(user(
            Msg::new("training-started").text("title", &training.title),
        ));
    }
    let partner = match ctx.member.partner_id {
        Some(p) => partners::get(conn, p).await?,
        None => None,
    };
    if ctx.require_manager().is_err() && !training.eligible.admits(partner.as_ref()) {
        return Err(user(
            Msg::new("training-not-eligible")
                .text("title", &training.title)
                .text("who", who_may(&training)),
        ));
    }
    if let Some(e) = stored::enrollment(conn, &training.id, ctx.member.id).await?
        && e.status != EnrollmentStatus::Left
    {
        return Err(user(
            Msg::new(match e.status {
                EnrollmentStatus::Enrolled => "training-already-enrolled",
                _ => "training-already-waitlisted",
            })
            .text("title", &training.title),
        ));
    }
    let status = stored::enroll(conn, &training.id, ctx.member.id, ctx.now).await?;
    let msg = match status {
        EnrollmentStatus::Enrolled => Msg::new("training-enrolled")
            .text("title", &training.title)
            .text("start", app.local_time(training.starts_at))
            .text("venue", service::venue(&training)),
        _ => {
            let position = stored::enrollments(conn, &training.id, EnrollmentStatus::Waitlisted)
                .await?
                .iter()
                .position(|e| e.member_id == ctx.member.id)
                .map_or(1, |p| p + 1);
            Msg::new("training-waitlisted")
                .text("title", &training.title)
                .int("position", i64::try_from(position).unwrap_or(i64::MAX))
        }
    };
    Ok(vec![Reply::here(msg)])
}

/// `/leave <training>`: gives the seat back; the first on the waitlist gets it (and is told).
pub(crate) async fn leave(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    name: &str,
) -> Handled {
    let training = named(conn, name).await?;
    let status = stored::enrollment(conn, &training.id, ctx.member.id)
        .await?
        .map(|e| e.status)
        .filter(|s| *s != EnrollmentStatus::Left)
        .ok_or_else(|| user(Msg::new("training-not-enrolled").text("title", &training.title)))?;
    if training.starts_at <= ctx.now {
        return Err(user(
            Msg::new("training-started").text("title", &training.title),
        ));
    }
    let promoted = stored::leave(conn, &training.id, ctx.member.id, status).await?;
    let mut replies = vec![Reply::here(
        Msg::new("training-left").text("title", &training.title),
    )];
    if let Some(next) = promoted {
        let locale = members::get(conn, next)
            .await?
            .and_then(|m| m.locale)
            .as_deref()
            .and_then(Locale::from_tag);
        replies.push(Reply {
            to: Destination::Member(next),
            locale,
            ..Reply::here(
                Msg::new("training-promoted")
                    .text("title", &training.title)
                    .text("start", app.local_time(training.starts_at)),
            )
        });
    }
    Ok(replies)
}

/// `/checkin <code>`: from 15 minutes before the start to the end, enrolled members only.
pub(crate) async fn check_in(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    typed: &str,
) -> Handled {
    let code = training::normalize_checkin_code(typed);
    let unknown = || user(Msg::new("training-checkin-unknown").text("code", typed));
    // Codes are random per training; the one whose session is nearest wins a (rare) clash.
    let training = stored::list(conn)
        .await?
        .into_iter()
        .filter(|t| t.checkin_code == code)
        .min_by_key(|t| (t.starts_at - ctx.now).abs())
        .ok_or_else(unknown)?;
    match training::checkin_open(ctx.now, training.starts_at, training.ends_at) {
        Ok(()) => {}
        Err(CheckinRefusal::TooEarly { opens_at }) => {
            return Err(user(
                Msg::new("training-checkin-early")
                    .text("title", &training.title)
                    .text("time", app.local_time(opens_at)),
            ));
        }
        Err(CheckinRefusal::Over) => {
            return Err(user(
                Msg::new("training-checkin-over").text("title", &training.title),
            ));
        }
    }
    let enrollment = stored::enrollment(conn, &training.id, ctx.member.id)
        .await?
        .filter(|e| e.status == EnrollmentStatus::Enrolled)
        .ok_or_else(|| user(Msg::new("training-not-enrolled").text("title", &training.title)))?;
    if enrollment.checked_in_at.is_some()
        || !stored::check_in(conn, &training.id, ctx.member.id, ctx.now).await?
    {
        return Err(user(
            Msg::new("training-checkin-again").text("title", &training.title),
        ));
    }
    Ok(vec![Reply::here(
        Msg::new("training-checkin-ok").text("title", &training.title),
    )])
}

/// `/rate <training> <1-5> [comment]`: once per member, from check-in to a week after the end.
pub(crate) async fn rate(
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    name: &str,
    stars: u8,
    comment: Option<&str>,
) -> Handled {
    if !(1..=5).contains(&stars) {
        return Err(user(
            Msg::new("training-rate-stars").int("stars", i64::from(stars)),
        ));
    }
    let training = named(conn, name).await?;
    let enrollment = stored::enrollment(conn, &training.id, ctx.member.id).await?;
    let checked_in = enrollment
        .as_ref()
        .is_some_and(|e| e.checked_in_at.is_some());
    match training::rating_open(ctx.now, checked_in, training.ends_at) {
        Ok(()) => {}
        Err(RatingRefusal::NotAttended) => {
            return Err(user(
                Msg::new("training-rate-not-attended").text("title", &training.title),
            ));
        }
        Err(RatingRefusal::Closed) => {
            return Err(user(
                Msg::new("training-rate-closed").text("title", &training.title),
            ));
        }
    }
    if !stored::rate(conn, &training.id, ctx.member.id, stars, comment, ctx.now).await? {
        return Err(user(
            Msg::new("training-rate-again").text("title", &training.title),
        ));
    }
    Ok(vec![Reply::here(
        Msg::new("training-rate-thanks")
            .text("title", &training.title)
            .int("stars", i64::from(stars)),
    )])
}

/// Days before and after a session the report compares.
pub const REPORT_DAYS: u32 = 30;

/// `/trainingreport <training>` (managers): sales before and after the session, attendees
/// against eligible partners who did not attend.
pub(crate) async fn report(app: &App, ctx: &mut Ctx<'_>, name: &str) -> Handled {
    ctx.require_manager()?;
    match service::report(app, name, REPORT_DAYS).await? {
        Some(report) => Ok(vec![service::report_reply(app, &report)]),
        None => Err(user(Msg::new("training-report-unknown").text("name", name))),
    }
}

/// `/quiz <training> <question> <choice>`: one answer, then the next question or the result.
/// Only the next unanswered question counts, so a button pressed twice changes nothing.
pub(crate) async fn quiz(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    name: &str,
    question: u32,
    choice: u32,
) -> Handled {
    let training = named(conn, name).await?;
    let quiz = training
        .quiz
        .clone()
        .ok_or_else(|| user(Msg::new("training-no-quiz").text("title", &training.title)))?;
    let enrollment = stored::enrollment(conn, &training.id, ctx.member.id)
        .await?
        .filter(|e| e.checked_in_at.is_some())
        .ok_or_else(|| {
            user(Msg::new("training-rate-not-attended").text("title", &training.title))
        })?;
    if training.finished_at.is_none() {
        return Err(user(
            Msg::new("training-quiz-not-yet").text("title", &training.title),
        ));
    }
    let answered = u32::try_from(enrollment.quiz_answers.len()).unwrap_or(u32::MAX);
    let total = u32::try_from(quiz.questions.len()).unwrap_or(u32::MAX);
    let choices = quiz
        .questions
        .get(
            usize::try_from(question)
                .unwrap_or(usize::MAX)
                .saturating_sub(1),
        )
        .map_or(0, |q| q.choices.len());
    if enrollment.quiz_score.is_some() || question != answered + 1 || question > total {
        return Err(user(Msg::new("training-quiz-old")));
    }
    if choice == 0 || usize::try_from(choice).unwrap_or(usize::MAX) > choices {
        return Err(user(
            Msg::new("training-quiz-choice").int("choices", i64::try_from(choices).unwrap_or(0)),
        ));
    }
    let mut answers = enrollment.quiz_answers.clone();
    answers.push(choice);
    let last = question == total;
    let score = last.then(|| quiz.score(&answers));
    if !stored::answer_quiz(
        conn,
        &training.id,
        ctx.member.id,
        &enrollment.quiz_answers,
        choice,
        score,
    )
    .await?
    {
        return Err(user(Msg::new("training-quiz-old")));
    }
    let Some(score) = score else {
        return Ok(service::quiz_question(&training, question + 1)
            .into_iter()
            .collect());
    };
    let result = Msg::new(if score >= quiz.pass {
        "training-quiz-passed"
    } else {
        "training-quiz-failed"
    })
    .int("score", i64::from(score))
    .int("total", i64::from(total))
    .int("pass", i64::from(quiz.pass));
    let mut reply = Reply::here(result);
    if score >= quiz.pass
        && let Some(done) = service::complete(app, conn, &training, ctx.member.id, ctx.now).await?
    {
        reply.lines.extend(done.lines);
    }
    Ok(vec![reply])
}
