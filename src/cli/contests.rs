//! `rally contests list|show <id>` and the contest warnings of `rally check-config`.

use std::collections::HashSet;
use std::process::ExitCode;

use rally::app::App;
use rally::config::Config;
use rally::engine::contest::{Contest, Phase};
use rally::engine::partner::name_key;
use rally::features::contests::service;
use rally::store::{Store, contests as stored, partners};

use super::with_app;

fn phase_word(contest: &Contest, app: &App) -> &'static str {
    match contest.phase(app.local_date(app.now())) {
        Phase::Upcoming => "upcoming",
        Phase::Running => "running",
        Phase::Ended => "ended",
    }
}

/// Every contest with its phase and leader.
pub(crate) async fn list(config: Config) -> anyhow::Result<ExitCode> {
    if config.contests.is_empty() {
        println!("no [[contests]] in the configuration");
        return Ok(ExitCode::SUCCESS);
    }
    with_app(config, async |app| {
        service::prepare(app).await?;
        let mut conn = app.store.read().await?;
        for contest in &app.config.contests {
            let leader = match stored::archived_one(&mut conn, &contest.id).await? {
                Some(archived) => service::final_standings(&archived)?
                    .first()
                    .map(|s| format!("winner {}", s.partner)),
                None => service::board(app, &mut conn, contest, None)
                    .await?
                    .top
                    .first()
                    .map(|(_, _, name, _)| format!("leader {name}")),
            };
            println!(
                "{} \"{}\" {} {} to {}, {}{}",
                contest.id,
                contest.name,
                contest.metric.as_str(),
                contest.start,
                contest.end,
                phase_word(contest, app),
                leader.map(|l| format!(", {l}")).unwrap_or_default()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// One contest: its rules and its standings (final ones once archived).
pub(crate) async fn show(config: Config, id: &str) -> anyhow::Result<ExitCode> {
    let Some(contest) = config.contests.iter().find(|c| c.is_named(id)).cloned() else {
        let ids: Vec<&str> = config.contests.iter().map(|c| c.id.as_str()).collect();
        anyhow::bail!(
            "no contest {id:?} in the configuration; contests: {}",
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        );
    };
    with_app(config, async |app| {
        print!("{}", app.config.describe_contest(&contest));
        println!("  now: {}", phase_word(&contest, app));
        let rule = service::rule(app, &contest);
        let mut conn = app.store.read().await?;
        if let Some(archived) = stored::archived_one(&mut conn, &contest.id).await? {
            println!("final standings ({} qualified):", archived.participants);
            for s in service::final_standings(&archived)?
                .iter()
                .take(service::TOP)
            {
                let (_, value) = service::shown(app, rule.shown(&s.facts()));
                println!("  {}. {} — {value}", s.place, s.partner);
            }
            for prize in stored::prizes_of(&mut conn, &contest.id).await? {
                let won = match (prize.amount_minor, &prize.reward) {
                    (Some(m), _) => {
                        format!("{} on the {} statement", app.program_money(m), prize.period)
                    }
                    (None, Some(r)) => r.clone(),
                    _ => String::new(),
                };
                println!(
                    "  prize for place {}: partner {} — {won}",
                    prize.place, prize.partner
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        if contest.phase(app.local_date(app.now())) == Phase::Upcoming {
            return Ok(ExitCode::SUCCESS);
        }
        let board = service::board(app, &mut conn, &contest, None).await?;
        println!("standings ({} qualified):", board.participants);
        for (place, _, name, facts) in &board.top {
            let (_, value) = service::shown(app, rule.shown(facts));
            println!("  {place}. {name} — {value}");
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// Contest targets naming partners the database does not have (yet): warnings, as partners
/// may join later. Nothing is said when the database cannot be read.
pub(crate) async fn target_warnings(config: &Config) -> Vec<String> {
    let named: Vec<(&Contest, &String)> = config
        .contests
        .iter()
        .flat_map(|c| c.targets.keys().map(move |name| (c, name)))
        .collect();
    if named.is_empty() {
        return Vec::new();
    }
    let url = &config.database.url;
    // Never create an SQLite file just to look.
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        && !std::path::Path::new(path.split('?').next().unwrap_or(path)).exists()
    {
        return vec![format!(
            "contest targets not checked against partners: database {path} does not exist yet"
        )];
    }
    let known: HashSet<String> = match Store::connect(url).await {
        Ok(store) => {
            let names = match store.read().await {
                Ok(mut conn) => partners::list(&mut conn).await.map(|list| {
                    list.into_iter()
                        .map(|p| name_key(&p.name))
                        .collect::<HashSet<_>>()
                }),
                Err(e) => Err(e),
            };
            store.close().await;
            match names {
                Ok(names) => names,
                Err(e) => {
                    return vec![format!("contest targets not checked against partners: {e}")];
                }
            }
        }
        Err(e) => return vec![format!("contest targets not checked against partners: {e}")],
    };
    named
        .into_iter()
        .filter(|(_, name)| !known.contains(&name_key(name)))
        .map(|(contest, name)| {
            format!(
                "contest {}: target for {name:?}, which is not a partner yet (it applies once a \
                 partner of that name joins)",
                contest.id
            )
        })
        .collect()
}
