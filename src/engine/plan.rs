//! Commission plans: their shape, validation, the cliffs of whole-mode brackets, and which plan
//! applies to a partner in a period (README "Plans, tiers and allocation").
//!
//! Plans are plain data read from the config file; this module never reads anything itself.
//! Rates are percentages (`5` means 5 %), amounts are exact decimals in the program currency.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::PartnerId;
use super::money::{Currency, Money};

/// How brackets apply to the bracket base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanMode {
    /// Each slice of the base earns its own bracket's rate (no cliffs).
    #[default]
    Marginal,
    /// The whole base earns the rate of the highest bracket reached (cliffs at boundaries).
    Whole,
}

/// A bracket starting at `from` (inclusive); it ends where the next one starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bracket {
    pub from: Decimal,
    /// Percent.
    pub rate: Decimal,
}

/// Extra commission on the part of the bracket base above `above_attainment` % of target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accelerator {
    /// Percent of target, e.g. `100`.
    pub above_attainment: Decimal,
    /// `1.5` means that part earns 1.5 × its rate (an extra 0.5 ×).
    pub multiplier: Decimal,
}

/// A fixed bonus once attainment (percent of target) reaches `attainment`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BonusStep {
    pub attainment: Decimal,
    pub amount: Decimal,
}

/// `rate` % of all period sales once they reach `threshold`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRebate {
    pub threshold: Decimal,
    pub rate: Decimal,
}

/// `rate` % of the growth over the same period last year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowthRebate {
    pub rate: Decimal,
}

/// Who a plan is for. The most specific matching assignment wins (see [`select_plan`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignment {
    #[default]
    Default,
    Kind(String),
    Region(String),
    Tier(String),
    /// A partner's name (case-insensitive) or its id as text.
    Partner(String),
}

impl Assignment {
    /// Higher is more specific: partner > tier > region > kind > default.
    pub fn specificity(&self) -> u8 {
        match self {
            Assignment::Default => 0,
            Assignment::Kind(_) => 1,
            Assignment::Region(_) => 2,
            Assignment::Tier(_) => 3,
            Assignment::Partner(_) => 4,
        }
    }

    /// Whether this assignment covers the partner described by `facts`.
    pub fn matches(&self, facts: &PartnerFacts) -> bool {
        match self {
            Assignment::Default => true,
            Assignment::Kind(k) => same_name(k, &facts.kind),
            Assignment::Region(r) => facts.region.as_deref().is_some_and(|x| same_name(r, x)),
            Assignment::Tier(t) => facts.tier.as_deref().is_some_and(|x| same_name(t, x)),
            Assignment::Partner(p) => {
                same_name(p, &facts.name) || p.trim() == facts.partner.0.to_string()
            }
        }
    }
}

/// Case-insensitive (Unicode lowercase), surrounding spaces ignored: config files and partner
/// records are typed by different people.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// One version of a commission plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub version: u32,
    /// The version in force at a period's start applies to the whole period.
    pub effective_from: NaiveDate,
    pub mode: PlanMode,
    /// Period target; a partner-specific target overrides it.
    pub target: Option<Decimal>,
    pub brackets: Vec<Bracket>,
    /// Category name → percent. Sales in these categories leave the bracket base.
    pub category_rates: BTreeMap<String, Decimal>,
    pub accelerator: Option<Accelerator>,
    pub cap: Option<Decimal>,
    pub bonuses: Vec<BonusStep>,
    pub volume_rebate: Option<VolumeRebate>,
    pub growth_rebate: Option<GrowthRebate>,
    pub assign: Assignment,
}

/// One thing wrong with a plan. `field` is a config path such as `brackets[2].from` so the
/// config loader can attach the line number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PlanProblem {
    pub field: String,
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> PlanProblem {
    PlanProblem {
        field: field.into(),
        message: message.into(),
    }
}

