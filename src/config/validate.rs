//! The one semantic pass over the raw file: gives each value its meaning (currency, time zone,
//! exact decimals, plans, tiers, …) and collects every problem with its line instead of
//! stopping at the first, so that one run of `rally check-config` shows them all.
//!
//! Plans and tiers are checked by [`plan::validate`], [`plan::validate_versions`] and
//! [`tier::validate`]; each problem they find is attached to the line of the key it names.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::str::FromStr;

use chrono::NaiveDate;
use toml::de::{DeTable, DeValue};
use toml::{Spanned, Value};

use super::env::{normalize_http_url, parse_id, parse_listen, validate_database_url};
use super::raw::*;
use super::*;
use crate::engine::plan::{self, Assignment, Plan, PlanMode};
use crate::engine::tier::{self, TierRule};

const UNSUPPORTED_SECTIONS: &[&str] = &["contests", "trainings", "jobs"];
const ASSIGN_KEYS: &[&str] = &["region", "kind", "tier", "partner"];

/// A value's meaning, or the message saying why it has none.
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

/// `get!(self, raw.field @ "section", reader)` reads a [`Leaf`] under the key `section.field`.
macro_rules! get {
    ($c:ident, $raw:ident . $field:ident @ $at:expr, $read:expr) => {
        $c.val(
            &$raw.$field,
            &format!("{}.{}", $at, stringify!($field)),
            $read,
        )
    };
}

/// `put!(self, slot, raw.field @ "section", reader)` stores what [`get!`] reads, if anything.
macro_rules! put {
    ($c:ident, $slot:expr, $raw:ident . $field:ident @ $at:expr, $read:expr) => {
        if let Some(v) = get!($c, $raw.$field @ $at, $read) {
            $slot = v;
        }
    };
}

/// Like [`get!`] for a field of a plan or tier entry, noting where it is written.
macro_rules! field {
    ($c:ident, $s:ident, $raw:ident . $field:ident, $read:expr) => {{
        let value = get!($c, $raw.$field @ $s.at, $read);
        $s.note(stringify!($field), &$raw.$field, value)
    }};
}

