//! The one pass after serde: gives each problem found while reading its dotted key, reports
//! unknown keys, and runs the checks that span several values (rates against the program
//! currency, allocation weights, plan assignment) and the engine's own checks of plans and
//! tiers ([`plan::validate`], [`plan::validate_versions`], [`tier::validate`]), each problem at
//! the line of the key it names. Every problem is collected so that one run shows them all.

use std::ops::Range;

use chrono::NaiveDate;
use toml::de::DeValue;

use super::raw::*;
use super::*;
use crate::engine::badges::{Badge, BadgeRule};
use crate::engine::contest::{Award, Contest, ContestChats, Prize, Scope};
use crate::engine::plan::{self, Assignment, Plan};
use crate::engine::tier::{self, TierRule};
use crate::engine::training::{DEFAULT_REMINDER_MINUTES, Eligibility, Level, Question, Quiz};

/// Sections of SPEC §5 this version does not read yet (none: all are read).
const UNSUPPORTED_SECTIONS: &[&str] = &[];

/// Collects the problems of one load, file and environment.
pub(super) struct Checker<'t> {
    text: &'t str,
    source: &'t str,
    /// The file as a span-annotated tree, where keys and lines are looked up.
    root: DeValue<'t>,
    pub issues: Vec<ConfigIssue>,
    /// Keys whose value could not be read: checks of what they hold would only echo that.
    unread: Vec<String>,
}

impl<'t> Checker<'t> {
    pub fn new(text: &'t str, source: &'t str, root: DeValue<'t>) -> Self {
        let (issues, unread) = (Vec::new(), Vec::new());
        Checker {
            text,
            source,
            root,
            issues,
            unread,
        }
    }

    pub fn line(&self, span: &Range<usize>) -> usize {
        self.text
            .get(..span.start)
            .map_or(0, |t| t.matches('\n').count())
            + 1
    }

    pub fn issue(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let origin = IssueOrigin::File {
            name: self.source.to_owned(),
            line: self.line(&span),
        };
        let (key, message) = (key.to_owned(), message.into());
        self.issues.push(ConfigIssue {
            origin,
            key,
            message,
        });
    }

    /// A problem about `key`, at the line where it (or the nearest enclosing key) is written.
    pub fn at(&mut self, key: &str, message: impl Into<String>) {
        self.issue(self.locate(key).0, key, message);
    }

    /// File issues by line (stable), then environment issues in the order found.
    pub fn finish(mut self) -> Vec<ConfigIssue> {
        self.issues.sort_by_key(|i| match &i.origin {
            IssueOrigin::File { line, .. } => (0, *line),
            IssueOrigin::Env { .. } => (1, 0),
        });
        self.issues
    }

    /// The span of `key` (`plans[0].brackets[1].from`) or of the nearest enclosing key that is
    /// written, and whether `key` itself is written.
    pub fn locate(&self, key: &str) -> (Range<usize>, bool) {
        let (mut node, mut span) = (&self.root, 0..0);
        // `plans`, `0]`, `brackets`, `1]`, `from`.
        for step in key.split(['.', '[']) {
            let found = match (node, step.strip_suffix(']').map(str::parse::<usize>)) {
                (DeValue::Array(items), Some(Ok(i))) => items.get(i).map(|v| (v.span(), v)),
                (DeValue::Table(t), None) => (t.iter())
                    .find(|(k, _)| k.get_ref().as_ref() == step)
                    .map(|(k, v)| (k.span(), v)),
                _ => None,
            };
            let Some((s, v)) = found else {
                return (span, false);
            };
            (span, node) = (s, v.get_ref());
        }
        (span, true)
    }

    /// A problem found while reading, given the key of the value at its span (and the missing
    /// key it is about).
    pub fn found(&mut self, (span, missing, message): Found) {
        let mut key = path_at(&self.root, &span, "").unwrap_or_default();
        if let Some(missing) = missing {
            key = join_key(&key, missing);
        }
        self.unread.push(key.clone());
        self.issue(span, &key, message);
    }

    /// Whether anything at or around `key` could not be read.
    fn is_unread(&self, key: &str) -> bool {
        let related = |u: &String| key.starts_with(u.as_str()) || u.starts_with(key);
        self.unread.iter().any(|u| !u.is_empty() && related(u))
    }

