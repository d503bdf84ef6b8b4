//! The one semantic pass over the raw file: gives each value its meaning (currency, time zone,
//! exact decimals, plans, tiers, …) and collects every problem with its line instead of
//! stopping at the first, so that one run of `rally check-config` shows them all.
//!
//! Plans, tiers and allocation weights are checked with [`plan::validate`],
//! [`plan::validate_versions`] and [`tier::validate`]; each problem they find is attached to the
//! line of the key it names.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use toml::Spanned;
use toml::Value;
use toml::de::{DeTable, DeValue};

use super::env::{normalize_http_url, parse_id, parse_listen, validate_database_url};
use super::raw::*;
use super::*;
use crate::engine::plan::{
    self, Accelerator, Assignment, BonusStep, Bracket, GrowthRebate, Plan, PlanMode, VolumeRebate,
};
use crate::engine::tier::{self, TierRule};

const UNSUPPORTED_SECTIONS: &[&str] = &["contests", "trainings", "jobs"];
const ASSIGN_KEYS: &[&str] = &["region", "kind", "tier", "partner"];

type Read<T> = Result<T, String>;

/// Collects the problems of one load, file and environment.
pub(super) struct Checker<'t> {
    pub text: &'t str,
    pub source: &'t str,
    pub issues: Vec<ConfigIssue>,
    /// Where the program currency is written, for the "needs no rate" hint.
    currency_at: Option<Range<usize>>,
    /// Where `telegram.mode` is written: webhook mode is checked after the environment.
    pub telegram_mode_at: Option<Range<usize>>,
}

impl<'t> Checker<'t> {
    pub fn new(text: &'t str, source: &'t str) -> Self {
        Checker {
            text,
            source,
            issues: Vec::new(),
            currency_at: None,
            telegram_mode_at: None,
        }
    }

    pub fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub fn issue(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let line = self.line(&span);
        self.issues.push(ConfigIssue {
            origin: IssueOrigin::File {
                name: self.source.to_owned(),
                line,
            },
            key: key.to_owned(),
            message: message.into(),
        });
    }

    /// File issues by line (stable), then environment issues in the order found.
    pub fn finish(self) -> Vec<ConfigIssue> {
        let mut issues = self.issues;
        issues.sort_by_key(|i| match &i.origin {
            IssueOrigin::File { line, .. } => (0, *line),
            IssueOrigin::Env { .. } => (1, 0),
        });
        issues
    }

    /// A key serde ignored: a secret, the log filter, a section this version does not support,
    /// or a typo. serde_ignored gives only the path, so the key's line is looked up in the
    /// span-annotated tree.
    pub fn ignored(&mut self, root: &DeTable<'_>, segments: &[Result<String, usize>]) {
        let (mut key, mut parent, mut span) = (String::new(), String::new(), 0..0);
        let mut node: Option<&DeValue<'_>> = None;
        for (i, segment) in segments.iter().enumerate() {
            let found = match (segment, node) {
                (Ok(name), None) => find(root, name),
                (Ok(name), Some(DeValue::Table(t))) => find(t, name),
                (Err(index), Some(DeValue::Array(items))) => {
                    items.get(*index).map(|v| (v.span(), v.get_ref()))
                }
                _ => None,
            };
            if let Some((s, value)) = found {
                (span, node) = (s, Some(value));
            }
            match segment {
                Ok(name) if i + 1 < segments.len() => {
                    parent = join_key(&parent, name);
                    key = join_key(&key, name);
                }
                Ok(name) => key = join_key(&key, name),
                Err(index) => key.push_str(&format!("[{index}]")),
            }
        }
        let name = match segments.last() {
            Some(Ok(name)) => name.as_str(),
            _ => "",
        };
        let secret = |var: &str| {
            format!("secrets come only from the environment: set {var} (and remove this key)")
        };
        let message = match (parent.as_str(), name) {
            ("", "log") => format!(
                "the log filter comes only from the environment: set {}",
                env_vars::LOG
            ),
            ("", n) if UNSUPPORTED_SECTIONS.contains(&n) => format!(
                "the [[{n}]] section is not supported by this version of Rally yet; remove it"
            ),
            ("telegram", "token" | "bot_token") => secret(env_vars::TELEGRAM_BOT_TOKEN),
            ("telegram", "webhook_secret" | "secret" | "secret_token") => {
                secret(env_vars::TELEGRAM_WEBHOOK_SECRET)
            }
            ("discord", "token" | "bot_token") => secret(env_vars::DISCORD_TOKEN),
            ("database", "password") => format!(
                "secrets come only from the environment: put the whole URL with its password \
                 in {}",
                env_vars::DATABASE_URL
            ),
            ("", _) => unknown_key(name, &[RawConfig::KEYS, UNSUPPORTED_SECTIONS].concat()),
            _ => unknown_key(name, keys_of(&parent)),
        };
        self.issue(span, &key, message);
    }

