//! `rally check-config`'s human summary of a loaded configuration.

use super::env::redact_url;
use super::*;
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
        let enabled = |token: &Option<String>| {
            if token.is_some() {
                "enabled"
            } else {
                "disabled"
            }
        };
        let joined = |items: Vec<String>| items.join(", ");
        let money = |amount: Decimal| Money::new(amount, p.currency).format();
        let currency = p.currency;

        let source = self.source.as_deref().unwrap_or("none (built-in defaults)");
        line!("config file: {source}");
        line!("program: {}", p.name);
        line!("  currency: {currency}");
        line!("  time zone: {}", p.timezone.name());
        line!("  default locale: {}", p.default_locale);
        line!("  period: {}", period_name(p.period));
        let pending = if p.rank_pending { "yes" } else { "no" };
        line!("  rankings include pending sales: {pending}");
        match p.auto_approve_below {
            Some(limit) => line!("  chat reports auto-approved below: {limit} {currency}"),
            None => line!(
                "  chat reports auto-approved below: never (every chat report needs approval)"
            ),
        }
        if p.rates.is_empty() {
            line!("  exchange rates: none (only the program currency is accepted)");
        } else {
            line!("  exchange rates:");
        }
        for (from, rate) in &p.rates {
            line!("    1 {from} = {rate} {currency}");
        }
        line!("  invite codes valid for: {} h", p.invite_ttl_hours);
        line!("database: {}", redact_url(&self.database.url));
        line!(
            "telegram: {} (token {})",
            enabled(&t.token),
            set_or_not(&t.token)
        );
        line!("  api url: {}", t.api_base());
        line!("  mode: {}", t.mode.as_str());
        if t.mode == TelegramMode::Webhook {
            line!(
                "  webhook url: {}",
                t.webhook_url.as_deref().unwrap_or("not set")
            );
            line!("  webhook secret: {}", set_or_not(&t.webhook_secret));
        }
        line!(
            "discord: {} (token {})",
            enabled(&d.token),
            set_or_not(&d.token)
        );
        line!("  api url: {}", d.api_base());
        if d.guild_ids.is_empty() {
            line!("  guilds: all (global commands)");
        } else {
            line!(
                "  guilds: {}",
                joined(d.guild_ids.iter().map(u64::to_string).collect())
            );
        }
        line!("http: listening on {}", self.http.listen);
        if self.admins.is_empty() {
            line!("admins: none");
        } else {
            line!(
                "admins: {}",
                joined(self.admins.iter().map(AdminId::to_string).collect())
            );
        }
        let (daily, cooldown) = (self.kudos.daily, self.kudos.cooldown_minutes);
        line!("kudos: {daily} per day, {cooldown} min before the same person again");
        line!("deals: protected for {} days", self.deals.protection_days);
        if self.tiers.is_empty() {
            line!("tiers: none");
        } else {
            line!("tiers (a partner holds the highest one whose conditions are all met):");
        }
        for tier in &self.tiers {
            let (name, min) = (&tier.name, money(tier.min_trailing_sales));
            let requires = match tier.requires.is_empty() {
                true => String::new(),
                false => format!("; requires {}", tier.requires.join(", ")),
            };
            line!("  {name}: trailing 12-month sales of at least {min}{requires}");
        }
        if self.plans.is_empty() {
            line!("plans: none (no commission is computed)");
        } else {
            line!("plans:");
        }
        let unit = Decimal::new(1, currency.minor_units());
        for plan in &self.plans {
            let (id, version, mode) = (&plan.id, plan.version, mode_name(plan.mode));
            let from = plan.effective_from.format("%Y-%m-%d");
            let assign = assignment_text(&plan.assign);
            line!("  {id} v{version}, in force from {from}, {mode}, {assign}");
            let brackets = plan.brackets.iter();
            let brackets = brackets.map(|b| format!("{}% from {}", b.rate, money(b.from)));
            line!("    brackets: {}", joined(brackets.collect()));
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
        line!(
            "allocation: weights potential {}, contribution {}, growth {}; floor {}, cap {} \
             (fractions of the budget)",
            a.potential,
            a.contribution,
            a.growth,
            a.floor,
            a.cap
        );
        let log = self.log.as_deref().unwrap_or("default (RALLY_LOG not set)");
        line!("log filter: {log}");
        out
    }
}

fn mode_name(mode: PlanMode) -> &'static str {
    match mode {
        PlanMode::Marginal => "marginal",
        PlanMode::Whole => "whole",
    }
}

/// `for region East`, `the default plan`, … for [`Config::describe`].
fn assignment_text(assign: &Assignment) -> String {
    match assign {
        Assignment::Default => "the default plan".to_owned(),
        Assignment::Kind(k) => format!("for kind {k}"),
        Assignment::Region(r) => format!("for region {r}"),
        Assignment::Tier(t) => format!("for tier {t}"),
        Assignment::Partner(x) => format!("for partner {x}"),
    }
}

fn period_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}