fn is_percent(rate: Decimal) -> bool {
    rate >= Decimal::ZERO && rate <= Decimal::ONE_HUNDRED
}

/// Every problem with one plan version (empty = valid). [`compute`](super::statement::compute)
/// never panics on an invalid plan, but only a valid one gives meaningful money.
pub fn validate(plan: &Plan) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    if plan.id.trim().is_empty() {
        out.push(problem("id", "must not be empty"));
    }

    if plan.brackets.is_empty() {
        out.push(problem("brackets", "at least one bracket is required"));
    }
    for (i, b) in plan.brackets.iter().enumerate() {
        if i == 0 && !b.from.is_zero() {
            out.push(problem(
                "brackets[0].from",
                format!("the first bracket must start at 0, not {}", b.from),
            ));
        }
        if i > 0 {
            let prev = plan.brackets[i - 1].from;
            if b.from <= prev {
                out.push(problem(
                    format!("brackets[{i}].from"),
                    format!(
                        "brackets must be in strictly increasing order: {} does not come after {prev}",
                        b.from
                    ),
                ));
            }
        }
        if !is_percent(b.rate) {
            out.push(problem(
                format!("brackets[{i}].rate"),
                format!("a rate is a percentage from 0 to 100, not {}", b.rate),
            ));
        }
    }

    let mut seen = BTreeSet::new();
    for (name, rate) in &plan.category_rates {
        let field = format!("category_rates.{name}");
        if name.trim().is_empty() {
            out.push(problem(field.clone(), "a category name must not be empty"));
        } else if !seen.insert(name.trim().to_lowercase()) {
            // Categories match case-insensitively, so these two would be ambiguous.
            out.push(problem(
                field.clone(),
                "the same category is listed twice (names are case-insensitive)",
            ));
        }
        if !is_percent(*rate) {
            out.push(problem(
                field,
                format!("a rate is a percentage from 0 to 100, not {rate}"),
            ));
        }
    }

    if let Some(acc) = &plan.accelerator {
        if acc.multiplier < Decimal::ONE {
            out.push(problem(
                "accelerator.multiplier",
                format!("must be at least 1, not {}", acc.multiplier),
            ));
        }
        if acc.above_attainment < Decimal::ZERO {
            out.push(problem(
                "accelerator.above_attainment",
                format!("must not be negative, not {}", acc.above_attainment),
            ));
        }
    }

    for (i, step) in plan.bonuses.iter().enumerate() {
        if i > 0 && step.attainment <= plan.bonuses[i - 1].attainment {
            out.push(problem(
                format!("bonuses[{i}].attainment"),
                format!(
                    "bonus thresholds must be in strictly increasing order: {} does not come after {}",
                    step.attainment,
                    plan.bonuses[i - 1].attainment
                ),
            ));
        }
        if step.amount < Decimal::ZERO {
            out.push(problem(
                format!("bonuses[{i}].amount"),
                format!("must not be negative, not {}", step.amount),
            ));
        }
    }

    if let Some(t) = plan.target
        && t <= Decimal::ZERO
    {
        out.push(problem("target", format!("must be more than 0, not {t}")));
    }
    if let Some(c) = plan.cap
        && c < Decimal::ZERO
    {
        out.push(problem("cap", format!("must not be negative, not {c}")));
    }
    if let Some(v) = &plan.volume_rebate {
        if !is_percent(v.rate) {
            out.push(problem(
                "volume_rebate.rate",
                format!("a rate is a percentage from 0 to 100, not {}", v.rate),
            ));
        }
        if v.threshold < Decimal::ZERO {
            out.push(problem(
                "volume_rebate.threshold",
                format!("must not be negative, not {}", v.threshold),
            ));
        }
    }
    if let Some(g) = &plan.growth_rebate
        && !is_percent(g.rate)
    {
        out.push(problem(
            "growth_rebate.rate",
            format!("a rate is a percentage from 0 to 100, not {}", g.rate),
        ));
    }

    let empty_target = match &plan.assign {
        Assignment::Default => false,
        Assignment::Kind(s)
        | Assignment::Region(s)
        | Assignment::Tier(s)
        | Assignment::Partner(s) => s.trim().is_empty(),
    };
    if empty_target {
        out.push(problem(
            "assign",
            "the assignment names nobody (empty value)",
        ));
    }
    out
}