    /// A key serde ignored (`plans[0].colour`): a secret, the log filter, a section this version
    /// does not support, or a typo.
    pub fn ignored(&mut self, key: &str) {
        let (mut key, (parent, name)) = (key.to_owned(), key.rsplit_once('.').unwrap_or(("", key)));
        // The parent without indices (`plans.brackets`).
        let parent: String = parent
            .split('[')
            .map(|s| s.split_once(']').map_or(s, |(_, r)| r))
            .collect();
        let secret = |var: &str| {
            format!("secrets come only from the environment: set {var} (and remove this key)")
        };
        let message = match (parent.as_str(), name) {
            // A date where a table belongs reaches a raw struct as toml's private date key.
            (_, n) if n.starts_with("$__toml_private") => {
                key = key.rsplit_once('.').map_or("", |(k, _)| k).to_owned();
                "expected a table, found datetime".to_owned()
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
        self.at(&key, message);
    }

    pub fn config(&mut self, r: RawConfig, cfg: &mut Config) {
        if let Some(p) = tbl(r.program) {
            self.program(p, &mut cfg.program);
        }
        if let Some(d) = tbl(r.database) {
            put(&mut cfg.database.url, d.url);
        }
        if let Some(t) = tbl(r.telegram) {
            let tg = &mut cfg.telegram;
            (tg.api_url, tg.webhook_url) = (get(t.api_url), get(t.webhook_url));
            put(&mut tg.mode, t.mode);
        }
        if let Some(d) = tbl(r.discord) {
            cfg.discord.api_url = get(d.api_url);
            cfg.discord.shards = get(d.shards);
            for id in items(d.guild_ids).into_iter().filter_map(|v| v.0) {
                push_new(&mut cfg.discord.guild_ids, id);
            }
        }
        if let Some(h) = tbl(r.http) {
            put(&mut cfg.http.listen, h.listen);
            // HTTP API and TV page (issue 13).
            cfg.http.public_url = get(h.public_url);
            put(&mut cfg.http.tv_show_amounts, h.tv_show_amounts);
        }
        for a in items(r.admins).into_iter().filter_map(|t| t.0) {
            if let (Some(platform), Some(id)) = (get(a.platform), get(a.id)) {
                push_new(&mut cfg.admins, AdminId { platform, id });
            }
        }
        if let Some(k) = tbl(r.kudos) {
            put(&mut cfg.kudos.daily, k.daily);
            put(&mut cfg.kudos.cooldown_minutes, k.cooldown_minutes);
        }
        if let Some(d) = tbl(r.deals) {
            put(&mut cfg.deals.protection_days, d.protection_days);
        }
        if let Some(o) = tbl(r.outbox) {
            let out = &mut cfg.outbox;
            put(&mut out.telegram_per_second, o.telegram_per_second);
            put(
                &mut out.telegram_private_per_second,
                o.telegram_private_per_second,
            );
            put(
                &mut out.telegram_group_per_minute,
                o.telegram_group_per_minute,
            );
            put(&mut out.discord_per_second, o.discord_per_second);
            put(&mut out.discord_channel_per_5s, o.discord_channel_per_5s);
            put(&mut out.max_attempts, o.max_attempts);
            put(&mut out.lease_seconds, o.lease_seconds);
        }
        if let Some(j) = tbl(r.jobs) {
            put(&mut cfg.jobs.catch_up_hours, j.catch_up_hours);
            put(&mut cfg.jobs.builtin, j.builtin);
            put(&mut cfg.jobs.prune_after_days, j.prune_after_days);
            self.jobs(items(j.run), &mut cfg.jobs.run);
        }
        self.trainings(items(r.trainings), &mut cfg.trainings);
        self.tiers(items(r.tiers), &mut cfg.tiers);
        self.plans(items(r.plans), &mut cfg.plans);
        if let Some(a) = tbl(r.allocation) {
            self.allocation(a, &mut cfg.allocation);
        }
        self.contests(items(r.contests), &mut cfg.contests);
        // community: points and badges (issue 11)
        if let Some(p) = tbl(r.points) {
            self.points(p, cfg);
        }
        if let Some(badges) = r.badges {
            let currency = cfg.program.currency;
            cfg.badges = Some(self.badges(items(Some(badges)), currency));
        }
        if let Some(s) = tbl(r.stories) {
            put(&mut cfg.stories.story_of_week, s.story_of_week);
        }
    }

    // --- community: points and badges (issue 11) ----------------------------------------------

    /// `[points]`: each key replaces its default; the sale amount is in the program currency
    /// and must be a whole number of its minor units.
    fn points(&mut self, p: RawPoints, cfg: &mut Config) {
        let rules = &mut cfg.points;
        if let Some(amount) = get(p.sale_amount) {
            match Money::new(amount, cfg.program.currency).to_minor() {
                Ok(minor) if minor > 0 => rules.sale_unit_minor = minor,
                _ => self.at(
                    "points.sale_amount",
                    format!(
                        "{amount} is not a whole amount of {}",
                        cfg.program.currency.code()
                    ),
                ),
            }
        }
        let whole = |v: Option<u32>, slot: &mut i64| {
            if let Some(v) = v {
                *slot = i64::from(v);
            }
        };
        whole(get(p.sale_points), &mut rules.per_sale_unit);
        whole(get(p.featured_story), &mut rules.featured_story);
        whole(get(p.kudos_received), &mut rules.kudos_received);
        whole(get(p.training_completed), &mut rules.training_completed);
        if let Some(podium) = p.podium {
            rules.podium = items(Some(podium))
                .into_iter()
                .filter_map(|v| v.0)
                .map(i64::from)
                .collect();
        }
    }

    /// `[[badges]]`: `rule` is one of [`BadgeRule::KINDS`]; every rule but `certified` needs
    /// `at_least` (a count, or an amount for `month_amount`); ids are unique.
    fn badges(&mut self, entries: Vec<Tbl<RawBadge>>, currency: Currency) -> Vec<Badge> {
        let mut out: Vec<Badge> = Vec::new();
        let mut ids: Vec<(usize, String)> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(b) = entry.0 else { continue };
            let at = |key: &str| format!("badges[{i}].{key}");
            let id = get(b.id);
            if let Some(id) = &id {
                if let Some((first, _)) = ids.iter().find(|(_, other)| other == id) {
                    let line = self.line(&self.locate(&format!("badges[{first}].id")).0);
                    self.at(
                        &at("id"),
                        format!("a badge {id:?} is already defined (line {line})"),
                    );
                    continue;
                }
                ids.push((i, id.clone()));
            }
            let at_least = get(b.at_least);
            let count = |this: &mut Self| -> Option<u64> {
                match at_least {
                    None => {
                        this.at(&at("rule"), "this rule needs `at_least` (a count)");
                        None
                    }
                    Some(n) if n.fract().is_zero() => u64::try_from(n).ok(),
                    Some(n) => {
                        this.at(
                            &at("at_least"),
                            format!("a count is a whole number, not {n}"),
                        );
                        None
                    }
                }
            };
            let rule = match get(b.rule).as_deref() {
                None => None,
                Some("approved_sales") => count(self).map(BadgeRule::ApprovedSales),
                Some("contest_podium") => count(self).map(BadgeRule::ContestPodium),
                Some("featured_stories") => count(self).map(BadgeRule::FeaturedStories),
                Some("kudos_received") => count(self).map(BadgeRule::KudosReceived),
                Some("certified") => Some(BadgeRule::Certified(get(b.certification))),
                Some("month_amount") => {
                    match at_least.map(|a| Money::new(a, currency).to_minor()) {
                        Some(Ok(minor)) => Some(BadgeRule::MonthAmount(minor)),
                        Some(Err(_)) => {
                            self.at(
                                &at("at_least"),
                                format!("not a whole amount of {}", currency.code()),
                            );
                            None
                        }
                        None => {
                            self.at(&at("rule"), "this rule needs `at_least` (an amount)");
                            None
                        }
                    }
                }
                Some(other) => {
                    let m = format!(
                        "unknown rule {other:?}; expected {}",
                        or_list(&BadgeRule::KINDS)
                    );
                    self.at(&at("rule"), m);
                    None
                }
            };
            let (Some(id), Some(name), Some(rule)) = (id, get(b.name), rule) else {
                continue;
            };
            out.push(Badge {
                id,
                name,
                name_zh: get(b.name_zh),
                rule,
            });
        }
        out
    }

    // --- contests (issue 10) ---------------------------------------------------------------

    /// `[[contests]]`: complete entries become contests. Ids are unique (case-insensitive),
    /// the end is not before the start, a scope names one group, each prize has a rank (the
    /// reader reports a missing one) and exactly one of `amount` and `reward`, ranks are
    /// unique, and a handicap needs a metric that measures money.
    fn contests(&mut self, entries: Vec<Tbl<RawContest>>, out: &mut Vec<Contest>) {
        let mut ids: Vec<(usize, String)> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(c) = entry.0 else { continue };
            let at = format!("contests[{i}]");
            let id = get(c.id);
            if let Some(id) = &id {
                let lower = id.to_lowercase();
                if let Some((first, _)) = ids.iter().find(|(_, other)| *other == lower) {
                    let line = self.line(&self.locate(&format!("contests[{first}].id")).0);
                    let m = format!("a contest with id {id:?} is already defined (line {line})");
                    self.at(&format!("{at}.id"), m);
                } else {
                    ids.push((i, lower));
                }
                if id.chars().any(char::is_whitespace) {
                    self.at(
                        &format!("{at}.id"),
                        "an id is one word (no spaces), e.g. q4-growth",
                    );
                }
            }
            let (start, end) = (get(c.start), get(c.end));
            if let (Some(start), Some(end)) = (start, end)
                && end < start
            {
                let line = self.line(&self.locate(&format!("{at}.start")).0);
                let m = format!("the end {end} is before the start {start} (line {line})");
                self.at(&format!("{at}.end"), m);
            }
            let metric = get(c.metric);
            let handicap = get(c.handicap).unwrap_or(false);
            if handicap && let Some(m) = metric.filter(|m| !m.is_amount_based()) {
                let m = format!(
                    "a handicap ranks by attainment of an amount target; {} does not measure                      money (use sales_amount, growth_rate or target_attainment)",
                    m.as_str()
                );
                self.at(&format!("{at}.handicap"), m);
            }
            let scope = self.contest_scope(&format!("{at}.scope"), tbl(c.scope));
            let mut prizes: Vec<Prize> = Vec::new();
            for (j, p) in items(c.prizes).into_iter().enumerate() {
                let Some(p) = p.0 else { continue };
                let key = format!("{at}.prizes[{j}]");
                let (amount, reward) = (get(p.amount), get(p.reward));
                let Some(rank) = get(p.rank) else { continue };
                let award = match (amount, reward) {
                    (Some(a), None) => Award::Money(a),
                    (None, Some(r)) => Award::Reward(r),
                    (Some(_), Some(_)) => {
                        let m =
                            "a prize is either money (`amount`) or a thing (`reward`), not both";
                        self.at(&format!("{key}.reward"), m);
                        continue;
                    }
                    (None, None) => {
                        if !self.is_unread(&key) {
                            let m = "a prize needs `amount` (money) or `reward` (a thing)";
                            self.at(&key, m);
                        }
                        continue;
                    }
                };
                if prizes.iter().any(|q| q.rank == rank) {
                    self.at(
                        &format!("{key}.rank"),
                        format!("place {rank} has two prizes"),
                    );
                    continue;
                }
                prizes.push(Prize { rank, award });
            }
            let chats = match get(c.chats) {
                None => ContestChats::All,
                Some(s) if s.eq_ignore_ascii_case("all") => ContestChats::All,
                Some(region) => ContestChats::Region(region),
            };
            let min_sales = get(c.min_sales).unwrap_or_default();
            if min_sales < Decimal::ZERO {
                self.at(
                    &format!("{at}.min_sales"),
                    format!("must not be negative, not {min_sales}"),
                );
            }
            let (Some(id), Some(name), Some(metric), Some(start), Some(end)) =
                (id, get(c.name), metric, start, end)
            else {
                continue;
            };
            if end < start || out.iter().any(|o| o.id.eq_ignore_ascii_case(&id)) {
                continue;
            }
            out.push(Contest {
                id,
                name,
                name_zh: get(c.name_zh),
                metric,
                start,
                end,
                scope,
                handicap,
                targets: (tbl(c.targets).unwrap_or_default().into_iter())
                    .filter_map(|(name, t)| Some((name, t.0?)))
                    .collect(),
                min_sales: min_sales.max(Decimal::ZERO),
                prizes,
                updates: get(c.updates),
                chats,
                growth_base: get(c.growth_base).unwrap_or_default(),
            });
        }
    }

