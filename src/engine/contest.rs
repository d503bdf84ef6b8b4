//! Sales contests: what a contest is (from `[[contests]]`), who is in it, and how each metric
//! turns a partner's contest facts into a place on the board. Pure: the service keeps the
//! facts per (contest, partner) in step with the sales and asks here for scores, gaps and
//! winners.
//!
//! A score is one positive `i64` so that contest boards reuse the period ranking's
//! [`RankIndex`](super::ranking::RankIndex) (higher first, ties to who reached it first). Metrics
//! with a ratio (growth, attainment) have two tiers: partners with a base (or a target) rank by
//! the ratio, in parts per billion, above every partner without one, who rank among themselves
//! by amount — the explicit answer to "growth from zero".

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

use super::ids::PartnerId;
use super::partner::{PartnerKind, name_key};
use super::schedule::CronSchedule;

/// What a contest ranks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Approved sales in the contest span.
    SalesAmount,
    /// Number of approved sales.
    SalesCount,
    /// Sales against the same span a year earlier (or the previous span).
    GrowthRate,
    /// Sales against the partner's own contest target.
    TargetAttainment,
    /// Customers the partner had never sold to before the contest started.
    NewCustomers,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::SalesAmount,
        Metric::SalesCount,
        Metric::GrowthRate,
        Metric::TargetAttainment,
        Metric::NewCustomers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::SalesAmount => "sales_amount",
            Metric::SalesCount => "sales_count",
            Metric::GrowthRate => "growth_rate",
            Metric::TargetAttainment => "target_attainment",
            Metric::NewCustomers => "new_customers",
        }
    }

    pub fn parse(text: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Whether the metric measures money (and so may be handicapped by a target).
    pub fn is_amount_based(self) -> bool {
        matches!(
            self,
            Metric::SalesAmount | Metric::GrowthRate | Metric::TargetAttainment
        )
    }
}

/// What growth is compared with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GrowthBase {
    /// The same span one year earlier.
    #[default]
    LastYear,
    /// The span of the same length just before the contest.
    Previous,
}

impl GrowthBase {
    pub fn as_str(self) -> &'static str {
        match self {
            GrowthBase::LastYear => "last_year",
            GrowthBase::Previous => "previous",
        }
    }

    pub fn parse(text: &str) -> Option<GrowthBase> {
        match text {
            "last_year" => Some(GrowthBase::LastYear),
            "previous" => Some(GrowthBase::Previous),
            _ => None,
        }
    }
}

/// Who competes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    #[default]
    Everyone,
    Region(String),
    Kind(PartnerKind),
    Tier(String),
    /// Partners by name (matched normalised) or id.
    Partners(Vec<String>),
}

/// What a place wins.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Award {
    /// Program currency; lands on the winner's statement as a `prize` line.
    Money(Decimal),
    /// A thing (announced and recorded, not paid).
    Reward(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Prize {
    /// 1-based place.
    pub rank: u32,
    pub award: Award,
}

/// Which bound program chats get the contest's posts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ContestChats {
    #[default]
    All,
    /// Chats bound for this region (and chats bound without a region).
    Region(String),
}

/// One `[[contests]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Contest {
    pub id: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub metric: Metric,
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
    pub scope: Scope,
    /// Rank by attainment of each partner's own contest target, whatever the metric measures.
    pub handicap: bool,
    /// Contest targets by partner name (program currency), else plan target × months.
    pub targets: BTreeMap<String, Decimal>,
    /// Sales (program currency) needed to qualify.
    pub min_sales: Decimal,
    pub prizes: Vec<Prize>,
    /// When to post the standings.
    pub updates: Option<CronSchedule>,
    pub chats: ContestChats,
    pub growth_base: GrowthBase,
}

/// Where a contest stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Upcoming,
    Running,
    Ended,
}

/// The partner attributes a scope looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entrant<'a> {
    pub id: PartnerId,
    pub name: &'a str,
    pub kind: PartnerKind,
    pub region: Option<&'a str>,
    pub tier: Option<&'a str>,
}