/// Problems across all versions of all plans: two entries with the same id and version, or a
/// later version that takes effect before an earlier one (which would make "the version in force"
/// depend on dates in a surprising way). `field` is `plans[i]` (index into `plans`).
pub fn validate_versions(plans: &[Plan]) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        for q in &plans[..i] {
            if q.id != p.id {
                continue;
            }
            if q.version == p.version {
                out.push(problem(
                    format!("plans[{i}].version"),
                    format!("plan {} version {} is defined twice", p.id, p.version),
                ));
            } else if (q.version < p.version) != (q.effective_from < p.effective_from)
                || q.effective_from == p.effective_from
            {
                out.push(problem(
                    format!("plans[{i}].effective_from"),
                    format!(
                        "plan {}: versions {} and {} must take effect on different dates, the higher version later",
                        p.id, q.version, p.version
                    ),
                ));
            }
        }
    }
    out
}

/// A whole-mode discontinuity: one minor unit below `at` the commission is `below`, at `at` it
/// is `at_value`. Values are exact (unrounded); display rounds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cliff {
    pub at: Decimal,
    pub below: Decimal,
    pub at_value: Decimal,
    /// The rate just below `at` (percent).
    pub rate_below: Decimal,
    /// The rate from `at` on (percent).
    pub rate_at: Decimal,
}

/// The cliffs a whole-mode plan makes: at each bracket boundary `b > 0` where the rate changes,
/// the bracket commission on `b − unit` (previous rate) against that on `b` (new rate).
/// `unit` is the currency's minor unit (`0.01` for CNY, `1` for JPY). Marginal plans have none.
///
/// Only bracket commission is considered (not accelerator or category rates), since those do
/// not jump at boundaries.
pub fn cliffs(plan: &Plan, unit: Decimal) -> Vec<Cliff> {
    if plan.mode != PlanMode::Whole {
        return Vec::new();
    }
    let mut out = Vec::new();
    for pair in plan.brackets.windows(2) {
        let (prev, cur) = (&pair[0], &pair[1]);
        if cur.from <= Decimal::ZERO || cur.rate == prev.rate {
            continue;
        }
        let below = cur
            .from
            .checked_sub(unit)
            .and_then(|x| x.checked_mul(prev.rate))
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED));
        let at_value = cur
            .from
            .checked_mul(cur.rate)
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED));
        // Only reachable with absurd config values; such a boundary cannot be described.
        if let (Some(below), Some(at_value)) = (below, at_value) {
            out.push(Cliff {
                at: cur.from,
                below,
                at_value,
                rate_below: prev.rate,
                rate_at: cur.rate,
            });
        }
    }
    out
}

/// What plan selection needs to know about a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerFacts {
    pub partner: PartnerId,
    pub name: String,
    pub kind: String,
    pub region: Option<String>,
    pub tier: Option<String>,
}

