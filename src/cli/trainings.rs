//! `rally trainings list|add`: the trainings with their counts, and adding one.

use std::process::ExitCode;

use chrono::NaiveDateTime;
use rally::app::App;
use rally::engine::training::{DEFAULT_REMINDER_MINUTES, Eligibility, Level, Training};
use rally::features::training::service::{self, AddError};

use super::args::TrainingsAction;

pub(crate) async fn run(app: &App, action: TrainingsAction) -> anyhow::Result<ExitCode> {
    // Configured trainings are synced on every start of `rally run`; do it here too, so the
    // list shows what the configuration says now.
    service::sync_config(app).await?;
    match action {
        TrainingsAction::List => list(app).await,
        TrainingsAction::Report { training, days } => {
            let Some(report) = service::report(app, &training, days).await? else {
                eprintln!("there is no training {training:?}; `rally trainings list` shows them");
                return Ok(ExitCode::FAILURE);
            };
            let reply = service::report_reply(app, &report);
            println!(
                "{}",
                app.i18n
                    .render_reply(app.config.program.default_locale, &reply)
            );
            Ok(ExitCode::SUCCESS)
        }
        TrainingsAction::Add {
            id,
            title,
            start,
            duration_minutes,
            capacity,
            level,
            link,
            place,
            tier,
            certification,
        } => {
            let start = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(start.trim(), f).ok())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--start {start:?}: expected a date and time like 2026-12-03T14:00"
                    )
                })?;
            let level = Level::parse(&level).ok_or_else(|| {
                anyhow::anyhow!("--level {level:?}: expected basic, advanced or expert")
            })?;
            if capacity == 0 {
                anyhow::bail!("--capacity must be at least 1");
            }
            if duration_minutes == 0 {
                anyhow::bail!("--duration-minutes must be at least 1");
            }
            let starts_at = app.instant_of(start);
            let training = Training {
                id: id.trim().to_string(),
                title,
                level,
                starts_at,
                ends_at: starts_at + i64::from(duration_minutes) * 60_000,
                capacity,
                enrolled: 0,
                link,
                place,
                eligible: Eligibility {
                    tier,
                    ..Eligibility::default()
                },
                certification,
                reminders: DEFAULT_REMINDER_MINUTES.to_vec(),
                quiz: None,
                checkin_code: service::new_checkin_code(),
                finished_at: None,
            };
            match service::add(app, &training).await {
                Ok(()) => {
                    println!(
                        "added {}: {} on {}, {} seats; check-in code {}",
                        training.id,
                        training.title,
                        app.local_time(training.starts_at),
                        training.capacity,
                        training.checkin_code
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(AddError::Store(e)) => Err(e.into()),
                Err(refused) => {
                    eprintln!("not added: {refused}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn list(app: &App) -> anyhow::Result<ExitCode> {
    let mut conn = app.store.read().await?;
    let trainings = rally::store::trainings::list(&mut conn).await?;
    if trainings.is_empty() {
        println!(
            "no trainings: add [[trainings]] to the configuration or use `rally trainings add`"
        );
        return Ok(ExitCode::SUCCESS);
    }
    for training in &trainings {
        let counts = service::counts(&mut conn, training).await?;
        println!(
            "{} · {} ({}) · {} · {} min · {}",
            training.id,
            training.title,
            training.level.as_str(),
            app.local_time(training.starts_at),
            (training.ends_at - training.starts_at) / 60_000,
            service::venue(training)
        );
        println!(
            "  enrolled {}/{} · waitlist {} · checked in {} · rating {} ({}) · quiz passed {}/{} · check-in code {}",
            counts.enrolled,
            training.capacity,
            counts.waitlisted,
            counts.attended,
            counts
                .average_rating
                .map_or_else(|| "-".to_string(), |r| format!("{r:.1}")),
            counts.ratings,
            counts.quiz_passed,
            counts.quiz_taken,
            training.checkin_code
        );
    }
    Ok(ExitCode::SUCCESS)
}