impl Contest {
    pub fn phase(&self, today: NaiveDate) -> Phase {
        if today < self.start {
            Phase::Upcoming
        } else if today <= self.end {
            Phase::Running
        } else {
            Phase::Ended
        }
    }

    /// Whether a sale dated `date` counts.
    pub fn counts(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// The span growth is measured against (inclusive).
    pub fn base_span(&self) -> (NaiveDate, NaiveDate) {
        match self.growth_base {
            GrowthBase::LastYear => (year_earlier(self.start), year_earlier(self.end)),
            GrowthBase::Previous => {
                let days = (self.end - self.start).num_days() + 1;
                (
                    self.start - chrono::Duration::days(days),
                    self.start - chrono::Duration::days(1),
                )
            }
        }
    }

    /// Whether sales dated `date` make up the growth base.
    pub fn in_base(&self, date: NaiveDate) -> bool {
        if self.metric != Metric::GrowthRate || self.handicap {
            return false;
        }
        let (from, to) = self.base_span();
        from <= date && date <= to
    }

    /// Whether the ranking needs each partner's contest target.
    pub fn uses_target(&self) -> bool {
        self.handicap || self.metric == Metric::TargetAttainment
    }

    /// Calendar months the span touches (a plan's monthly target × this is the default
    /// contest target).
    pub fn months(&self) -> u32 {
        let months = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
        u32::try_from(months(self.end) - months(self.start) + 1).unwrap_or(1)
    }

    /// Whether a partner competes.
    pub fn includes(&self, who: &Entrant<'_>) -> bool {
        let same = |a: &str, b: Option<&str>| b.is_some_and(|b| a.eq_ignore_ascii_case(b.trim()));
        match &self.scope {
            Scope::Everyone => true,
            Scope::Region(region) => same(region, who.region),
            Scope::Tier(tier) => same(tier, who.tier),
            Scope::Kind(kind) => *kind == who.kind,
            Scope::Partners(names) => {
                let key = name_key(who.name);
                names
                    .iter()
                    .any(|n| name_key(n) == key || n.trim() == who.id.0.to_string())
            }
        }
    }

    /// The contest target configured for a partner, by its name (normalised).
    pub fn configured_target(&self, partner_name: &str) -> Option<Decimal> {
        let key = name_key(partner_name);
        self.targets
            .iter()
            .find(|(name, _)| name_key(name) == key)
            .map(|(_, t)| *t)
    }

    /// The contest's name in Chinese when there is one and the reader wants it.
    pub fn display_name(&self, chinese: bool) -> &str {
        match (&self.name_zh, chinese) {
            (Some(zh), true) => zh,
            _ => &self.name,
        }
    }

    /// Whether `text` names this contest: its id or either name, any case.
    pub fn is_named(&self, text: &str) -> bool {
        let wanted = name_key(text);
        [Some(&self.id), Some(&self.name), self.name_zh.as_ref()]
            .into_iter()
            .flatten()
            .any(|n| name_key(n) == wanted)
    }

    /// The prize for a place, if any.
    pub fn prize_for(&self, rank: u32) -> Option<&Prize> {
        self.prizes.iter().find(|p| p.rank == rank)
    }
}

/// The same day a year earlier (29 February becomes 28 February).
fn year_earlier(date: NaiveDate) -> NaiveDate {
    date.checked_sub_months(Months::new(12)).unwrap_or(date)
}

/// One partner's facts in one contest, kept by the store as sales change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Approved sales in the span, minor units.
    pub amount_minor: i64,
    pub count: i64,
    /// Approved sales in the base span (growth), minor units.
    pub base_minor: i64,
    /// The partner's contest target, minor units, when the contest uses one.
    pub target_minor: Option<i64>,
    pub new_customers: i64,
}

/// The line between the two tiers of a ratio metric: with a base or target (above), without.
const TIER: i64 = 1 << 62;
/// Ratios are kept in parts per billion.
const PPB: i128 = 1_000_000_000;