impl<'t> Checker<'t> {
    pub fn new(text: &'t str, source: &'t str) -> Self {
        let (issues, currency_at, telegram_mode_at) = (Vec::new(), None, None);
        Checker {
            text,
            source,
            issues,
            currency_at,
            telegram_mode_at,
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
        let (name, line) = (self.source.to_owned(), self.line(&span));
        let (key, message) = (key.to_owned(), message.into());
        let origin = IssueOrigin::File { name, line };
        self.issues.push(ConfigIssue {
            origin,
            key,
            message,
        });
    }

    /// File issues by line (stable), then environment issues in the order found.
    pub fn finish(mut self) -> Vec<ConfigIssue> {
        self.issues.sort_by_key(|i| match &i.origin {
            IssueOrigin::File { line, .. } => (0, *line),
            IssueOrigin::Env { .. } => (1, 0),
        });
        self.issues
    }

    /// A key serde ignored: a secret, the log filter, a section this version does not support,
    /// or a typo. serde_ignored gives only the path, so the key's line is looked up in the
    /// span-annotated tree.
    pub fn ignored(&mut self, root: &DeTable<'_>, path: &[Result<String, usize>]) {
        let (mut key, mut parent, mut span) = (String::new(), String::new(), 0..0);
        let mut node: Option<&DeValue<'_>> = None;
        for (i, segment) in path.iter().enumerate() {
            let found = match (segment, node) {
                (Ok(name), None) => find(root, name),
                (Ok(name), Some(DeValue::Table(t))) => find(t, name),
                (Err(i), Some(DeValue::Array(items))) => {
                    items.get(*i).map(|v| (v.span(), v.get_ref()))
                }
                _ => None,
            };
            if let Some((s, value)) = found {
                (span, node) = (s, Some(value));
            }
            match segment {
                Ok(name) if i + 1 < path.len() => parent = join_key(&parent, name),
                _ => {}
            }
            match segment {
                Ok(name) => key = join_key(&key, name),
                Err(index) => key.push_str(&format!("[{index}]")),
            }
        }
        let name = path
            .last()
            .and_then(|s| s.as_ref().ok())
            .map_or("", String::as_str);
        let secret = |var: &str| {
            format!("secrets come only from the environment: set {var} (and remove this key)")
        };
        let message = match (parent.as_str(), name) {
            // A date where a table belongs reaches a raw struct as toml's private date key.
            (_, n) if n.starts_with("$__toml_private") => {
                key = key
                    .rsplit_once('.')
                    .map_or(String::new(), |(k, _)| k.to_owned());
                format!("expected a table ([{key}]), found datetime")
            }
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

    /// Reads a value if it is written; a problem is reported at its line under `key`.
    fn val<T>(
        &mut self,
        v: &Leaf,
        key: &str,
        read: impl FnOnce(&Value, &str) -> Read<T>,
    ) -> Option<T> {
        self.read(v.as_ref()?, key, read)
    }

    /// `read` gets the value and its source text (a float's exact digits).
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
        if let Some(r) = self.section(&raw.program, "program") {
            self.program(r, &mut cfg.program);
        }
        if let Some(r) = self.section(&raw.database, "database") {
            put!(self, cfg.database.url, r.url @ "database", parsed(validate_database_url));
        }
        if let Some(r) = self.section(&raw.telegram, "telegram") {
            let tg = &mut cfg.telegram;
            let url = || parsed(normalize_http_url);
            tg.api_url = get!(self, r.api_url @ "telegram", url()).or(tg.api_url.take());
            tg.webhook_url =
                get!(self, r.webhook_url @ "telegram", url()).or(tg.webhook_url.take());
            self.telegram_mode_at = r.mode.as_ref().map(Spanned::span);
            let modes = [
                ("polling", TelegramMode::Polling),
                ("webhook", TelegramMode::Webhook),
            ];
            put!(self, tg.mode, r.mode @ "telegram", one_of("mode", modes));
        }
        if let Some(r) = self.section(&raw.discord, "discord") {
            let dc = &mut cfg.discord;
            dc.api_url =
                get!(self, r.api_url @ "discord", parsed(normalize_http_url)).or(dc.api_url.take());
            let want = "a list of ids like [123, 456]";
            let ids = r
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
        if let Some(r) = self.section(&raw.http, "http") {
            put!(self, cfg.http.listen, r.listen @ "http", parsed(parse_listen));
        }
        if let Some(r) = self.section(&raw.kudos, "kudos") {
            put!(self, cfg.kudos.daily, r.daily @ "kudos", uint(0));
            put!(self, cfg.kudos.cooldown_minutes, r.cooldown_minutes @ "kudos", uint(0));
        }
        if let Some(r) = self.section(&raw.deals, "deals") {
            put!(self, cfg.deals.protection_days, r.protection_days @ "deals", uint(1));
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
        if let Some(r) = self.section(&raw.allocation, "allocation") {
            let header = raw
                .allocation
                .as_ref()
                .map(Spanned::span)
                .unwrap_or_default();
            self.allocation(header, r, &mut cfg.allocation);
        }
    }

    fn program(&mut self, r: &RawProgram, p: &mut ProgramConfig) {
        let name = get!(self, r.name @ "program", |v, _| match string(v)?.trim() {
            "" => Err("must not be empty".to_owned()),
            s => Ok(s.to_owned()),
        });
        set(&mut p.name, name);
        let currency = parsed(|s| Currency::parse(s.trim()).map_err(|e| e.to_string()));
        if let Some(c) = get!(self, r.currency @ "program", currency) {
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
        put!(self, p.timezone, r.timezone @ "program", tz);
        let locale = parsed(|s| {
            Locale::from_tag(s)
                .ok_or_else(|| format!("unsupported locale \"{s}\" (expected \"en\" or \"zh-CN\")"))
        });
        put!(self, p.default_locale, r.default_locale @ "program", locale);
        let periods = [
            ("month", PeriodKind::Month),
            ("quarter", PeriodKind::Quarter),
            ("year", PeriodKind::Year),
        ];
        put!(self, p.period, r.period @ "program", one_of("period", periods));
        put!(self, p.rank_pending, r.rank_pending @ "program", boolean);
        let limit = decimal("auto_approve_below", true);
        p.auto_approve_below = get!(self, r.auto_approve_below @ "program", limit);
        put!(self, p.invite_ttl_hours, r.invite_ttl_hours @ "program", uint(1));
        let rates = r.rates.as_ref();
        let Some(rates) =
            rates.and_then(|n| self.table(n, "program.rates", "a table ([program.rates])"))
        else {
            return;
        };
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

    /// The tables of `[[name]]` entries, each with its spans; `None` for an entry that is not
    /// a table (reported).
    fn entries<'a, T>(
        &mut self,
        node: &'a Spanned<List<Spanned<Table<T>>>>,
        name: &str,
        want: &str,
    ) -> Vec<(Option<&'a T>, EntrySpans)> {
        let entries = self.list(node, name, &format!("[[{name}]] entries ({want})"));
        let entries = entries.unwrap_or_default().iter().enumerate();
        entries
            .map(|(i, entry)| {
                let s = EntrySpans::new(format!("{name}[{i}]"), entry.span());
                (
                    self.table(entry, &s.at, &format!("a table ([{}])", s.at)),
                    s,
                )
            })
            .collect()
    }

    /// Reports each required key that is missing from an entry.
    fn require(&mut self, s: &mut EntrySpans, keys: &[(&str, bool)], what: &str, needs: &str) {
        for &(key, present) in keys {
            if !present {
                let m = format!("missing `{key}` (each {what} needs {needs})");
                self.issue(s.entry.clone(), &s.at, m);
                s.failed.insert(key.to_owned());
            }
        }
    }

    fn admins(&mut self, node: &Entries<RawAdmin>, out: &mut Vec<AdminId>) {
        let want = "platform = \"telegram\", id = \"123\"";
        for (a, mut s) in self.entries(node, "admins", want) {
            let Some(a) = a else { continue };
            let platform = parsed(|s| {
                AdminPlatform::parse(s).ok_or_else(|| {
                    format!("unknown platform \"{s}\" (expected \"telegram\" or \"discord\")")
                })
            });
            let platform = get!(self, a.platform @ s.at, platform);
            let id = get!(self, a.id @ s.at, id);
            let keys = [("platform", a.platform.is_some()), ("id", a.id.is_some())];
            self.require(&mut s, &keys, "admin", "platform and id");
            if let (Some(platform), Some(id)) = (platform, id) {
                let admin = AdminId { platform, id };
                if !out.contains(&admin) {
                    out.push(admin);
                }
            }
        }
    }

    fn tiers(&mut self, node: &Entries<RawTier>, out: &mut Vec<TierRule>) {
        let want = "name = \"Gold\", min_trailing_sales = 1000000, requires = [\"sales-basics\"]";
        let (mut rules, mut spans) = (Vec::new(), Vec::new());
        for (t, mut s) in self.entries(node, "tiers", want) {
            let (name, min_trailing_sales) = (String::new(), Decimal::ZERO);
            let mut rule = TierRule {
                name,
                min_trailing_sales,
                requires: Vec::new(),
            };
            if let Some(t) = t {
                set(&mut rule.name, field!(self, s, t.name, trimmed));
                let min = field!(
                    self,
                    s,
                    t.min_trailing_sales,
                    decimal("min_trailing_sales", false)
                );
                set(&mut rule.min_trailing_sales, min);
                let key = format!("{}.requires", s.at);
                let requires = t.requires.as_ref().and_then(|n| self.strings(n, &key));
                set(
                    &mut rule.requires,
                    s.note("requires", &t.requires, requires),
                );
                let keys = [
                    ("name", t.name.is_some()),
                    ("min_trailing_sales", t.min_trailing_sales.is_some()),
                ];
                self.require(&mut s, &keys, "tier", "name and min_trailing_sales");
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
        let items = items.iter().enumerate();
        let read: Vec<_> = items
            .map(|(j, v)| self.read(v, &format!("{key}[{j}]"), trimmed))
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
        let field = if text.starts_with("name") {
            "name"
        } else {
            ["min_trailing_sales", "requires"]
                .into_iter()
                .find(|f| text.contains(f))
                .unwrap_or("")
        };
        let mut text = text.to_owned();
        if let Some(pos) = text.find("tiers[")
            && let Some((k, _)) = parse_indexed(&text[pos..], "tiers")
            && let Some(other) = spans.get(k)
        {
            text.push_str(&format!(" (line {})", self.line(&other.span_of("name"))));
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

    fn plans(&mut self, node: &Entries<RawPlan>, out: &mut Vec<Plan>) {
        let want =
            "id = \"standard\", version = 1, effective_from = \"2026-01-01\", brackets = […]";
        let (mut plans, mut spans) = (Vec::new(), Vec::new());
        for (raw, mut s) in self.entries(node, "plans", want) {
            plans.push(match raw {
                Some(raw) => self.plan(raw, &mut s),
                None => {
                    s.failed
                        .extend(RawPlan::KEYS.iter().map(|k| (*k).to_owned()));
                    empty_plan()
                }
            });
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
        set(&mut plan.id, field!(self, s, r.id, trimmed));
        set(&mut plan.version, field!(self, s, r.version, uint(1)));
        set(
            &mut plan.effective_from,
            field!(self, s, r.effective_from, date),
        );
        let modes = [("marginal", PlanMode::Marginal), ("whole", PlanMode::Whole)];
        set(
            &mut plan.mode,
            field!(self, s, r.mode, one_of("mode", modes)),
        );
        plan.target = field!(self, s, r.target, decimal("target", false));
        plan.cap = field!(self, s, r.cap, decimal("cap", false));
        plan.brackets = self.rows(&r.brackets, "brackets", s).unwrap_or_default();
        plan.bonuses = self.rows(&r.bonuses, "bonuses", s).unwrap_or_default();
        plan.accelerator = self.row(&r.accelerator, "accelerator", s);
        plan.volume_rebate = self.row(&r.volume_rebate, "volume_rebate", s);
        plan.growth_rebate = self.row(&r.growth_rebate, "growth_rebate", s);
        let key = |name: &str| format!("{}.{name}", s.at);
        let (rates_at, assign_at) = (key("category_rates"), key("assign"));
        let rates = r
            .category_rates
            .as_ref()
            .and_then(|n| self.category_rates(n, &rates_at, s));
        set(
            &mut plan.category_rates,
            s.note("category_rates", &r.category_rates, rates),
        );
        let assign = r
            .assign
            .as_ref()
            .and_then(|n| self.assignment(n, &assign_at, s));
        set(&mut plan.assign, s.note("assign", &r.assign, assign));
        let (id, version, from) = (
            r.id.is_some(),
            r.version.is_some(),
            r.effective_from.is_some(),
        );
        let keys = [("id", id), ("version", version), ("effective_from", from)];
        self.require(s, &keys, "plan", "id, version and effective_from");
        plan
    }

    /// A table whose keys are all required decimals (`{ from = 0, rate = 3 }`). Each value's
    /// span is recorded as `field.name` in `s`.
    fn row_at<T: Row>(
        &mut self,
        node: &Spanned<Table<T>>,
        path: &str,
        field: &str,
        s: &mut EntrySpans,
    ) -> Option<T::Out> {
        let t = self.table(node, path, &format!("a table like {}", T::EXAMPLE))?;
        let (mut out, mut ok) = (Vec::new(), true);
        for (name, v) in t.leaves() {
            let Some(v) = v else {
                self.issue(
                    node.span(),
                    path,
                    format!("missing `{name}` (expected {})", T::EXAMPLE),
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
        if ok { T::build(&out) } else { None }
    }

    /// A plan's single-row table (`accelerator = { … }`).
    fn row<T: Row>(
        &mut self,
        node: &Section<T>,
        field: &str,
        s: &mut EntrySpans,
    ) -> Option<T::Out> {
        let path = join_key(&s.at, field);
        let row = node.as_ref().and_then(|n| self.row_at(n, &path, field, s));
        s.note(field, node, row)
    }

    /// A plan's list of rows (`brackets = [ … ]`); each item's span is recorded as `field[j]`.
    fn rows<T: Row>(
        &mut self,
        node: &Rows<T>,
        field: &str,
        s: &mut EntrySpans,
    ) -> Option<Vec<T::Out>> {
        let path = join_key(&s.at, field);
        let want = format!("a list like [ {}, … ]", T::EXAMPLE);
        let items = node.as_ref().and_then(|n| self.list(n, &path, &want));
        let rows = items.map(|items| {
            let items = items.iter().enumerate();
            let rows: Vec<_> = items
                .map(|(j, item)| {
                    s.fields.insert(format!("{field}[{j}]"), item.span());
                    self.row_at(item, &format!("{path}[{j}]"), &format!("{field}[{j}]"), s)
                })
                .collect();
            rows.into_iter().collect::<Option<Vec<_>>>()
        });
        s.note(field, node, rows.flatten())
    }

    fn category_rates(
        &mut self,
        node: &Spanned<ValMap>,
        path: &str,
        s: &mut EntrySpans,
    ) -> Option<BTreeMap<String, Decimal>> {
        let t = self.table(node, path, "a table like { software = 10 }")?;
        let (mut out, mut ok) = (BTreeMap::new(), true);
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
        let (mut first, mut chosen, mut ok) = (None::<(&str, Range<usize>)>, None, true);
        for (name, value) in keys {
            let key = join_key(path, name);
            s.fields.insert(format!("assign.{name}"), value.span());
            let problem = if !ASSIGN_KEYS.contains(&name.as_str()) {
                Some(format!(
                    "unknown assignment key (expected one of: {}; leave `assign` out for the \
                     default plan){}",
                    ASSIGN_KEYS.join(", "),
                    did_you_mean(name, ASSIGN_KEYS)
                ))
            } else if let Some((other, span)) = &first {
                Some(format!(
                    "a plan is assigned by one key only and `{other}` is already given (line \
                     {}); use another [[plans]] entry for another group",
                    self.line(span)
                ))
            } else {
                None
            };
            if let Some(m) = problem {
                self.issue(value.span(), &key, m);
                ok = false;
                continue;
            }
            first = Some((name, value.span()));
            // A partner may be named by its id.
            let text = match (name.as_str(), value.get_ref()) {
                ("partner", Value::Integer(i)) => Some(i.to_string()),
                _ => self.read(value, &key, trimmed),
            };
            chosen = text.map(|text| match name.as_str() {
                "region" => Assignment::Region(text),
                "kind" => Assignment::Kind(text),
                "tier" => Assignment::Tier(text),
                _ => Assignment::Partner(text),
            });
            ok &= chosen.is_some();
        }
        if ok && chosen.is_none() {
            self.issue(
                node.span(),
                path,
                "empty assignment: give one of region, kind, tier or partner, or leave `assign` \
                 out to make this the default plan",
            );
        }
        if ok { chosen } else { None }
    }

    /// `[allocation]`: reads the keys given over the defaults, then checks the result.
    fn allocation(&mut self, header: Range<usize>, t: &RawAllocation, a: &mut AllocationWeights) {
        let mut written: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        let mut bad = false;
        let slots = [
            ("potential", &t.potential, &mut a.potential),
            ("contribution", &t.contribution, &mut a.contribution),
            ("growth", &t.growth, &mut a.growth),
            ("floor", &t.floor, &mut a.floor),
            ("cap", &t.cap, &mut a.cap),
        ];
        for (name, v, slot) in slots {
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
        let weights = [
            ("potential", a.potential),
            ("contribution", a.contribution),
            ("growth", a.growth),
        ];
        for (name, value) in weights
            .into_iter()
            .chain([("floor", a.floor), ("cap", a.cap)])
        {
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
            let m = "the weights potential, contribution and growth are all 0; at least one must \
                     be more than 0";
            self.issue(header, "allocation", m);
        } else if a.floor > a.cap {
            let cap_at = match written.get("cap") {
                Some(span) => format!("line {}", self.line(span)),
                None => "the default".to_owned(),
            };
            let (floor, cap) = (a.floor, a.cap);
            let m =
                format!("the floor {floor} is above the cap {cap} ({cap_at}); 0 ≤ floor ≤ cap ≤ 1");
            self.issue(span_of("floor"), "allocation.floor", m);
        }
    }
}

/// Stores a value that could be read; otherwise the default (or the file's value) stays.
pub(super) fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// A placeholder for a plan entry's parts that could not be read.
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
    let distances = allowed.iter().map(|a| (strsim::levenshtein(name, a), *a));
    let best = distances
        .filter(|(d, a)| *d <= 2.max(a.len() / 3))
        .min_by_key(|(d, _)| *d);
    best.map(|(_, a)| format!("; did you mean `{a}`?"))
        .unwrap_or_default()
}

fn join_key(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

// Value readers: each gives a TOML value (and its source text) a meaning or a message.

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

/// One of a few words, case-insensitive: `unknown period "week" (expected "month", … or "year")`.
fn one_of<T: Copy, const N: usize>(
    what: &str,
    words: [(&str, T); N],
) -> impl FnOnce(&Value, &str) -> Read<T> {
    parsed(move |s| {
        let wanted = s.trim().to_ascii_lowercase();
        let found = words.iter().find(|(w, _)| *w == wanted).map(|(_, t)| *t);
        let quoted: Vec<String> = words.iter().map(|(w, _)| format!("\"{w}\"")).collect();
        let (last, rest) = quoted
            .split_last()
            .map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
        let list = if rest.is_empty() {
            last.to_owned()
        } else {
            format!("{} or {last}", rest.join(", "))
        };
        found.ok_or_else(|| format!("unknown {what} \"{s}\" (expected {list})"))
    })
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
        let n = u32::try_from(*i).ok().filter(|n| *n >= min);
        n.ok_or_else(|| format!("must be a whole number from {min} to {}", u32::MAX))
    }
}

/// A positive id: an integer or a string of digits.
fn id(v: &Value, _: &str) -> Read<u64> {
    let parsed = match v {
        Value::Integer(i) => u64::try_from(*i).ok(),
        Value::String(s) => parse_id(s),
        other => {
            let found = other.type_str();
            return Err(format!(
                "expected an id (a number or a string of digits), found {found}"
            ));
        }
    };
    let id = parsed.filter(|n| *n > 0);
    id.ok_or_else(|| "expected a positive whole number id".to_owned())
}

/// An exact decimal from an integer, a quoted string or a TOML float. A float is read from its
/// source text (`7.1` is exactly 7.1), never through `f64`. `assign` is how the user writes the
/// key (`USD`), for the hint; `positive` demands more than zero.
fn decimal(assign: &str, positive: bool) -> impl FnOnce(&Value, &str) -> Read<Decimal> {
    move |v, text| {
        let hint = format!("write it like {assign} = \"7.1\"");
        let d = match v {
            Value::Integer(i) => Decimal::from(*i),
            Value::String(s) => {
                Decimal::from_str_exact(s.trim()).map_err(|_| format!("not a number; {hint}"))?
            }
            Value::Float(_) => {
                // The source text minus `_` separators: `7.1`, `-0.5`, `1.5e3`; not inf or nan.
                let t = text.replace('_', "");
                let t = t.strip_prefix('+').unwrap_or(&t);
                let exact = if t.contains(['e', 'E']) {
                    Decimal::from_scientific(t)
                } else {
                    Decimal::from_str_exact(t)
                };
                exact
                    .map_err(|_| format!("{t} cannot be used as an exact decimal number; {hint}"))?
            }
            other => {
                let found = other.type_str();
                return Err(format!(
                    "expected a number (e.g. {assign} = \"7.1\"), found {found}"
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
            let found = other.type_str();
            return Err(format!(
                "expected a date like \"2026-01-01\", found {found}"
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
        let (fields, failed) = (BTreeMap::new(), BTreeSet::new());
        EntrySpans {
            at,
            entry,
            fields,
            failed,
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