    /// Reads a present value; a problem is reported at its line under `key`. `read` gets the
    /// value and its source text (a float's exact digits).
    fn val<T>(
        &mut self,
        v: &Leaf,
        key: &str,
        read: impl FnOnce(&Value, &str) -> Read<T>,
    ) -> Option<T> {
        self.read(v.as_ref()?, key, read)
    }

    fn read<T>(
        &mut self,
        v: &Val,
        key: &str,
        read: impl FnOnce(&Value, &str) -> Read<T>,
    ) -> Option<T> {
        let text = self.text.get(v.span()).unwrap_or_default();
        read(v.get_ref(), text)
            .map_err(|m| self.issue(v.span(), key, m))
            .ok()
    }

    fn table<'a, T>(&mut self, n: &'a Spanned<Table<T>>, key: &str, want: &str) -> Option<&'a T> {
        match n.get_ref() {
            Table::Ok(t) => Some(t),
            Table::Not(found) => {
                self.issue(n.span(), key, format!("expected {want}, found {found}"));
                None
            }
        }
    }

    fn list<'a, T>(&mut self, n: &'a Spanned<List<T>>, key: &str, want: &str) -> Option<&'a [T]> {
        match n.get_ref() {
            List::Ok(items) => Some(items),
            List::Not(found) => {
                self.issue(n.span(), key, format!("expected {want}, found {found}"));
                None
            }
        }
    }

    fn section<'a, T>(&mut self, n: &'a Section<T>, key: &str) -> Option<&'a T> {
        self.table(n.as_ref()?, key, &format!("a table ([{key}])"))
    }

    pub fn config(&mut self, raw: &RawConfig, cfg: &mut Config) {
        if let Some(p) = self.section(&raw.program, "program") {
            self.program(p, &mut cfg.program);
        }
        if let Some(d) = self.section(&raw.database, "database") {
            set(
                &mut cfg.database.url,
                self.val(&d.url, "database.url", parsed(validate_database_url)),
            );
        }
        if let Some(t) = self.section(&raw.telegram, "telegram") {
            let tg = &mut cfg.telegram;
            let url = || parsed(normalize_http_url);
            tg.api_url = self
                .val(&t.api_url, "telegram.api_url", url())
                .or(tg.api_url.take());
            tg.webhook_url = self
                .val(&t.webhook_url, "telegram.webhook_url", url())
                .or(tg.webhook_url.take());
            self.telegram_mode_at = t.mode.as_ref().map(Spanned::span);
            let mode = parsed(|s| match s.trim().to_ascii_lowercase().as_str() {
                "polling" => Ok(TelegramMode::Polling),
                "webhook" => Ok(TelegramMode::Webhook),
                _ => Err(format!(
                    "unknown mode \"{s}\" (expected \"polling\" or \"webhook\")"
                )),
            });
            set(&mut tg.mode, self.val(&t.mode, "telegram.mode", mode));
        }
        if let Some(d) = self.section(&raw.discord, "discord") {
            let dc = &mut cfg.discord;
            let url = parsed(normalize_http_url);
            dc.api_url = self
                .val(&d.api_url, "discord.api_url", url)
                .or(dc.api_url.take());
            let want = "a list of ids like [123, 456]";
            let ids = d
                .guild_ids
                .as_ref()
                .and_then(|n| self.list(n, "discord.guild_ids", want));
            for (i, item) in ids.unwrap_or_default().iter().enumerate() {
                let id = self.read(item, &format!("discord.guild_ids[{i}]"), id);
                if let Some(id) = id.filter(|id| !dc.guild_ids.contains(id)) {
                    dc.guild_ids.push(id);
                }
            }
        }
        if let Some(h) = self.section(&raw.http, "http") {
            set(
                &mut cfg.http.listen,
                self.val(&h.listen, "http.listen", parsed(parse_listen)),
            );
        }
        if let Some(k) = self.section(&raw.kudos, "kudos") {
            set(
                &mut cfg.kudos.daily,
                self.val(&k.daily, "kudos.daily", uint(0)),
            );
            let cooldown = self.val(&k.cooldown_minutes, "kudos.cooldown_minutes", uint(0));
            set(&mut cfg.kudos.cooldown_minutes, cooldown);
        }
        if let Some(d) = self.section(&raw.deals, "deals") {
            let days = self.val(&d.protection_days, "deals.protection_days", uint(1));
            set(&mut cfg.deals.protection_days, days);
        }
        if let Some(n) = &raw.admins {
            self.admins(n, &mut cfg.admins);
        }
        if let Some(n) = &raw.tiers {
            self.tiers(n, &mut cfg.tiers);
        }
        if let Some(n) = &raw.plans {
            self.plans(n, &mut cfg.plans);
        }
        if let Some(n) = &raw.allocation
            && let Some(a) = self.table(n, "allocation", "a table ([allocation])")
        {
            self.allocation(n.span(), a, &mut cfg.allocation);
        }
    }

    fn program(&mut self, r: &RawProgram, p: &mut ProgramConfig) {
        let name = self.val(&r.name, "program.name", |v, _| match string(v)?.trim() {
            "" => Err("must not be empty".to_owned()),
            s => Ok(s.to_owned()),
        });
        set(&mut p.name, name);
        let currency = parsed(|s| Currency::parse(s.trim()).map_err(|e| e.to_string()));
        if let Some(c) = self.val(&r.currency, "program.currency", currency) {
            p.currency = c;
            self.currency_at = r.currency.as_ref().map(Spanned::span);
        }
        let tz = parsed(|s| {
            Tz::from_str(s.trim()).map_err(|_| {
                format!(
                    "unknown time zone \"{s}\" (use an IANA name such as \"Asia/Shanghai\", \
                     \"Europe/Berlin\" or \"UTC\")"
                )
            })
        });
        set(
            &mut p.timezone,
            self.val(&r.timezone, "program.timezone", tz),
        );
        let locale = parsed(|s| {
            Locale::from_tag(s)
                .ok_or_else(|| format!("unsupported locale \"{s}\" (expected \"en\" or \"zh-CN\")"))
        });
        set(
            &mut p.default_locale,
            self.val(&r.default_locale, "program.default_locale", locale),
        );
        let period = parsed(|s| match s.trim().to_ascii_lowercase().as_str() {
            "month" => Ok(PeriodKind::Month),
            "quarter" => Ok(PeriodKind::Quarter),
            "year" => Ok(PeriodKind::Year),
            _ => Err(format!(
                "unknown period \"{s}\" (expected \"month\", \"quarter\" or \"year\")"
            )),
        });
        set(&mut p.period, self.val(&r.period, "program.period", period));
        set(
            &mut p.rank_pending,
            self.val(&r.rank_pending, "program.rank_pending", boolean),
        );
        let limit = decimal("auto_approve_below", true);
        p.auto_approve_below = self.val(&r.auto_approve_below, "program.auto_approve_below", limit);
        let ttl = self.val(&r.invite_ttl_hours, "program.invite_ttl_hours", uint(1));
        set(&mut p.invite_ttl_hours, ttl);
        let Some(node) = &r.rates else { return };
        let Some(rates) = self.table(node, "program.rates", "a table ([program.rates])") else {
            return;
        };
        // Checked in file order, so that "given twice" names the second line.
        let mut rates: Vec<(&String, &Val)> = rates.iter().collect();
        rates.sort_by_key(|(_, v)| v.span().start);
        for (code, v) in rates {
            let path = format!("program.rates.{code}");
            let currency =
                Currency::parse(code).map_err(|e| self.issue(v.span(), &path, e.to_string()));
            let rate = self.read(v, &path, decimal(code, true));
            let (Ok(currency), Some(rate)) = (currency, rate) else {
                continue;
            };
            if currency == p.currency {
                let at = match &self.currency_at {
                    Some(s) => format!(" (line {})", self.line(s)),
                    None => " (the default)".to_owned(),
                };
                let m = format!(
                    "{currency} is the program currency{at}; it needs no rate, remove this line"
                );
                self.issue(v.span(), &path, m);
            } else if p.rates.insert(currency, rate).is_some() {
                self.issue(
                    v.span(),
                    &path,
                    format!("a rate for {currency} is given twice"),
                );
            }
        }
    }

    fn admins(&mut self, node: &Spanned<List<Spanned<Table<RawAdmin>>>>, out: &mut Vec<AdminId>) {
        let want = "[[admins]] entries (platform = \"telegram\", id = \"123\")";
        let Some(entries) = self.list(node, "admins", want) else {
            return;
        };
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("admins[{i}]");
            let Some(a) = self.table(entry, &at, &format!("a table ([{at}])")) else {
                continue;
            };
            let platform = parsed(|s| {
                AdminPlatform::parse(s).ok_or_else(|| {
                    format!("unknown platform \"{s}\" (expected \"telegram\" or \"discord\")")
                })
            });
            let platform = self.val(&a.platform, &format!("{at}.platform"), platform);
            let id = self.val(&a.id, &format!("{at}.id"), id);
            for (missing, what) in [(a.platform.is_none(), "platform"), (a.id.is_none(), "id")] {
                if missing {
                    let m = format!("missing `{what}` (each admin needs platform and id)");
                    self.issue(entry.span(), &at, m);
                }
            }
            if let (Some(platform), Some(id)) = (platform, id) {
                let admin = AdminId { platform, id };
                if !out.contains(&admin) {
                    out.push(admin);
                }
            }
        }
    }

    fn tiers(&mut self, node: &Entries1<RawTier>, out: &mut Vec<TierRule>) {
        let want = "[[tiers]] entries (name = \"Gold\", min_trailing_sales = 1000000, \
                    requires = [\"sales-basics\"])";
        let Some(entries) = self.list(node, "tiers", want) else {
            return;
        };
        let mut rules = Vec::with_capacity(entries.len());
        let mut spans = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let mut s = EntrySpans::new(format!("tiers[{i}]"), entry.span());
            let mut rule = TierRule {
                name: String::new(),
                min_trailing_sales: Decimal::ZERO,
                requires: Vec::new(),
            };
            let at = s.at.clone();
            if let Some(t) = self.table(entry, &at, &format!("a table ([{at}])")) {
                let name = self.val(&t.name, &format!("{at}.name"), trimmed);
                set(&mut rule.name, s.note("name", &t.name, name));
                let min = self.val(
                    &t.min_trailing_sales,
                    &format!("{at}.min_trailing_sales"),
                    decimal("min_trailing_sales", false),
                );
                set(
                    &mut rule.min_trailing_sales,
                    s.note("min_trailing_sales", &t.min_trailing_sales, min),
                );
                let requires = t
                    .requires
                    .as_ref()
                    .and_then(|n| self.strings(n, &format!("{at}.requires")));
                set(
                    &mut rule.requires,
                    s.note("requires", &t.requires, requires),
                );
                for (what, missing) in [
                    ("name", t.name.is_none()),
                    ("min_trailing_sales", t.min_trailing_sales.is_none()),
                ] {
                    if missing {
                        let m = format!(
                            "missing `{what}` (each tier needs name and min_trailing_sales)"
                        );
                        self.issue(entry.span(), &at, m);
                        s.failed.insert(what.to_owned());
                    }
                }
            } else {
                s.failed
                    .extend(RawTier::KEYS.iter().map(|k| (*k).to_owned()));
            }
            rules.push(rule);
            spans.push(s);
        }
        for message in tier::validate(&rules) {
            self.tier_problem(&message, &spans, node.span());
        }
        *out = rules;
    }

    fn strings(&mut self, node: &Spanned<List<Val>>, key: &str) -> Option<Vec<String>> {
        let items = self.list(node, key, "a list of strings like [\"sales-basics\"]")?;
        let read: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(j, item)| self.read(item, &format!("{key}[{j}]"), trimmed))
            .collect();
        read.into_iter().collect()
    }

    /// Attaches a [`tier::validate`] message (`tiers[1]: name "Gold" is already used by
    /// tiers[0]`) to the line of the key it is about.
    fn tier_problem(&mut self, message: &str, spans: &[EntrySpans], fallback: Range<usize>) {
        let found =
            parse_indexed(message, "tiers").and_then(|(i, rest)| Some((spans.get(i)?, rest)));
        let Some((s, rest)) = found else {
            self.issue(fallback, "tiers", message);
            return;
        };
        // After the label: `: …` or ` ("Gold"): …`.
        let text = match rest.strip_prefix(": ") {
            Some(text) => text,
            None => rest.rfind("): ").map_or(rest, |i| &rest[i + 3..]),
        };
        let field = ["name", "min_trailing_sales", "requires"]
            .into_iter()
            .find(|f| {
                if *f == "name" {
                    text.starts_with(f)
                } else {
                    text.contains(f)
                }
            })
            .unwrap_or("");
        let mut text = text.to_owned();
        if let Some(pos) = text.find("tiers[")
            && let Some((k, _)) = parse_indexed(&text[pos..], "tiers")
            && let Some(other) = spans.get(k)
        {
            let line = self.line(&other.span_of("name"));
            text.push_str(&format!(" (line {line})"));
        }
        self.entry_problem(s, field, text);
    }

    /// Reports a problem an engine check found in a parsed entry at the line of the key `field`
    /// names (relative to the entry), unless that part of the entry could not be read: then the
    /// problem would only echo the read error, or be about a placeholder.
    fn entry_problem(&mut self, s: &EntrySpans, field: &str, message: String) {
        if s.failed
            .contains(field.split(['.', '[']).next().unwrap_or(field))
        {
            return;
        }
        let key = if field.is_empty() {
            s.at.clone()
        } else {
            join_key(&s.at, field)
        };
        self.issue(s.span_of(field), &key, message);
    }

    fn plans(&mut self, node: &Entries1<RawPlan>, out: &mut Vec<Plan>) {
        let want = "[[plans]] entries (id = \"standard\", version = 1, effective_from = \
                    \"2026-01-01\", brackets = […])";
        let Some(entries) = self.list(node, "plans", want) else {
            return;
        };
        let mut plans = Vec::with_capacity(entries.len());
        let mut spans = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let mut s = EntrySpans::new(format!("plans[{i}]"), entry.span());
            let at = s.at.clone();
            let plan = match self.table(entry, &at, &format!("a table ([{at}])")) {
                Some(raw) => self.plan(raw, &mut s),
                None => {
                    s.failed
                        .extend(RawPlan::KEYS.iter().map(|k| (*k).to_owned()));
                    empty_plan()
                }
            };
            plans.push(plan);
            spans.push(s);
        }
        for (plan, s) in plans.iter().zip(&spans) {
            for problem in plan::validate(plan) {
                self.entry_problem(s, &problem.field, problem.message);
            }
        }
        // Versions are compared only between entries whose id, version and date were read.
        let complete: Vec<usize> = (0..plans.len())
            .filter(|&i| {
                ["id", "version", "effective_from"]
                    .iter()
                    .all(|f| !spans[i].failed.contains(*f))
            })
            .collect();
        let list: Vec<Plan> = complete.iter().map(|&i| plans[i].clone()).collect();
        for problem in plan::validate_versions(&list) {
            let found = parse_indexed(&problem.field, "plans")
                .and_then(|(j, rest)| Some((spans.get(*complete.get(j)?)?, rest)));
            match found {
                Some((s, rest)) => {
                    let field = rest.strip_prefix('.').unwrap_or(rest);
                    self.entry_problem(s, field, problem.message);
                }
                None => self.issue(node.span(), "plans", problem.to_string()),
            }
        }
        *out = plans;
    }

    /// One `[[plans]]` entry; the parts that could not be read are placeholders marked failed.
    fn plan(&mut self, r: &RawPlan, s: &mut EntrySpans) -> Plan {
        let mut plan = empty_plan();
        let at = s.at.clone();
        let key = |name: &str| format!("{at}.{name}");
        let id = self.val(&r.id, &key("id"), trimmed);
        set(&mut plan.id, s.note("id", &r.id, id));
        let version = self.val(&r.version, &key("version"), uint(1));
        set(&mut plan.version, s.note("version", &r.version, version));
        let from = self.val(&r.effective_from, &key("effective_from"), date);
        set(
            &mut plan.effective_from,
            s.note("effective_from", &r.effective_from, from),
        );
        let mode = parsed(|v| match v.trim().to_ascii_lowercase().as_str() {
            "marginal" => Ok(PlanMode::Marginal),
            "whole" => Ok(PlanMode::Whole),
            _ => Err(format!(
                "unknown mode \"{v}\" (expected \"marginal\" or \"whole\")"
            )),
        });
        let mode = self.val(&r.mode, &key("mode"), mode);
        set(&mut plan.mode, s.note("mode", &r.mode, mode));
        let target = self.val(&r.target, &key("target"), decimal("target", false));
        plan.target = s.note("target", &r.target, target);
        let cap = self.val(&r.cap, &key("cap"), decimal("cap", false));
        plan.cap = s.note("cap", &r.cap, cap);

        let example = "{ from = 0, rate = 3 }";
        let rows = self.rows(&r.brackets, &key("brackets"), "brackets", example, s);
        let rows = s.note("brackets", &r.brackets, rows).unwrap_or_default();
        plan.brackets = rows
            .iter()
            .filter_map(|v| match v[..] {
                [from, rate] => Some(Bracket { from, rate }),
                _ => None,
            })
            .collect();
        let example = "{ attainment = 100, amount = 2000 }";
        let rows = self.rows(&r.bonuses, &key("bonuses"), "bonuses", example, s);
        let rows = s.note("bonuses", &r.bonuses, rows).unwrap_or_default();
        plan.bonuses = rows
            .iter()
            .filter_map(|v| match v[..] {
                [attainment, amount] => Some(BonusStep { attainment, amount }),
                _ => None,
            })
            .collect();

        let example = "{ above_attainment = 100, multiplier = 1.5 }";
        let v = r
            .accelerator
            .as_ref()
            .and_then(|n| self.fields(n, &key("accelerator"), "accelerator", example, s));
        plan.accelerator = s
            .note("accelerator", &r.accelerator, v)
            .and_then(|v| match v[..] {
                [above_attainment, multiplier] => Some(Accelerator {
                    above_attainment,
                    multiplier,
                }),
                _ => None,
            });
        let example = "{ threshold = 200000, rate = 1 }";
        let v = r
            .volume_rebate
            .as_ref()
            .and_then(|n| self.fields(n, &key("volume_rebate"), "volume_rebate", example, s));
        plan.volume_rebate =
            s.note("volume_rebate", &r.volume_rebate, v)
                .and_then(|v| match v[..] {
                    [threshold, rate] => Some(VolumeRebate { threshold, rate }),
                    _ => None,
                });
        let v = r.growth_rebate.as_ref().and_then(|n| {
            self.fields(n, &key("growth_rebate"), "growth_rebate", "{ rate = 2 }", s)
        });
        plan.growth_rebate =
            s.note("growth_rebate", &r.growth_rebate, v)
                .and_then(|v| match v[..] {
                    [rate] => Some(GrowthRebate { rate }),
                    _ => None,
                });

        let rates = r
            .category_rates
            .as_ref()
            .and_then(|n| self.category_rates(n, &key("category_rates"), s));
        set(
            &mut plan.category_rates,
            s.note("category_rates", &r.category_rates, rates),
        );
        let assign = r
            .assign
            .as_ref()
            .and_then(|n| self.assignment(n, &key("assign"), s));
        set(&mut plan.assign, s.note("assign", &r.assign, assign));

        for (what, missing) in [
            ("id", r.id.is_none()),
            ("version", r.version.is_none()),
            ("effective_from", r.effective_from.is_none()),
        ] {
            if missing {
                let m =
                    format!("missing `{what}` (each plan needs id, version and effective_from)");
                self.issue(s.entry.clone(), &at, m);
                s.failed.insert(what.to_owned());
            }
        }
        plan
    }

    /// A table whose keys are all required decimals (`{ from = 0, rate = 3 }`), in the order
    /// of its raw struct. Each value's span is recorded as `field.name` in `s`.
    fn fields<T: Row>(
        &mut self,
        node: &Spanned<Table<T>>,
        path: &str,
        field: &str,
        example: &str,
        s: &mut EntrySpans,
    ) -> Option<Vec<Decimal>> {
        let t = self.table(node, path, &format!("a table like {example}"))?;
        let mut out = Vec::new();
        let mut ok = true;
        for (name, v) in t.leaves() {
            let Some(v) = v else {
                self.issue(
                    node.span(),
                    path,
                    format!("missing `{name}` (expected {example})"),
                );
                ok = false;
                continue;
            };
            s.fields.insert(format!("{field}.{name}"), v.span());
            match self.read(v, &join_key(path, name), decimal(name, false)) {
                Some(d) => out.push(d),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A list of [`Checker::fields`] tables; each item's span is recorded as `field[j]`.
    fn rows<T: Row>(
        &mut self,
        node: &Rows<T>,
        path: &str,
        field: &str,
        example: &str,
        s: &mut EntrySpans,
    ) -> Option<Vec<Vec<Decimal>>> {
        let items = self.list(
            node.as_ref()?,
            path,
            &format!("a list like [ {example}, … ]"),
        )?;
        let mut rows = Vec::with_capacity(items.len());
        let mut ok = true;
        for (j, item) in items.iter().enumerate() {
            let item_field = format!("{field}[{j}]");
            s.fields.insert(item_field.clone(), item.span());
            match self.fields(item, &format!("{path}[{j}]"), &item_field, example, s) {
                Some(row) => rows.push(row),
                None => ok = false,
            }
        }
        ok.then_some(rows)
    }

    fn category_rates(
        &mut self,
        node: &Spanned<ValMap>,
        path: &str,
        s: &mut EntrySpans,
    ) -> Option<BTreeMap<String, Decimal>> {
        let t = self.table(node, path, "a table like { software = 10 }")?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (name, v) in t {
            s.fields.insert(format!("category_rates.{name}"), v.span());
            match self.read(v, &join_key(path, name), decimal(name, false)) {
                Some(rate) => {
                    out.insert(name.clone(), rate);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// `assign = { region = "East" }` (or kind / tier / partner): exactly one key. Read here
    /// rather than by serde, as the keys are alternatives and their order matters.
    fn assignment(
        &mut self,
        node: &Spanned<ValMap>,
        path: &str,
        s: &mut EntrySpans,
    ) -> Option<Assignment> {
        let t = self.table(node, path, "a table like { region = \"East\" }")?;
        let mut keys: Vec<(&String, &Val)> = t.iter().collect();
        keys.sort_by_key(|(_, v)| v.span().start);
        let mut first: Option<(&str, Range<usize>)> = None;
        let mut chosen = None;
        let mut ok = true;
        for (name, value) in keys {
            let key_path = join_key(path, name);
            s.fields.insert(format!("assign.{name}"), value.span());
            if !ASSIGN_KEYS.contains(&name.as_str()) {
                let m = format!(
                    "unknown assignment key (expected one of: {}; leave `assign` out for the \
                     default plan){}",
                    ASSIGN_KEYS.join(", "),
                    did_you_mean(name, ASSIGN_KEYS)
                );
                self.issue(value.span(), &key_path, m);
                ok = false;
                continue;
            }
            if let Some((other, span)) = &first {
                let line = self.line(span);
                let m = format!(
                    "a plan is assigned by one key only and `{other}` is already given (line \
                     {line}); use another [[plans]] entry for another group"
                );
                self.issue(value.span(), &key_path, m);
                ok = false;
                continue;
            }
            first = Some((name, value.span()));
            // A partner may be named by its id.
            let text = match (name.as_str(), value.get_ref()) {
                ("partner", Value::Integer(i)) => Some(i.to_string()),
                _ => self.read(value, &key_path, trimmed),
            };
            let Some(text) = text else {
                ok = false;
                continue;
            };
            chosen = Some(match name.as_str() {
                "region" => Assignment::Region(text),
                "kind" => Assignment::Kind(text),
                "tier" => Assignment::Tier(text),
                _ => Assignment::Partner(text),
            });
        }
        if !ok {
            return None;
        }
        if chosen.is_none() {
            self.issue(
                node.span(),
                path,
                "empty assignment: give one of region, kind, tier or partner, or leave `assign` \
                 out to make this the default plan",
            );
        }
        chosen
    }

    /// `[allocation]`: reads the keys given over the defaults, then checks the result.
    fn allocation(&mut self, header: Range<usize>, t: &RawAllocation, a: &mut AllocationWeights) {
        let mut written: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        let mut bad = false;
        for (name, v) in t.leaves() {
            let slot = match name {
                "potential" => &mut a.potential,
                "contribution" => &mut a.contribution,
                "growth" => &mut a.growth,
                "floor" => &mut a.floor,
                _ => &mut a.cap,
            };
            let Some(v) = v else { continue };
            match self.read(v, &join_key("allocation", name), decimal(name, false)) {
                Some(d) => {
                    *slot = d;
                    written.insert(name, v.span());
                }
                None => bad = true,
            }
        }
        let span_of = |name: &str| written.get(name).cloned().unwrap_or(header.clone());
        for (name, value) in [
            ("potential", a.potential),
            ("contribution", a.contribution),
            ("growth", a.growth),
            ("floor", a.floor),
            ("cap", a.cap),
        ] {
            if value < Decimal::ZERO {
                let m = format!("must not be negative, not {value}");
                self.issue(span_of(name), &join_key("allocation", name), m);
                bad = true;
            }
        }
        for (name, value) in [("floor", a.floor), ("cap", a.cap)] {
            if value > Decimal::ONE {
                let m =
                    format!("a fraction of the budget, at most 1 (the whole budget), not {value}");
                self.issue(span_of(name), &join_key("allocation", name), m);
                bad = true;
            }
        }
        if a.cap.is_zero() {
            let m = "must be more than 0: with a cap of 0 nobody could receive anything";
            self.issue(span_of("cap"), "allocation.cap", m);
            bad = true;
        }
        if bad {
            return;
        }
        if a.potential.is_zero() && a.contribution.is_zero() && a.growth.is_zero() {
            self.issue(
                header,
                "allocation",
                "the weights potential, contribution and growth are all 0; at least one must be \
                 more than 0",
            );
        } else if a.floor > a.cap {
            let cap_at = match written.get("cap") {
                Some(span) => format!("line {}", self.line(span)),
                None => "the default".to_owned(),
            };
            let m = format!(
                "the floor {} is above the cap {} ({cap_at}); 0 ≤ floor ≤ cap ≤ 1",
                a.floor, a.cap
            );
            self.issue(span_of("floor"), "allocation.floor", m);
        }
    }
}

type Entries1<T> = Spanned<List<Spanned<Table<T>>>>;

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn empty_plan() -> Plan {
    Plan {
        id: String::new(),
        version: 1,
        effective_from: NaiveDate::MIN,
        mode: PlanMode::Marginal,
        target: None,
        brackets: Vec::new(),
        category_rates: BTreeMap::new(),
        accelerator: None,
        cap: None,
        bonuses: Vec::new(),
        volume_rebate: None,
        growth_rebate: None,
        assign: Assignment::Default,
    }
}

/// serde_ignored's path as keys (`Ok`) and array indices (`Err`), without the wrappers that
/// `Spanned` and `Option` add.
pub(super) fn flatten(path: &serde_ignored::Path<'_>) -> Vec<Result<String, usize>> {
    use serde_ignored::Path;
    let mut out = match path {
        Path::Root => return Vec::new(),
        Path::Seq { parent, .. }
        | Path::Map { parent, .. }
        | Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => flatten(parent),
    };
    match path {
        Path::Seq { index, .. } => out.push(Err(*index)),
        Path::Map { key, .. } if !key.starts_with("$__serde_spanned_private") => {
            out.push(Ok(key.clone()));
        }
        _ => {}
    }
    out
}

/// The span of `name`'s key in `table` and its value.
fn find<'a, 'i>(table: &'a DeTable<'i>, name: &str) -> Option<(Range<usize>, &'a DeValue<'i>)> {
    let (key, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == name)?;
    Some((key.span(), value.get_ref()))
}

fn unknown_key(name: &str, allowed: &[&str]) -> String {
    let hint = did_you_mean(name, allowed);
    format!(
        "unknown key (expected one of: {}){hint}",
        allowed.join(", ")
    )
}

/// `; did you mean `x`?` for the allowed key closest to a misspelt one, if it is close enough
/// to be a likely typo.
fn did_you_mean(name: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| (strsim::levenshtein(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, best)| format!("; did you mean `{best}`?"))
        .unwrap_or_default()
}

fn join_key(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

// Value readers: each turns a TOML value into a meaning or a message.

fn string(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("expected a string, found {}", v.type_str()))
}

fn trimmed(v: &Value, _: &str) -> Read<String> {
    string(v).map(|s| s.trim().to_owned())
}

/// A string given meaning by `f`.
fn parsed<T>(f: impl FnOnce(&str) -> Result<T, String>) -> impl FnOnce(&Value, &str) -> Read<T> {
    move |v, _| f(string(v)?)
}

fn boolean(v: &Value, _: &str) -> Read<bool> {
    v.as_bool()
        .ok_or_else(|| format!("expected true or false, found {}", v.type_str()))
}

fn uint(min: u32) -> impl FnOnce(&Value, &str) -> Read<u32> {
    move |v, _| {
        let Value::Integer(i) = v else {
            return Err(format!("expected a whole number, found {}", v.type_str()));
        };
        u32::try_from(*i)
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| format!("must be a whole number from {min} to {}", u32::MAX))
    }
}

/// A positive id: an integer or a string of digits.
fn id(v: &Value, _: &str) -> Read<u64> {
    let parsed = match v {
        Value::Integer(i) => u64::try_from(*i).ok(),
        Value::String(s) => parse_id(s),
        other => {
            return Err(format!(
                "expected an id (a number or a string of digits), found {}",
                other.type_str()
            ));
        }
    };
    parsed
        .filter(|n| *n > 0)
        .ok_or_else(|| "expected a positive whole number id".to_owned())
}

/// An exact decimal from an integer, a quoted string or a TOML float. A float is read from its
/// source text (`7.1` is exactly 7.1), never through `f64`. `assign` is how the user writes the
/// key (`USD`), for the hint; `positive` demands more than zero.
fn decimal(assign: &str, positive: bool) -> impl FnOnce(&Value, &str) -> Read<Decimal> {
    move |v, text| {
        let d = match v {
            Value::Integer(i) => Decimal::from(*i),
            Value::String(s) => Decimal::from_str_exact(s.trim())
                .map_err(|_| format!("not a number; write it like {assign} = \"7.1\""))?,
            Value::Float(_) => {
                // The parser's text minus `_` separators: `7.1`, `-0.5`, `1.5e3`; not inf/nan.
                let t = text.replace('_', "");
                let t = t.strip_prefix('+').unwrap_or(&t);
                let exact = if t.contains(['e', 'E']) {
                    Decimal::from_scientific(t)
                } else {
                    Decimal::from_str_exact(t)
                };
                exact.map_err(|_| {
                    format!(
                        "{t} cannot be used as an exact decimal number; write it like \
                         {assign} = \"7.1\""
                    )
                })?
            }
            other => {
                return Err(format!(
                    "expected a number (e.g. {assign} = \"7.1\"), found {}",
                    other.type_str()
                ));
            }
        };
        if positive && d <= Decimal::ZERO {
            return Err("must be greater than 0".to_owned());
        }
        Ok(d)
    }
}

/// A date: `"2026-01-01"` or the TOML date `2026-01-01`.
fn date(v: &Value, _: &str) -> Read<NaiveDate> {
    let parsed = match v {
        Value::String(s) if s.trim().len() == 10 => {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
        }
        Value::String(_) => None,
        Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
            .date
            .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())),
        other => {
            return Err(format!(
                "expected a date like \"2026-01-01\", found {}",
                other.type_str()
            ));
        }
    };
    parsed.ok_or_else(|| "not a valid date; write it like \"2026-01-01\" (YYYY-MM-DD)".to_owned())
}

/// Where each key of one `[[tiers]]` or `[[plans]]` entry is written, so that a problem an
/// engine check reports for a field (`brackets[2].from`) gets that key's line; and which
/// top-level keys of the entry could not be read.
pub(super) struct EntrySpans {
    /// `plans[0]`.
    at: String,
    /// The whole entry (from its `[[plans]]` header).
    entry: Range<usize>,
    /// Field path inside the entry (`brackets[2].from`, `category_rates.software`) → span.
    fields: BTreeMap<String, Range<usize>>,
    /// Top-level keys whose value could not be read (a placeholder stands in for it).
    failed: BTreeSet<String>,
}

impl EntrySpans {
    fn new(at: String, entry: Range<usize>) -> Self {
        EntrySpans {
            at,
            entry,
            fields: BTreeMap::new(),
            failed: BTreeSet::new(),
        }
    }

    /// Records where `field` is written and, if it is written but could not be read, that it
    /// failed; passes the value on.
    fn note<T, S>(&mut self, field: &str, raw: &Option<Spanned<S>>, value: Option<T>) -> Option<T> {
        if let Some(raw) = raw {
            self.fields.insert(field.to_owned(), raw.span());
            if value.is_none() {
                self.failed.insert(field.to_owned());
            }
        }
        value
    }

    /// The span of `field`, else of the nearest enclosing field that is written, else of the
    /// entry (e.g. a required key that is missing).
    fn span_of(&self, field: &str) -> Range<usize> {
        let mut f = field;
        loop {
            if let Some(span) = self.fields.get(f) {
                return span.clone();
            }
            match f.rfind(['.', '[']) {
                Some(i) if i > 0 => f = &f[..i],
                _ => return self.entry.clone(),
            }
        }
    }
}

/// `(2, ".from")` for `plans[2].from` and `name` = `plans`.
fn parse_indexed<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let rest = text.strip_prefix(name)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest))
}