    /// `scope = { region = "East" }` (or kind / tier / partners = [...]): one key; none or no
    /// table is everyone.
    fn contest_scope(&mut self, at: &str, s: Option<RawScope>) -> Scope {
        let Some(s) = s else { return Scope::Everyone };
        let mut given: Vec<(String, Scope)> = Vec::new();
        if let Some(r) = get(s.region) {
            given.push((join_key(at, "region"), Scope::Region(r)));
        }
        if let Some(k) = get(s.kind) {
            given.push((join_key(at, "kind"), Scope::Kind(k)));
        }
        if let Some(t) = get(s.tier) {
            given.push((join_key(at, "tier"), Scope::Tier(t)));
        }
        if let Some(p) = s.partners {
            let names: Vec<String> = items(Some(p)).into_iter().filter_map(|v| v.0).collect();
            if names.is_empty() && !self.is_unread(&join_key(at, "partners")) {
                self.at(&join_key(at, "partners"), "name at least one partner");
            }
            given.push((join_key(at, "partners"), Scope::Partners(names)));
        }
        given.sort_by_key(|(key, _)| self.locate(key).0.start);
        let mut given = given.into_iter();
        let Some((first, scope)) = given.next() else {
            return Scope::Everyone;
        };
        let line = self.line(&self.locate(&first).0);
        for (key, _) in given {
            let m = format!(
                "a scope names one group and `{}` is already given (line {line})",
                first.rsplit('.').next().unwrap_or(&first)
            );
            self.at(&key, m);
        }
        scope
    }