/// The plan for a partner in the period starting `period_start`.
///
/// 1. Per plan id, the version in force at `period_start`: the latest `effective_from` on or
///    before it (equal dates: the higher version). Versions not yet in force are ignored.
/// 2. Among those, the most specific assignment matching the partner wins:
///    partner > tier > region > kind > default (names compare case-insensitively; a partner
///    assignment matches the partner's name or its id as text).
/// 3. Two plans equally specific (e.g. both assigned to region East): the lowest plan id wins,
///    so the choice is deterministic; `rally check-config` should warn about such overlaps.
///
/// `None` when no plan applies (no default plan and no matching assignment).
pub fn select_plan<'a>(
    plans: &'a [Plan],
    facts: &PartnerFacts,
    period_start: NaiveDate,
) -> Option<&'a Plan> {
    let mut in_force: BTreeMap<&str, &'a Plan> = BTreeMap::new();
    for p in plans.iter().filter(|p| p.effective_from <= period_start) {
        let newer = match in_force.get(p.id.as_str()) {
            Some(cur) => (p.effective_from, p.version) > (cur.effective_from, cur.version),
            None => true,
        };
        if newer {
            in_force.insert(p.id.as_str(), p);
        }
    }
    // BTreeMap iterates ids in ascending order; `max_by_key` would keep the last maximum, so
    // pick explicitly to keep the lowest id on ties.
    let mut best: Option<&'a Plan> = None;
    for p in in_force.into_values().filter(|p| p.assign.matches(facts)) {
        if best.is_none_or(|b| p.assign.specificity() > b.assign.specificity()) {
            best = Some(p);
        }
    }
    best
}

impl Cliff {
    /// `at ¥150,000.00 commission jumps from ¥5,999.96 to ¥9,000.00` for `rally check-config`.
    pub fn describe(&self, currency: Currency) -> String {
        let m = |x: Decimal| Money::new(x, currency).format();
        format!(
            "at {} commission jumps from {} to {}",
            m(self.at),
            m(self.below),
            m(self.at_value)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).expect("test date")
    }

    fn br(from: &str, rate: &str) -> Bracket {
        Bracket {
            from: d(from),
            rate: d(rate),
        }
    }

    /// The issue's example plan.
    fn standard() -> Plan {
        Plan {
            id: "standard".into(),
            version: 1,
            effective_from: date("2026-01-01"),
            mode: PlanMode::Marginal,
            target: Some(d("150000")),
            brackets: vec![br("0", "3"), br("100000", "5"), br("300000", "8")],
            category_rates: BTreeMap::from([("software".to_string(), d("10"))]),
            accelerator: Some(Accelerator {
                above_attainment: d("100"),
                multiplier: d("1.5"),
            }),
            cap: Some(d("30000")),
            bonuses: vec![
                BonusStep {
                    attainment: d("100"),
                    amount: d("2000"),
                },
                BonusStep {
                    attainment: d("120"),
                    amount: d("5000"),
                },
            ],
            volume_rebate: Some(VolumeRebate {
                threshold: d("200000"),
                rate: d("1"),
            }),
            growth_rebate: Some(GrowthRebate { rate: d("2") }),
            assign: Assignment::Default,
        }
    }

    fn facts() -> PartnerFacts {
        PartnerFacts {
            partner: PartnerId(42),
            name: "ACME Trading".into(),
            kind: "dealer".into(),
            region: Some("East".into()),
            tier: Some("Gold".into()),
        }
    }

