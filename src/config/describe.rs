//! `rally check-config`'s human summary of a loaded configuration.

use super::env::redact_url;
use super::*;
use crate::engine::contest::Contest;
use crate::engine::money::Money;
use crate::engine::plan::{self, Assignment, PlanMode};

impl Config {
    /// A human summary for `rally check-config`. Secrets are shown only as `set` / `not set`,
    /// and a database password is masked.
    pub fn describe(&self) -> String {
        let (p, t, d, a) = (
            &self.program,
            &self.telegram,
            &self.discord,
            &self.allocation,
        );
        let mut out = String::new();
        macro_rules! line {
            ($($arg:tt)*) => {{
                out.push_str(&format!($($arg)*));
                out.push('\n');
            }};
        }
        let on = |token: &Option<String>| match token {
            Some(_) => "enabled (token set)",
            None => "disabled (token not set)",
        };
        // `empty` when there are no items, else `full` followed by the items joined by `sep`.
        let list = |items: Vec<String>, empty: &str, full: &str, sep: &str| match items.is_empty() {
            true => empty.to_owned(),
            false => format!("{full}{}", items.join(sep)),
        };
        let money = |amount: Decimal| Money::new(amount, p.currency).format();
        let currency = p.currency;
        let source = self.source.as_deref().unwrap_or("none (built-in defaults)");
        line!(
            "config file: {source}\nprogram: {}\n  currency: {currency}",
            p.name
        );
        line!(
            "  time zone: {}\n  default locale: {}",
            p.timezone.name(),
            p.default_locale
        );
        line!("  period: {}", p.period.as_str());
        let pending = if p.rank_pending { "yes" } else { "no" };
        line!("  rankings include pending sales: {pending}");
        let limit = p.auto_approve_below.map(|l| format!("{l} {currency}"));
        let limit = limit.unwrap_or("never (every chat report needs approval)".to_owned());
        line!("  chat reports auto-approved below: {limit}");
        let rates = p
            .rates
            .iter()
            .map(|(from, rate)| format!("\n    1 {from} = {rate} {currency}"));
        let none = " none (only the program currency is accepted)";
        line!("  exchange rates:{}", list(rates.collect(), none, "", ""));
        line!("  invite codes valid for: {} h", p.invite_ttl_hours);
        line!("database: {}", redact_url(&self.database.url));
        line!("telegram: {}\n  api url: {}", on(&t.token), t.api_base());
        line!("  mode: {}", t.mode.as_str());
        if t.mode == TelegramMode::Webhook {
            line!(
                "  webhook url: {}",
                t.webhook_url.as_deref().unwrap_or("not set")
            );
            line!("  webhook secret: {}", set_or_not(&t.webhook_secret));
        }
        line!("discord: {}\n  api url: {}", on(&d.token), d.api_base());
        let guilds = d.guild_ids.iter().map(u64::to_string).collect();
        line!(
            "  guilds: {}",
            list(guilds, "all (global commands)", "", ", ")
        );
        match d.shards {
            Some(shards) => line!("  gateway shards: {shards}"),
            None => line!("  gateway shards: one (the whole bot)"),
        }
        line!("http: listening on {}", self.http.listen);
        // HTTP API and TV page (issue 13).
        line!(
            "  public url: {}",
            self.http
                .public_url
                .as_deref()
                .unwrap_or("not set (links use the listen address)")
        );
        line!(
            "  TV page shows amounts: {}",
            if self.http.tv_show_amounts {
                "yes"
            } else {
                "no"
            }
        );
        let admins = self.admins.iter().map(AdminId::to_string).collect();
        line!("admins: {}", list(admins, "none", "", ", "));
        let (daily, cooldown) = (self.kudos.daily, self.kudos.cooldown_minutes);
        line!("kudos: {daily} per day, {cooldown} min before the same person again");
        line!("deals: protected for {} days", self.deals.protection_days);
        // community: points and badges (issue 11)
        let pts = &self.points;
        let per = Money::from_minor(pts.sale_unit_minor, currency).format();
        line!(
            "points: {} per {per} approved, featured story {}, kudos received {}, training {}, \
             podium {:?}",
            pts.per_sale_unit,
            pts.featured_story,
            pts.kudos_received,
            pts.training_completed,
            pts.podium
        );
        let badges: Vec<String> = self.badge_rules().iter().map(|b| b.name.clone()).collect();
        line!(
            "badges{}: {}",
            if self.badges.is_none() {
                " (built-in)"
            } else {
                ""
            },
            badges.join(", ")
        );
        let tiers = self.tiers.iter().map(|tier| {
            let requires = list(tier.requires.clone(), "", "; requires ", ", ");
            let min = money(tier.min_trailing_sales);
            format!(
                "\n  {}: trailing 12-month sales of at least {min}{requires}",
                tier.name
            )
        });
        let held = " (a partner holds the highest one whose conditions are all met):";
        line!("tiers{}", list(tiers.collect(), ": none", held, ""));
        line!(
            "plans:{}",
            if self.plans.is_empty() {
                " none (no commission is computed)"
            } else {
                ""
            }
        );
        let unit = Decimal::new(1, currency.minor_units());
        for plan in &self.plans {
            let (id, version) = (&plan.id, plan.version);
            let mode = format!("{:?}", plan.mode).to_lowercase();
            let from = plan.effective_from.format("%Y-%m-%d");
            let assign = match &plan.assign {
                Assignment::Default => "the default plan".to_owned(),
                Assignment::Kind(k) => format!("for kind {k}"),
                Assignment::Region(r) => format!("for region {r}"),
                Assignment::Tier(t) => format!("for tier {t}"),
                Assignment::Partner(x) => format!("for partner {x}"),
            };
            line!("  {id} v{version}, in force from {from}, {mode}, {assign}");
            let brackets = plan.brackets.iter();
            let brackets = brackets.map(|b| format!("{}% from {}", b.rate, money(b.from)));
            line!("    brackets: {}", brackets.collect::<Vec<_>>().join(", "));
            if plan.mode == PlanMode::Whole {
                let cliffs = plan::cliffs(plan, unit);
                if cliffs.is_empty() {
                    line!("    cliffs: none");
                }
                for cliff in cliffs {
                    line!("    cliff: {}", cliff.describe(currency));
                }
            }
        }
        let weights = (a.potential, a.contribution, a.growth);
        line!(
            "allocation: weights potential {}, contribution {}, growth {}; floor {}, cap {} \
             (fractions of the budget)",
            weights.0,
            weights.1,
            weights.2,
            a.floor,
            a.cap
        );
        let o = &self.outbox;
        line!(
            "outbox: telegram {}/s ({}/s per private chat, {}/min per group), discord {}/s ({} per 5 s \
             per channel); {} attempts, lease {} s",
            o.telegram_per_second,
            o.telegram_private_per_second,
            o.telegram_group_per_minute,
            o.discord_per_second,
            o.discord_channel_per_5s,
            o.max_attempts,
            o.lease_seconds
        );
        let jobs = self.jobs.run.iter().map(|j| {
            let filters = [
                j.filters.region.as_ref().map(|r| format!("region {r}")),
                j.filters.tier.as_ref().map(|t| format!("tier {t}")),
                j.filters.kind.map(|k| format!("kind {}", k.as_str())),
                j.filters
                    .platform
                    .map(|p| format!("platform {}", p.as_str())),
            ];
            let filters: Vec<String> = filters.into_iter().flatten().collect();
            let filters = list(filters, String::new().as_str(), ", ", ", ");
            format!(
                "\n  {} \"{}\" {} to {}{filters}",
                j.name,
                j.schedule.expression(),
                j.action.as_str(),
                j.to.as_str()
            )
        });
        line!(
            "jobs (catch-up window {} h; inbox and handled messages kept {} days){}",
            self.jobs.catch_up_hours,
            self.jobs.prune_after_days,
            list(jobs.collect(), ": none", ":", "")
        );
        let trainings = self.trainings.iter().map(|t| {
            let reminders: Vec<String> = t
                .reminders
                .iter()
                .map(|m| crate::engine::training::reminder_label(*m))
                .collect();
            format!(
                "\n  {} \"{}\" ({}) {} for {} min, {} seats, reminders {}{}{}",
                t.id,
                t.title,
                t.level.as_str(),
                t.start.format("%Y-%m-%d %H:%M"),
                t.duration_minutes,
                t.capacity,
                list(reminders, "none", "", ", "),
                t.certification
                    .as_ref()
                    .map_or(String::new(), |c| format!(", certifies {c}")),
                t.quiz.as_ref().map_or(String::new(), |q| format!(
                    ", quiz {} of {}",
                    q.pass,
                    q.questions.len()
                )),
            )
        });
        line!("trainings{}", list(trainings.collect(), ": none", ":", ""));
        let contests = self.contests.iter().map(|c| {
            format!(
                "\n  {} \"{}\" {}, {} to {}",
                c.id,
                c.name,
                c.metric.as_str(),
                c.start,
                c.end
            )
        });
        line!("contests{}", list(contests.collect(), ": none", ":", ""));
        let log = self.log.as_deref().unwrap_or("default (RALLY_LOG not set)");
        line!("log filter: {log}");
        out
    }
}

