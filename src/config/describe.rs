//! `rally check-config`'s human summary of a loaded configuration.

use super::env::redact_url;
use super::*;
use crate::engine::money::Money;
use crate::engine::plan::{self, Assignment, PlanMode};

impl Config {
    /// A human summary for `rally check-config`. Secrets are shown only as `set` / `not set`,
    /// and a database password is masked.
    pub fn describe(&self) -> String {
        let p = &self.program;
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(format!(
            "config file: {}",
            self.source.as_deref().unwrap_or("none (built-in defaults)")
        ));
        line(format!("program: {}", p.name));
        line(format!("  currency: {}", p.currency));
        line(format!("  time zone: {}", p.timezone.name()));
        line(format!("  default locale: {}", p.default_locale));
        line(format!("  period: {}", period_name(p.period)));
        line(format!(
            "  rankings include pending sales: {}",
            if p.rank_pending { "yes" } else { "no" }
        ));
        line(match p.auto_approve_below {
            Some(limit) => format!("  chat reports auto-approved below: {limit} {}", p.currency),
            None => "  chat reports auto-approved below: never (every chat report needs approval)"
                .to_owned(),
        });
        if p.rates.is_empty() {
            line("  exchange rates: none (only the program currency is accepted)".to_owned());
        } else {
            line("  exchange rates:".to_owned());
            for (currency, rate) in &p.rates {
                line(format!("    1 {currency} = {rate} {}", p.currency));
            }
        }
        line(format!(
            "  invite codes valid for: {} h",
            p.invite_ttl_hours
        ));
        line(format!("database: {}", redact_url(&self.database.url)));
        let t = &self.telegram;
        line(format!(
            "telegram: {} (token {})",
            if t.token.is_some() {
                "enabled"
            } else {
                "disabled"
            },
            set_or_not(&t.token)
        ));
        line(format!("  api url: {}", t.api_base()));
        line(format!("  mode: {}", t.mode.as_str()));
        if t.mode == TelegramMode::Webhook {
            line(format!(
                "  webhook url: {}",
                t.webhook_url.as_deref().unwrap_or("not set")
            ));
            line(format!(
                "  webhook secret: {}",
                set_or_not(&t.webhook_secret)
            ));
        }
        let d = &self.discord;
        line(format!(
            "discord: {} (token {})",
            if d.token.is_some() {
                "enabled"
            } else {
                "disabled"
            },
            set_or_not(&d.token)
        ));
        line(format!("  api url: {}", d.api_base()));
        line(if d.guild_ids.is_empty() {
            "  guilds: all (global commands)".to_owned()
        } else {
            let ids: Vec<String> = d.guild_ids.iter().map(u64::to_string).collect();
            format!("  guilds: {}", ids.join(", "))
        });
        line(format!("http: listening on {}", self.http.listen));
        line(if self.admins.is_empty() {
            "admins: none".to_owned()
        } else {
            let ids: Vec<String> = self.admins.iter().map(AdminId::to_string).collect();
            format!("admins: {}", ids.join(", "))
        });
        line(format!(
            "kudos: {} per day, {} min before the same person again",
            self.kudos.daily, self.kudos.cooldown_minutes
        ));
        line(format!(
            "deals: protected for {} days",
            self.deals.protection_days
        ));
        let money = |amount: Decimal| Money::new(amount, p.currency).format();
        if self.tiers.is_empty() {
            line("tiers: none".to_owned());
        } else {
            line(
                "tiers (a partner holds the highest one whose conditions are all met):".to_owned(),
            );
            for t in &self.tiers {
                let requires = if t.requires.is_empty() {
                    String::new()
                } else {
                    format!("; requires {}", t.requires.join(", "))
                };
                line(format!(
                    "  {}: trailing 12-month sales of at least {}{requires}",
                    t.name,
                    money(t.min_trailing_sales)
                ));
            }
        }
        if self.plans.is_empty() {
            line("plans: none (no commission is computed)".to_owned());
        } else {
            line("plans:".to_owned());
            let unit = Decimal::new(1, p.currency.minor_units());
            for plan in &self.plans {
                line(format!(
                    "  {} v{}, in force from {}, {}, {}",
                    plan.id,
                    plan.version,
                    plan.effective_from.format("%Y-%m-%d"),
                    mode_name(plan.mode),
                    assignment_text(&plan.assign)
                ));
                let brackets: Vec<String> = plan
                    .brackets
                    .iter()
                    .map(|b| format!("{}% from {}", b.rate, money(b.from)))
                    .collect();
                line(format!("    brackets: {}", brackets.join(", ")));
                if plan.mode == PlanMode::Whole {
                    let cliffs = plan::cliffs(plan, unit);
                    if cliffs.is_empty() {
                        line("    cliffs: none".to_owned());
                    }
                    for cliff in cliffs {
                        line(format!("    cliff: {}", cliff.describe(p.currency)));
                    }
                }
            }
        }
        let a = &self.allocation;
        line(format!(
            "allocation: weights potential {}, contribution {}, growth {}; floor {}, cap {} \
             (fractions of the budget)",
            a.potential, a.contribution, a.growth, a.floor, a.cap
        ));
        line(format!(
            "log filter: {}",
            self.log.as_deref().unwrap_or("default (RALLY_LOG not set)")
        ));
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