    fn fields(problems: &[PlanProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn example_plan_is_valid() {
        assert_eq!(validate(&standard()), vec![]);
    }

    #[test]
    fn validation_names_each_field() {
        let mut p = standard();
        p.id = " ".into();
        p.brackets = vec![br("10", "3"), br("5", "101"), br("5", "-1")];
        p.category_rates = BTreeMap::from([
            ("Software".to_string(), d("10")),
            ("software".to_string(), d("100.5")),
        ]);
        p.accelerator = Some(Accelerator {
            above_attainment: d("-1"),
            multiplier: d("0.9"),
        });
        p.bonuses = vec![
            BonusStep {
                attainment: d("120"),
                amount: d("-1"),
            },
            BonusStep {
                attainment: d("120"),
                amount: d("1"),
            },
        ];
        p.target = Some(d("0"));
        p.cap = Some(d("-0.01"));
        p.volume_rebate = Some(VolumeRebate {
            threshold: d("-5"),
            rate: d("100.01"),
        });
        p.growth_rebate = Some(GrowthRebate { rate: d("-2") });
        p.assign = Assignment::Region("".into());
        let problems = validate(&p);
        assert_eq!(
            fields(&problems),
            vec![
                "id",
                "brackets[0].from",
                "brackets[1].from",
                "brackets[1].rate",
                "brackets[2].from",
                "brackets[2].rate",
                "category_rates.software",
                "category_rates.software",
                "accelerator.multiplier",
                "accelerator.above_attainment",
                "bonuses[0].amount",
                "bonuses[1].attainment",
                "target",
                "cap",
                "volume_rebate.rate",
                "volume_rebate.threshold",
                "growth_rebate.rate",
                "assign",
            ]
        );
        assert_eq!(
            problems[1].to_string(),
            "brackets[0].from: the first bracket must start at 0, not 10"
        );

        let mut empty = standard();
        empty.brackets.clear();
        assert_eq!(fields(&validate(&empty)), vec!["brackets"]);

        // Boundaries are inclusive: 0 and 100 % rates, multiplier 1, cap 0 are fine.
        let mut edge = standard();
        edge.brackets = vec![br("0", "0"), br("1", "100")];
        edge.accelerator = Some(Accelerator {
            above_attainment: d("0"),
            multiplier: d("1"),
        });
        edge.cap = Some(d("0"));
        assert_eq!(validate(&edge), vec![]);
    }

    #[test]
    fn version_problems() {
        let v1 = standard();
        let mut v2 = standard();
        v2.version = 2;
        v2.effective_from = date("2026-04-01");
        assert_eq!(validate_versions(&[v1.clone(), v2.clone()]), vec![]);
        assert_eq!(
            fields(&validate_versions(&[v1.clone(), v1.clone()])),
            vec!["plans[1].version"]
        );
        let mut backwards = v2.clone();
        backwards.effective_from = date("2025-12-01");
        assert_eq!(
            fields(&validate_versions(&[v1.clone(), backwards])),
            vec!["plans[1].effective_from"]
        );
        let mut other = v2;
        other.id = "other".into();
        other.version = 1;
        assert_eq!(validate_versions(&[v1, other]), vec![]);
    }

    #[test]
    fn cliff_example_from_the_issue() {
        // 4 % below 150,000 on 149,999 = 5,999.96; 6 % at 150,000 = 9,000.00.
        let mut p = standard();
        p.mode = PlanMode::Whole;
        p.brackets = vec![br("0", "4"), br("150000", "6")];
        let c = cliffs(&p, d("1"));
        assert_eq!(
            c,
            vec![Cliff {
                at: d("150000"),
                below: d("5999.96"),
                at_value: d("9000"),
                rate_below: d("4"),
                rate_at: d("6"),
            }]
        );
        assert_eq!(
            c[0].describe(Currency::CNY),
            "at ¥150,000.00 commission jumps from ¥5,999.96 to ¥9,000.00"
        );
        // With cents the last amount below is 149,999.99.
        assert_eq!(cliffs(&p, d("0.01"))[0].below, d("5999.9996"));
    }

    #[test]
    fn cliffs_only_in_whole_mode_and_where_the_rate_changes() {
        let mut p = standard();
        assert_eq!(cliffs(&p, d("0.01")), vec![]);
        p.mode = PlanMode::Whole;
        p.brackets = vec![br("0", "3"), br("100", "3"), br("200", "2")];
        let c = cliffs(&p, d("1"));
        // Equal rates make no jump; a falling rate is a (downward) cliff.
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].at, c[0].below, c[0].at_value),
            (d("200"), d("5.97"), d("4"))
        );
        // Absurd values do not panic.
        p.brackets = vec![br("0", "3"), br(&Decimal::MAX.to_string(), "100")];
        assert_eq!(cliffs(&p, d("0.01")), vec![]);
    }

    fn plan_assigned(id: &str, assign: Assignment) -> Plan {
        Plan {
            id: id.into(),
            assign,
            ..standard()
        }
    }

    #[test]
    fn selection_precedence() {
        let start = date("2026-03-01");
        let mut plans = vec![
            plan_assigned("a-default", Assignment::Default),
            plan_assigned("b-kind", Assignment::Kind("DEALER".into())),
            plan_assigned("c-region", Assignment::Region("east".into())),
            plan_assigned("d-tier", Assignment::Tier(" gold ".into())),
            plan_assigned("e-partner", Assignment::Partner("acme trading".into())),
        ];
        let f = facts();
        let pick = |plans: &[Plan]| select_plan(plans, &f, start).map(|p| p.id.clone());
        assert_eq!(pick(&plans).as_deref(), Some("e-partner"));
        plans.pop();
        assert_eq!(pick(&plans).as_deref(), Some("d-tier"));
        plans.pop();
        assert_eq!(pick(&plans).as_deref(), Some("c-region"));
        plans.pop();
        assert_eq!(pick(&plans).as_deref(), Some("b-kind"));
        plans.pop();
        assert_eq!(pick(&plans).as_deref(), Some("a-default"));
        plans.pop();
        assert_eq!(pick(&plans), None);

        // By id text; non-matching assignments never apply.
        let by_id = [
            plan_assigned("x", Assignment::Partner("42".into())),
            plan_assigned("y", Assignment::Partner("43".into())),
            plan_assigned("z", Assignment::Region("West".into())),
        ];
        assert_eq!(pick(&by_id).as_deref(), Some("x"));
        let mut no_region = facts();
        no_region.region = None;
        no_region.tier = None;
        let segs = [
            plan_assigned("r", Assignment::Region("East".into())),
            plan_assigned("t", Assignment::Tier("Gold".into())),
        ];
        assert_eq!(select_plan(&segs, &no_region, start), None);
    }

    #[test]
    fn selection_ties_pick_the_lowest_id() {
        let plans = [
            plan_assigned("zeta", Assignment::Region("East".into())),
            plan_assigned("alpha", Assignment::Region("EAST".into())),
            plan_assigned("mid", Assignment::Region("east".into())),
        ];
        let got = select_plan(&plans, &facts(), date("2026-03-01")).map(|p| p.id.as_str());
        assert_eq!(got, Some("alpha"));
    }

    #[test]
    fn selection_uses_the_version_in_force_at_period_start() {
        let v1 = standard();
        let mut v2 = standard();
        v2.version = 2;
        v2.effective_from = date("2026-04-01");
        v2.target = Some(d("200000"));
        let plans = [v2.clone(), v1.clone()];
        let f = facts();
        let version = |day: &str| select_plan(&plans, &f, date(day)).map(|p| p.version);
        assert_eq!(version("2025-12-01"), None);
        assert_eq!(version("2026-01-01"), Some(1));
        assert_eq!(version("2026-03-31"), Some(1));
        assert_eq!(version("2026-04-01"), Some(2));

        // The version in force decides the assignment: v2 of "special" moved to region West,
        // so from April the East partner falls back to the default plan.
        let mut special1 = plan_assigned("special", Assignment::Region("East".into()));
        special1.effective_from = date("2026-01-01");
        let mut special2 = plan_assigned("special", Assignment::Region("West".into()));
        special2.version = 2;
        special2.effective_from = date("2026-04-01");
        let plans = [v1, special1, special2];
        let id = |day: &str| select_plan(&plans, &f, date(day)).map(|p| p.id.as_str());
        assert_eq!(id("2026-03-01"), Some("special"));
        assert_eq!(id("2026-04-01"), Some("standard"));
    }

    fn opt_name() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop::sample::select(vec!["East", "West", "Gold", "Silver"]))
            .prop_map(|o| o.map(str::to_string))
    }

    fn any_assignment() -> impl Strategy<Value = Assignment> {
        let name = prop::sample::select(vec!["east", "WEST", "gold", "silver", "dealer", "agent"])
            .prop_map(str::to_string);
        let partner = prop::sample::select(vec!["p1", "P2", "1", "2"]).prop_map(str::to_string);
        prop_oneof![
            Just(Assignment::Default),
            name.clone().prop_map(Assignment::Kind),
            name.clone().prop_map(Assignment::Region),
            name.prop_map(Assignment::Tier),
            partner.prop_map(Assignment::Partner),
        ]
    }

    proptest! {
        #[test]
        fn prop_assignment_precedence(
            id in 1i64..3,
            kind in prop::sample::select(vec!["dealer", "Agent"]),
            region in opt_name(),
            tier in opt_name(),
            assigns in prop::collection::vec(any_assignment(), 0..8),
        ) {
            let f = PartnerFacts {
                partner: PartnerId(id),
                name: format!("P{id}"),
                kind: kind.to_string(),
                region,
                tier,
            };
            let plans: Vec<Plan> = assigns
                .iter()
                .enumerate()
                .map(|(i, a)| plan_assigned(&format!("plan{i:02}"), a.clone()))
                .collect();
            let got = select_plan(&plans, &f, date("2026-05-01"));
            // Independent oracle: walk the levels from most specific down.
            let lc = |s: &str| s.to_lowercase();
            let level_matches = |a: &Assignment, level: u8| match (a, level) {
                (Assignment::Partner(p), 4) => lc(p) == lc(&f.name) || *p == id.to_string(),
                (Assignment::Tier(t), 3) => f.tier.as_deref().is_some_and(|x| lc(x) == lc(t)),
                (Assignment::Region(r), 2) => f.region.as_deref().is_some_and(|x| lc(x) == lc(r)),
                (Assignment::Kind(k), 1) => lc(k) == lc(&f.kind),
                (Assignment::Default, 0) => true,
                _ => false,
            };
            let expected = (0..=4u8).rev().find_map(|level| {
                plans.iter().filter(|p| level_matches(&p.assign, level)).map(|p| p.id.clone()).min()
            });
            prop_assert_eq!(got.map(|p| p.id.clone()), expected);
        }

        #[test]
        fn prop_cliffs_exactly_at_boundaries(
            steps in prop::collection::vec((1u32..50, 0u32..=1000), 0..6),
            first_rate in 0u32..=1000,
            cents in any::<bool>(),
        ) {
            let unit = if cents { d("0.01") } else { d("1") };
            let mut brackets = vec![Bracket {
                from: Decimal::ZERO,
                rate: Decimal::new(first_rate.into(), 1),
            }];
            let mut from = Decimal::ZERO;
            for (gap, rate) in &steps {
                from += Decimal::from(*gap) * Decimal::ONE_THOUSAND;
                brackets.push(Bracket { from, rate: Decimal::new((*rate).into(), 1) });
            }
            let mut p = standard();
            p.mode = PlanMode::Whole;
            p.brackets = brackets.clone();
            prop_assert_eq!(validate(&p), vec![]);
            let c = cliffs(&p, unit);
            let expected: Vec<Decimal> = brackets
                .windows(2)
                .filter(|w| w[0].rate != w[1].rate)
                .map(|w| w[1].from)
                .collect();
            prop_assert_eq!(c.iter().map(|x| x.at).collect::<Vec<_>>(), expected);
            for cliff in &c {
                // The listed values are exactly what the whole-mode rule pays there.
                prop_assert_eq!(
                    crate::engine::statement::commission_unrounded(&p, cliff.at - unit),
                    cliff.below
                );
                prop_assert_eq!(
                    crate::engine::statement::commission_unrounded(&p, cliff.at),
                    cliff.at_value
                );
            }
            p.mode = PlanMode::Marginal;
            prop_assert!(cliffs(&p, unit).is_empty());
        }
    }
}