/// How a contest scores: the metric, handicap and qualifying amount, resolved once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub metric: Metric,
    pub handicap: bool,
    /// Minor units of program currency.
    pub min_sales_minor: i64,
}

/// What a partner's value is, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Money(i64),
    Count(i64),
    Customers(i64),
    /// Growth over the base, parts per million (125000 = +12.5 %).
    Growth(i64),
    /// Attainment of the target, parts per million (1000000 = 100 %).
    Attainment(i64),
    /// Growth without a base: shown by amount.
    NoBase(i64),
    /// Attainment without a target: shown by amount.
    NoTarget(i64),
}

/// How much more a partner needs to pass the place above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    Money(i64),
    Sales(i64),
    Customers(i64),
}

fn ratio_ppb(amount: i64, base: i64) -> i64 {
    let r = i128::from(amount) * PPB / i128::from(base.max(1));
    i64::try_from(r.min(i128::from(TIER - 1))).unwrap_or(TIER - 1)
}

impl Rule {
    /// Whether the partner qualifies: some approved sales, at least `min_sales`.
    pub fn qualifies(&self, f: &Facts) -> bool {
        f.amount_minor > 0 && f.amount_minor >= self.min_sales_minor
    }

    fn ratio_basis(&self, f: &Facts) -> Option<i64> {
        if self.handicap || self.metric == Metric::TargetAttainment {
            f.target_minor.filter(|t| *t > 0)
        } else if self.metric == Metric::GrowthRate {
            Some(f.base_minor).filter(|b| *b > 0)
        } else {
            None
        }
    }

    fn is_ratio(&self) -> bool {
        self.handicap || matches!(self.metric, Metric::TargetAttainment | Metric::GrowthRate)
    }

    /// The board score (higher ranks higher), or `None` when the partner does not qualify.
    pub fn score(&self, f: &Facts) -> Option<i64> {
        if !self.qualifies(f) {
            return None;
        }
        let value = if self.is_ratio() {
            match self.ratio_basis(f) {
                Some(basis) => TIER + ratio_ppb(f.amount_minor, basis),
                None => f.amount_minor.min(TIER - 1),
            }
        } else {
            match self.metric {
                Metric::SalesCount => f.count,
                Metric::NewCustomers => f.new_customers,
                _ => f.amount_minor,
            }
        };
        // A qualified partner with no new customers (or a count of 0) still has a place.
        Some(value.max(0).saturating_add(1))
    }

    /// The value to show for a partner.
    pub fn shown(&self, f: &Facts) -> Shown {
        if self.is_ratio() {
            let growth = self.metric == Metric::GrowthRate && !self.handicap;
            return match (self.ratio_basis(f), growth) {
                (Some(b), true) => Shown::Growth(ratio_ppb(f.amount_minor, b) / 1000 - 1_000_000),
                (Some(b), false) => Shown::Attainment(ratio_ppb(f.amount_minor, b) / 1000),
                (None, true) => Shown::NoBase(f.amount_minor),
                (None, false) => Shown::NoTarget(f.amount_minor),
            };
        }
        match self.metric {
            Metric::SalesCount => Shown::Count(f.count),
            Metric::NewCustomers => Shown::Customers(f.new_customers),
            _ => Shown::Money(f.amount_minor),
        }
    }

    /// What `me` needs to pass a partner scored `ahead` (strictly: a tie goes to whoever got
    /// there first). `None` when no sale can do it (they have a base or target, `me` not).
    pub fn gap(&self, me: &Facts, ahead: i64) -> Option<Gap> {
        let ahead = ahead - 1;
        if self.is_ratio() {
            return match self.ratio_basis(me) {
                Some(basis) if ahead >= TIER => {
                    // Smallest amount A with floor(A × 1e9 / basis) > ahead ratio.
                    let want = i128::from(ahead - TIER) + 1;
                    let needed = (want * i128::from(basis) + PPB - 1) / PPB;
                    let needed = i64::try_from(needed).ok()?;
                    Some(Gap::Money((needed - me.amount_minor).max(1)))
                }
                Some(_) => Some(Gap::Money(1)),
                None if ahead < TIER => Some(Gap::Money((ahead - me.amount_minor + 1).max(1))),
                None => None,
            };
        }
        Some(match self.metric {
            Metric::SalesCount => Gap::Sales((ahead - me.count + 1).max(1)),
            Metric::NewCustomers => Gap::Customers((ahead - me.new_customers + 1).max(1)),
            _ => Gap::Money((ahead - me.amount_minor + 1).max(1)),
        })
    }
}