    /// `[[jobs.run]]`: complete entries become jobs; names are unique, `announce` needs text.
    fn jobs(&mut self, entries: Vec<Tbl<RawJob>>, out: &mut Vec<JobConfig>) {
        let mut names: Vec<String> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(j) = entry.0 else { continue };
            let filters = tbl(j.filters).unwrap_or_default();
            let name = get(j.name);
            if let Some(name) = &name {
                if let Some(first) = names.iter().position(|n| n == name) {
                    let at = self.line(&self.locate(&format!("jobs.run[{first}].name")).0);
                    let message = format!("a job named {name:?} is already defined (line {at})");
                    self.at(&format!("jobs.run[{i}].name"), message);
                }
                names.push(name.clone());
            } else {
                names.push(String::new());
            }
            let (Some(name), Some(schedule), Some(action)) = (name, get(j.schedule), get(j.action))
            else {
                continue;
            };
            if out.iter().any(|o| o.name == name) {
                continue;
            }
            let text = get(j.text);
            if action == JobAction::Announce
                && text.is_none()
                && !self.is_unread(&format!("jobs.run[{i}].text"))
            {
                self.at(
                    &format!("jobs.run[{i}].action"),
                    "an announce job needs `text`",
                );
                continue;
            }
            out.push(JobConfig {
                name,
                schedule,
                action,
                text,
                filters: AudienceFilter {
                    region: get(filters.region),
                    tier: get(filters.tier),
                    kind: get(filters.kind),
                    platform: get(filters.platform),
                },
                to: get(j.to).unwrap_or_default(),
            });
        }
    }

    fn program(&mut self, r: RawProgram, p: &mut ProgramConfig) {
        put(&mut p.name, r.name);
        put(&mut p.currency, r.currency);
        put(&mut p.timezone, r.timezone);
        put(&mut p.default_locale, r.default_locale);
        put(&mut p.period, r.period);
        put(&mut p.rank_pending, r.rank_pending);
        p.auto_approve_below = get(r.auto_approve_below);
        put(&mut p.invite_ttl_hours, r.invite_ttl_hours);
        for (code, rate) in tbl(r.rates).unwrap_or_default() {
            let key = format!("program.rates.{code}");
            let Some(rate) = rate.0 else { continue };
            match Currency::parse(&code) {
                Err(e) => self.at(&key, e.to_string()),
                Ok(c) if c == p.currency => {
                    let at = match self.locate("program.currency") {
                        (span, true) => format!("line {}", self.line(&span)),
                        _ => "the default".to_owned(),
                    };
                    let m = format!("{c} is the program currency ({at}); it needs no rate");
                    self.at(&key, format!("{m}, remove this line"));
                }
                Ok(c) if p.rates.insert(c, rate).is_some() => {
                    self.at(&key, format!("a rate for {c} is given twice"));
                }
                Ok(_) => {}
            }
        }
    }

    /// `[[trainings]]`: complete entries become trainings; ids are unique, a quiz must be
    /// answerable and passable.
    fn trainings(&mut self, entries: Vec<Tbl<RawTraining>>, out: &mut Vec<TrainingConfig>) {
        // Ids by entry index, so a duplicate names the line of the first, complete or not.
        let mut ids: Vec<Option<String>> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(t) = entry.0 else {
                ids.push(None);
                continue;
            };
            let at = |key: &str| format!("trainings[{i}].{key}");
            let id = get(t.id);
            let first = ids.iter().position(|seen| seen.is_some() && *seen == id);
            ids.push(id.clone());
            if let (Some(id), Some(first)) = (&id, first) {
                let line = self.line(&self.locate(&format!("trainings[{first}].id")).0);
                self.at(
                    &at("id"),
                    format!("a training {id:?} is already defined (line {line})"),
                );
                continue;
            }
            let (link, place) = (get(t.link), get(t.place));
            if link.is_some() && place.is_some() {
                self.at(
                    &at("place"),
                    "a training is online (`link`) or at a `place`, not both",
                );
            }
            let quiz = tbl(t.quiz).map(|q| Quiz {
                pass: get(q.pass).unwrap_or(0),
                questions: items(q.questions)
                    .into_iter()
                    .filter_map(|q| q.0)
                    .map(|q| Question {
                        q: get(q.q).unwrap_or_default(),
                        choices: items(q.choices).into_iter().filter_map(|c| c.0).collect(),
                        answer: get(q.answer).unwrap_or(0),
                    })
                    .collect(),
            });
            if let Some(problem) = quiz.as_ref().and_then(Quiz::problem) {
                self.entry(&format!("trainings[{i}]"), "quiz", problem);
            }
            let eligible = tbl(t.eligible).unwrap_or_default();
            let mut reminders: Vec<u32> = match t.reminders {
                Some(list) => items(Some(list)).into_iter().filter_map(|r| r.0).collect(),
                None => DEFAULT_REMINDER_MINUTES.to_vec(),
            };
            reminders.sort_unstable_by(|a, b| b.cmp(a));
            reminders.dedup();
            let (Some(id), Some(title), Some(start), Some(duration_minutes), Some(capacity)) = (
                id,
                get(t.title),
                get(t.start),
                get(t.duration_minutes),
                get(t.capacity),
            ) else {
                continue;
            };
            out.push(TrainingConfig {
                id,
                title,
                level: get(t.level).unwrap_or(Level::Basic),
                start,
                duration_minutes,
                capacity,
                link,
                place,
                eligible: Eligibility {
                    tier: get(eligible.tier),
                    kind: get(eligible.kind),
                    region: get(eligible.region),
                },
                certification: get(t.certification),
                reminders,
                quiz,
            });
        }
    }

    fn tiers(&mut self, entries: Vec<Tbl<RawTier>>, out: &mut Vec<TierRule>) {
        let rules: Vec<TierRule> = entries
            .into_iter()
            .map(|t| {
                let t = t.0.unwrap_or_default();
                TierRule {
                    name: get(t.name).unwrap_or_default(),
                    min_trailing_sales: get(t.min_trailing_sales).unwrap_or_default(),
                    requires: items(t.requires).into_iter().flat_map(|v| v.0).collect(),
                }
            })
            .collect();
        for message in tier::validate(&rules) {
            // `tiers[1]: name "gold" is already used by tiers[0]` or `tiers[3] ("x"): …`.
            let Some((i, rest)) = parse_indexed(&message, "tiers") else {
                self.at("tiers", message);
                continue;
            };
            let text = match rest.strip_prefix(": ") {
                Some(text) => text,
                None => rest.rfind("): ").map_or(rest, |i| &rest[i + 3..]),
            };
            let field = ["name", "min_trailing_sales", "requires"]
                .into_iter()
                .find(|f| text.contains(f))
                .unwrap_or("");
            let mut text = text.to_owned();
            if let Some(pos) = text.find("tiers[")
                && let Some((k, _)) = parse_indexed(&text[pos..], "tiers")
            {
                let span = self.locate(&format!("tiers[{k}].name")).0;
                text.push_str(&format!(" (line {})", self.line(&span)));
            }
            self.entry(&format!("tiers[{i}]"), field, text);
        }
        *out = rules;
    }

    /// A problem an engine check found in entry `at` (`plans[0]`) about `field` (relative to
    /// it), at the line of that key; dropped when that part of the entry could not be read, as
    /// it would only echo the read error or be about a placeholder.
    fn entry(&mut self, at: &str, field: &str, message: String) {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        if !self.is_unread(&join_key(at, top)) {
            self.at(&join_key(at, field), message);
        }
    }

    fn plans(&mut self, entries: Vec<Tbl<RawPlan>>, out: &mut Vec<Plan>) {
        let plans: Vec<Plan> = (entries.into_iter().enumerate())
            .map(|(i, t)| self.plan(&format!("plans[{i}]"), t.0.unwrap_or_default()))
            .collect();
        for (i, plan) in plans.iter().enumerate() {
            for problem in plan::validate(plan) {
                self.entry(&format!("plans[{i}]"), &problem.field, problem.message);
            }
        }
        // Versions are compared only between entries whose id, version and date were read.
        let complete: Vec<usize> = (0..plans.len())
            .filter(|i| {
                let read = |f: &&str| !self.is_unread(&format!("plans[{i}].{f}"));
                ["id", "version", "effective_from"].iter().all(read)
            })
            .collect();
        let list: Vec<Plan> = complete.iter().map(|&i| plans[i].clone()).collect();
        for problem in plan::validate_versions(&list) {
            match parse_indexed(&problem.field, "plans")
                .and_then(|(j, r)| Some((complete.get(j)?, r)))
            {
                Some((i, rest)) => {
                    let field = rest.strip_prefix('.').unwrap_or(rest);
                    self.entry(&format!("plans[{i}]"), field, problem.message);
                }
                None => self.at("plans", problem.to_string()),
            }
        }
        *out = plans;
    }

    /// One `[[plans]]` entry; the parts that could not be read are placeholders.
    fn plan(&mut self, at: &str, r: RawPlan) -> Plan {
        Plan {
            id: get(r.id).unwrap_or_default(),
            version: get(r.version).unwrap_or(1),
            effective_from: get(r.effective_from).unwrap_or(NaiveDate::MIN),
            mode: get(r.mode).unwrap_or_default(),
            target: get(r.target),
            brackets: rows(r.brackets, RawBracket::build),
            category_rates: (tbl(r.category_rates).unwrap_or_default().into_iter())
                .filter_map(|(name, rate)| Some((name, rate.0?)))
                .collect(),
            accelerator: tbl(r.accelerator).and_then(RawAccelerator::build),
            cap: get(r.cap),
            bonuses: rows(r.bonuses, RawBonus::build),
            volume_rebate: tbl(r.volume_rebate).and_then(RawVolumeRebate::build),
            growth_rebate: tbl(r.growth_rebate).and_then(RawGrowthRebate::build),
            assign: self.assignment(&format!("{at}.assign"), tbl(r.assign)),
        }
    }

    /// `assign = { region = "East" }` (or kind / tier / partner): exactly one key, the first
    /// written counting.
    fn assignment(&mut self, at: &str, a: Option<RawAssign>) -> Assignment {
        let Some(a) = a else {
            return Assignment::Default;
        };
        let given = [
            ("region", a.region),
            ("kind", a.kind),
            ("tier", a.tier),
            ("partner", a.partner),
        ];
        let mut given: Vec<_> = given
            .into_iter()
            .filter_map(|(k, v)| Some((join_key(at, k), k, v?.0)))
            .collect();
        given.sort_by_key(|(key, ..)| self.locate(key).0.start);
        let Some((first, name, value)) = given.first().cloned() else {
            if !self.issues.iter().any(|i| i.key.starts_with(at)) {
                let m = "empty assignment: give one of region, kind, tier or partner, or leave \
                         `assign` out to make this the default plan";
                self.at(at, m);
            }
            return Assignment::Default;
        };
        let line = self.line(&self.locate(&first).0);
        for (key, ..) in &given[1..] {
            let m = format!(
                "a plan is assigned by one key only and `{name}` is already given (line {line}); \
                 use another [[plans]] entry for another group"
            );
            self.at(key, m);
        }
        value.map_or(Assignment::Default, |text| match name {
            "region" => Assignment::Region(text),
            "kind" => Assignment::Kind(text),
            "tier" => Assignment::Tier(text),
            _ => Assignment::Partner(text),
        })
    }

    /// `[allocation]`: the keys given over the defaults, then the checks of the result.
    fn allocation(&mut self, r: RawAllocation, a: &mut AllocationWeights) {
        let names = ["potential", "contribution", "growth", "floor", "cap"];
        let given = [r.potential, r.contribution, r.growth, r.floor, r.cap];
        let slots = [
            &mut a.potential,
            &mut a.contribution,
            &mut a.growth,
            &mut a.floor,
            &mut a.cap,
        ];
        let mut bad = given.iter().any(|v| matches!(v, Some(V(None))));
        for (slot, v) in slots.into_iter().zip(given) {
            put(slot, v);
        }
        let values = [a.potential, a.contribution, a.growth, a.floor, a.cap];
        for (i, (name, value)) in names.into_iter().zip(values).enumerate() {
            let key = format!("allocation.{name}");
            if value < Decimal::ZERO {
                self.at(&key, format!("must not be negative, not {value}"));
            } else if i >= 3 && value > Decimal::ONE {
                let m = "a fraction of the budget, at most 1 (the whole budget)";
                self.at(&key, format!("{m}, not {value}"));
            } else if i == 4 && value.is_zero() {
                let m = "must be more than 0: with a cap of 0 nobody could receive anything";
                self.at(&key, m);
            } else {
                continue;
            }
            bad = true;
        }
        if bad {
            return;
        }
        if a.potential.is_zero() && a.contribution.is_zero() && a.growth.is_zero() {
            let m = "the weights potential, contribution and growth are all 0; at least one must \
                     be more than 0";
            self.at("allocation", m);
        } else if a.floor > a.cap {
            let cap_at = match self.locate("allocation.cap") {
                (span, true) => format!("line {}", self.line(&span)),
                _ => "the default".to_owned(),
            };
            let (floor, cap) = (a.floor, a.cap);
            let m =
                format!("the floor {floor} is above the cap {cap} ({cap_at}); 0 ≤ floor ≤ cap ≤ 1");
            self.at("allocation.floor", m);
        }
    }
}