impl Config {
    /// Everything about one contest, for `rally contests show`.
    pub fn describe_contest(&self, c: &Contest) -> String {
        use crate::engine::contest::{Award, ContestChats, Metric, Scope};
        let currency = self.program.currency;
        let money = |amount: Decimal| Money::new(amount, currency).format();
        let mut out = format!("{} — {}", c.id, c.name);
        if let Some(zh) = &c.name_zh {
            out.push_str(&format!(" ({zh})"));
        }
        out.push('\n');
        let mut line = |text: String| {
            out.push_str("  ");
            out.push_str(&text);
            out.push('\n');
        };
        line(format!("metric: {}", c.metric.as_str()));
        if c.metric == Metric::GrowthRate && !c.handicap {
            let (from, to) = c.base_span();
            line(format!(
                "growth base: {} ({from} to {to}); partners without a base rank after those \
                 with one, by amount",
                c.growth_base.as_str()
            ));
        }
        line(format!(
            "from {} to {} inclusive ({})",
            c.start,
            c.end,
            self.program.timezone.name()
        ));
        line(format!(
            "scope: {}",
            match &c.scope {
                Scope::Everyone => "everyone".to_owned(),
                Scope::Region(r) => format!("region {r}"),
                Scope::Kind(k) => format!("kind {}", k.as_str()),
                Scope::Tier(t) => format!("tier {t}"),
                Scope::Partners(p) => format!("partners {}", p.join(", ")),
            }
        ));
        if c.uses_target() {
            line(format!(
                "ranked by attainment of each partner's contest target{}",
                if c.handicap { " (handicap)" } else { "" }
            ));
            for (name, target) in &c.targets {
                line(format!("  target {name}: {}", money(*target)));
            }
            line("  others: their plan's target × months in the span".to_owned());
        }
        line(format!("qualifies from: {}", money(c.min_sales)));
        for prize in &c.prizes {
            let award = match &prize.award {
                Award::Money(a) => money(*a),
                Award::Reward(r) => r.clone(),
            };
            line(format!("prize for place {}: {award}", prize.rank));
        }
        line(format!(
            "updates: {}",
            c.updates
                .as_ref()
                .map_or("none".to_owned(), |u| format!("\"{}\"", u.expression()))
        ));
        line(format!(
            "chats: {}",
            match &c.chats {
                ContestChats::All => "all program chats".to_owned(),
                ContestChats::Region(r) => format!("program chats of region {r}"),
            }
        ));
        out
    }
}