/// `+12.5%`, `-3.0%`, `104.2%` from parts per million.
pub fn percent(ppm: i64, signed: bool) -> String {
    let tenths = (i128::from(ppm) * 1000 + if ppm >= 0 { 500_000 } else { -500_000 }) / 1_000_000;
    let sign = match (signed, tenths.signum()) {
        (true, 1) => "+",
        (_, -1) => "-",
        _ => "",
    };
    let abs = tenths.abs();
    format!("{sign}{}.{}%", abs / 10, abs % 10)
}

/// A place on a final board: who, their facts and score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub place: u32,
    pub partner: PartnerId,
    pub facts: Facts,
}

/// The winners: each configured prize with the partner at its place (places without a
/// qualified partner stay unawarded).
pub fn winners<'a>(contest: &'a Contest, board: &[Placed]) -> Vec<(&'a Prize, PartnerId)> {
    contest
        .prizes
        .iter()
        .filter_map(|prize| {
            board
                .iter()
                .find(|p| p.place == prize.rank)
                .map(|p| (prize, p.partner))
        })
        .collect()
}

/// `1st`, `2nd`, `3rd`, `11th`: English ordinals for prize explanations.
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
// Minor units are written yuan_fen (`50_000_00` is ¥50,000.00).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::engine::customer::customer_key;
    use crate::engine::ranking::RankIndex;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn contest(metric: Metric) -> Contest {
        Contest {
            id: "q4".into(),
            name: "Q4 Cup".into(),
            name_zh: Some("第四季度杯".into()),
            metric,
            start: d("2026-10-01"),
            end: d("2026-12-31"),
            scope: Scope::Everyone,
            handicap: false,
            targets: BTreeMap::new(),
            min_sales: Decimal::ZERO,
            prizes: Vec::new(),
            updates: None,
            chats: ContestChats::All,
            growth_base: GrowthBase::LastYear,
        }
    }

    fn rule(metric: Metric, handicap: bool, min: i64) -> Rule {
        Rule {
            metric,
            handicap,
            min_sales_minor: min,
        }
    }

    fn facts(amount: i64, count: i64, base: i64, target: Option<i64>, new: i64) -> Facts {
        Facts {
            amount_minor: amount,
            count,
            base_minor: base,
            target_minor: target,
            new_customers: new,
        }
    }

    /// Ranks (partner, facts, reached at) with the engine's scores through a RankIndex.
    fn order(rule: Rule, entries: &[(i64, Facts, i64)]) -> Vec<i64> {
        let mut index = RankIndex::default();
        for (p, f, at) in entries {
            index.set(PartnerId(*p), rule.score(f).unwrap_or(0), *at);
        }
        index.top(100).into_iter().map(|(p, _, _)| p.0).collect()
    }

    #[test]
    fn sales_amount_ranks_by_amount_ties_to_the_first() {
        let r = rule(Metric::SalesAmount, false, 10_000_00);
        let ranked = order(
            r,
            &[
                (1, facts(50_000_00, 3, 0, None, 0), 30),
                (2, facts(80_000_00, 1, 0, None, 0), 40),
                (3, facts(50_000_00, 9, 0, None, 0), 10),
                // Below min_sales: not on the board.
                (4, facts(9_999_99, 20, 0, None, 0), 5),
            ],
        );
        assert_eq!(ranked, vec![2, 3, 1]);
        assert_eq!(
            r.gap(
                &facts(50_000_00, 3, 0, None, 0),
                r.score(&facts(80_000_00, 1, 0, None, 0)).unwrap_or(0)
            ),
            Some(Gap::Money(30_000_01))
        );
        assert_eq!(
            r.shown(&facts(50_000_00, 3, 0, None, 0)),
            Shown::Money(50_000_00)
        );
    }

    #[test]
    fn sales_count_ranks_by_number_of_sales() {
        let r = rule(Metric::SalesCount, false, 0);
        let ranked = order(
            r,
            &[
                (1, facts(900_00, 3, 0, None, 0), 1),
                (2, facts(100_00, 5, 0, None, 0), 2),
                (3, facts(5_000_00, 1, 0, None, 0), 3),
            ],
        );
        assert_eq!(ranked, vec![2, 1, 3]);
        let five = r.score(&facts(100_00, 5, 0, None, 0)).unwrap_or(0);
        assert_eq!(
            r.gap(&facts(900_00, 3, 0, None, 0), five),
            Some(Gap::Sales(3))
        );
    }

    #[test]
    fn growth_with_a_zero_base_ranks_after_every_base_by_amount() {
        // Hand-computed: p1 120k on 100k = +20 %; p2 90k on 60k = +50 %; p3 50k on 100k = -50 %;
        // p4 500k, no base; p5 30k, no base.
        let r = rule(Metric::GrowthRate, false, 0);
        let p1 = facts(120_000_00, 4, 100_000_00, None, 0);
        let p2 = facts(90_000_00, 2, 60_000_00, None, 0);
        let p3 = facts(50_000_00, 1, 100_000_00, None, 0);
        let p4 = facts(500_000_00, 9, 0, None, 0);
        let p5 = facts(30_000_00, 1, 0, None, 0);
        let ranked = order(
            r,
            &[(1, p1, 1), (2, p2, 1), (3, p3, 1), (4, p4, 1), (5, p5, 1)],
        );
        assert_eq!(ranked, vec![2, 1, 3, 4, 5]);
        assert_eq!(r.shown(&p1), Shown::Growth(200_000));
        assert_eq!(percent(200_000, true), "+20.0%");
        assert_eq!(r.shown(&p3), Shown::Growth(-500_000));
        assert_eq!(percent(-500_000, true), "-50.0%");
        assert_eq!(r.shown(&p4), Shown::NoBase(500_000_00));
        // p1 passes p2 (+50 %) with more than 150 % of its base: 150,000.01 - 120,000.
        let above = r.score(&p2).unwrap_or(0);
        assert_eq!(r.gap(&p1, above), Some(Gap::Money(30_000_01)));
        // No sale lifts a partner without a base above one with a base.
        assert_eq!(r.gap(&p4, r.score(&p3).unwrap_or(0)), None);
        assert_eq!(
            r.gap(&p5, r.score(&p4).unwrap_or(0)),
            Some(Gap::Money(470_000_01))
        );
    }

    #[test]
    fn attainment_with_handicap_targets() {
        // Small partner: 60k of a 50k target = 120 %; big one: 300k of 300k = 100 %; a third
        // without a target ranks after both, by amount.
        let r = rule(Metric::GrowthRate, true, 0);
        let small = facts(60_000_00, 2, 10_000_00, Some(50_000_00), 0);
        let big = facts(300_000_00, 8, 10_000_00, Some(300_000_00), 0);
        let none = facts(900_000_00, 20, 0, None, 0);
        assert_eq!(
            order(r, &[(1, big, 1), (2, small, 2), (3, none, 0)]),
            vec![2, 1, 3]
        );
        assert_eq!(r.shown(&small), Shown::Attainment(1_200_000));
        assert_eq!(percent(1_200_000, false), "120.0%");
        // Big needs strictly more than 120 % of 300k: 360,000.01 - 300,000.
        assert_eq!(
            r.gap(&big, r.score(&small).unwrap_or(0)),
            Some(Gap::Money(60_000_01))
        );
        let plain = rule(Metric::TargetAttainment, false, 0);
        assert_eq!(plain.score(&small), r.score(&small));
    }

    #[test]
    fn new_customers_count_normalised_names() {
        assert_eq!(customer_key("ACME Ltd."), customer_key("acme"));
        assert_eq!(customer_key("Ａｃｍｅ  Inc"), "acme");
        assert_eq!(customer_key("华东贸易有限公司"), customer_key("华东贸易"));
        assert_eq!(customer_key("Co"), "co");
        assert_ne!(customer_key("Globex"), customer_key("Initech"));
        let r = rule(Metric::NewCustomers, false, 0);
        let ranked = order(
            r,
            &[
                (1, facts(10_00, 4, 0, None, 2), 5),
                (2, facts(10_00, 1, 0, None, 3), 9),
                (3, facts(10_00, 1, 0, None, 2), 1),
                // Qualified with no new customer: still placed, last.
                (4, facts(10_00, 1, 0, None, 0), 0),
            ],
        );
        assert_eq!(ranked, vec![2, 3, 1, 4]);
    }

    #[test]
    fn spans_and_phases() {
        let mut c = contest(Metric::GrowthRate);
        assert_eq!(c.base_span(), (d("2025-10-01"), d("2025-12-31")));
        assert!(c.in_base(d("2025-11-30")) && !c.in_base(d("2026-11-30")));
        c.growth_base = GrowthBase::Previous;
        assert_eq!(c.base_span(), (d("2026-07-01"), d("2026-09-30")));
        assert_eq!(c.months(), 3);
        assert_eq!(c.phase(d("2026-09-30")), Phase::Upcoming);
        assert_eq!(c.phase(d("2026-12-31")), Phase::Running);
        assert_eq!(c.phase(d("2027-01-01")), Phase::Ended);
        assert!(c.counts(d("2026-10-01")) && !c.counts(d("2027-01-01")));
        let leap = Contest {
            start: d("2028-02-29"),
            end: d("2028-02-29"),
            ..contest(Metric::GrowthRate)
        };
        assert_eq!(leap.base_span().0, d("2027-02-28"));
    }

    #[test]
    fn names_scopes_and_targets() {
        let mut c = contest(Metric::SalesAmount);
        assert!(c.is_named("Q4") && c.is_named("q4 cup") && c.is_named("第四季度杯"));
        assert!(!c.is_named("q3"));
        assert_eq!(c.display_name(true), "第四季度杯");
        let east = Entrant {
            id: PartnerId(7),
            name: "王氏电子",
            kind: PartnerKind::Dealer,
            region: Some("East"),
            tier: Some("Gold"),
        };
        assert!(c.includes(&east));
        c.scope = Scope::Region("east".into());
        assert!(c.includes(&east));
        c.scope = Scope::Tier("Silver".into());
        assert!(!c.includes(&east));
        c.scope = Scope::Partners(vec!["7".into()]);
        assert!(c.includes(&east));
        c.scope = Scope::Kind(PartnerKind::Agent);
        assert!(!c.includes(&east));
        c.targets.insert("王氏电子".into(), Decimal::from(300_000));
        assert_eq!(
            c.configured_target("王氏电子"),
            Some(Decimal::from(300_000))
        );
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(23), "23rd");
    }

    #[test]
    fn winners_take_configured_places() {
        let mut c = contest(Metric::SalesAmount);
        c.prizes = vec![
            Prize {
                rank: 1,
                award: Award::Money(Decimal::from(5000)),
            },
            Prize {
                rank: 3,
                award: Award::Reward("Demo kit".into()),
            },
        ];
        let board = vec![
            Placed {
                place: 1,
                partner: PartnerId(4),
                facts: Facts::default(),
            },
            Placed {
                place: 2,
                partner: PartnerId(9),
                facts: Facts::default(),
            },
        ];
        let won = winners(&c, &board);
        assert_eq!(won.len(), 1);
        assert_eq!((won[0].0.rank, won[0].1), (1, PartnerId(4)));
    }
}