/// The value of a leaf that is written and could be read.
pub(super) fn get<T: Leaf>(v: Option<V<T>>) -> Option<T::Out> {
    v?.0
}

/// Stores a leaf's value if it is written and could be read; otherwise the default stays.
pub(super) fn put<T: Leaf>(slot: &mut T::Out, v: Option<V<T>>) {
    if let Some(v) = get(v) {
        *slot = v;
    }
}

fn tbl<T>(t: Option<Tbl<T>>) -> Option<T> {
    t?.0
}

fn items<T>(a: Option<Arr<T>>) -> Vec<T> {
    a.and_then(|a| a.0).unwrap_or_default()
}

/// The rows that could be read (the others are reported).
fn rows<R, T>(a: Option<Entries<R>>, build: fn(R) -> Option<T>) -> Vec<T> {
    items(a).into_iter().filter_map(|t| build(t.0?)).collect()
}

pub(super) fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The dotted key of the value written at `span` under `node` (whose key is `path`).
fn path_at(node: &DeValue<'_>, span: &Range<usize>, path: &str) -> Option<String> {
    let children: Vec<(String, &toml::Spanned<DeValue<'_>>)> = match node {
        DeValue::Table(t) => t
            .iter()
            .map(|(k, v)| (join_key(path, k.get_ref()), v))
            .collect(),
        DeValue::Array(a) => (a.iter().enumerate())
            .map(|(i, v)| (format!("{path}[{i}]"), v))
            .collect(),
        _ => return None,
    };
    // Deepest first: an array of tables has the span of its first table.
    children.into_iter().find_map(|(key, v)| {
        path_at(v.get_ref(), span, &key).or_else(|| (v.span() == *span).then_some(key))
    })
}

/// serde_ignored's path as a dotted key, without the wrappers that `Spanned` and `Option` add.
pub(super) fn key_of(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", key_of(parent)),
        Path::Map { parent, key } if !key.starts_with("$__serde_spanned_private") => {
            join_key(&key_of(parent), key)
        }
        Path::Map { parent, .. }
        | Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => key_of(parent),
    }
}

/// `unknown key (expected one of: …); did you mean `x`?`, the hint for the allowed key closest
/// to a misspelt one if it is close enough to be a likely typo.
fn unknown_key(name: &str, allowed: &[&str]) -> String {
    let distances = allowed.iter().map(|a| (strsim::levenshtein(name, a), *a));
    let best = distances
        .filter(|(d, a)| *d <= 2.max(a.len() / 3))
        .min_by_key(|(d, _)| *d);
    let hint = best
        .map(|(_, a)| format!("; did you mean `{a}`?"))
        .unwrap_or_default();
    format!(
        "unknown key (expected one of: {}){hint}",
        allowed.join(", ")
    )
}

fn join_key(path: &str, name: &str) -> String {
    match (path, name) {
        ("", _) => name.to_owned(),
        (_, "") => path.to_owned(),
        _ if name.starts_with('[') => format!("{path}{name}"),
        _ => format!("{path}.{name}"),
    }
}

/// `(2, ".from")` for `plans[2].from` and `name` = `plans`.
fn parse_indexed<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let rest = text.strip_prefix(name)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest))
}
