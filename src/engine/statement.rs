//! Statements: turning a period's sales facts and a plan into money, one explainable line per
//! rule (README "Plans, tiers and allocation").
//!
//! Every amount is computed exactly and rounded once, per line, half away from zero to the
//! currency's minor unit; the total is the sum of the rounded lines, so what a partner sees adds
//! up. Each line carries a message key and arguments so the chat layer can localize it, and
//! [`Explanation::english`] for exports and tests.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money, MoneyError};
use super::plan::{Accelerator, Plan, PlanMode, same_name};

/// A period's facts for one partner, all in program currency, exact and unrounded.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SalesFacts {
    /// S: approved sales in the period.
    pub total: Decimal,
    /// Approved sales per category (part of `total`). Categories without a plan rate simply
    /// stay in the bracket base.
    pub by_category: BTreeMap<String, Decimal>,
    /// L: approved sales in the same period one year earlier.
    pub last_year: Decimal,
    /// The partner's own target for the period; overrides the plan's.
    pub target: Option<Decimal>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Commission,
    Accelerator,
    Category,
    Cap,
    Bonus,
    VolumeRebate,
    GrowthRebate,
    Adjustment,
    Prize,
}

impl LineKind {
    /// The export name (`commission`, `volume_rebate`, …), same as the serde name.
    pub fn as_str(&self) -> &'static str {
        match self {
            LineKind::Commission => "commission",
            LineKind::Accelerator => "accelerator",
            LineKind::Category => "category",
            LineKind::Cap => "cap",
            LineKind::Bonus => "bonus",
            LineKind::VolumeRebate => "volume_rebate",
            LineKind::GrowthRebate => "growth_rebate",
            LineKind::Adjustment => "adjustment",
            LineKind::Prize => "prize",
        }
    }
}

/// Why a line exists: a message key plus display-ready arguments (amounts already formatted
/// with the currency, rates and attainment as plain numbers meaning percent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Explanation {
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A plain English sentence, for exports, logs and tests. Missing arguments show as `?`
    /// rather than failing: an explanation must never be the thing that breaks a statement.
    pub fn english(&self) -> String {
        let a = |name: &str| self.arg(name).unwrap_or("?");
        let body = match self.key {
            "line-commission-marginal" => format!(
                "{}% commission on {} of sales in the bracket from {} to {}",
                a("rate"),
                a("base"),
                a("lower"),
                a("upper")
            ),
            "line-commission-marginal-top" => format!(
                "{}% commission on {} of sales in the bracket from {} up",
                a("rate"),
                a("base"),
                a("lower")
            ),
            "line-commission-whole" => format!(
                "{}% commission on all {} of sales: the bracket from {} was reached",
                a("rate"),
                a("base"),
                a("lower")
            ),
            "line-accelerator" => format!(
                "Accelerator: {} of sales above {} ({}% of target) earn {}× the {}% rate, an extra {}%",
                a("base"),
                a("from"),
                a("above_attainment"),
                a("multiplier"),
                a("rate"),
                a("extra_rate")
            ),
            "line-category" => format!(
                "{}% commission on {} of {} sales",
                a("rate"),
                a("base"),
                a("category")
            ),
            "line-cap" => format!(
                "Cap: commission of {} is limited to {}",
                a("before"),
                a("cap")
            ),
            "line-bonus" => format!(
                "Bonus for reaching {}% of the {} target: attainment {}%",
                a("threshold"),
                a("target"),
                a("attainment")
            ),
            "line-volume-rebate" => format!(
                "Volume rebate: {}% of {} of sales, which reached the {} threshold",
                a("rate"),
                a("base"),
                a("threshold")
            ),
            "line-growth-rebate" => format!(
                "Growth rebate: {}% of the {} growth over last year ({} against {})",
                a("rate"),
                a("base"),
                a("sales"),
                a("last_year")
            ),
            "line-adjustment" => format!("Adjustment: {}", a("reason")),
            "line-prize" => format!("Prize for place {} in {}", a("rank"), a("contest")),
            other => {
                let args: Vec<String> = self.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{other}: {}", args.join(", "))
            }
        };
        match (self.arg("plan"), self.arg("version")) {
            (Some(p), Some(v)) => format!("{body}; plan {p} v{v}"),
            _ => body,
        }
    }
}

/// One statement line. `base` is the amount the rule applied to (the slice of the bracket base,
/// the category sales, the sum before the cap, the sales for bonus and volume rebate, the growth
/// for the growth rebate). `lower`/`upper` are bounds in sales: the bracket's (an accelerator
/// line starts at the accelerator threshold instead), for a bonus the sales at which this step
/// starts and the next one would, for a volume rebate `lower` is its threshold, for a growth
/// rebate last year's sales, and for a cap line `upper` is the cap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    pub kind: LineKind,
    pub base: Decimal,
    /// Percent.
    pub rate: Option<Decimal>,
    pub lower: Option<Decimal>,
    pub upper: Option<Decimal>,
    /// Rounded to the currency's minor unit.
    pub amount: Money,
    pub plan_id: String,
    pub plan_version: u32,
    pub explanation: Explanation,
}

impl Line {
    /// A manual or correction line (not from a plan rule: empty plan id, version 0).
    pub fn adjustment(amount: Money, reason: impl Into<String>) -> Line {
        Line::outside_plan(
            LineKind::Adjustment,
            amount,
            Explanation {
                key: "line-adjustment",
                args: vec![("reason", reason.into())],
            },
        )
    }

    /// A contest prize paid through the statement.
    pub fn prize(amount: Money, contest: impl Into<String>, rank: u32) -> Line {
        Line::outside_plan(
            LineKind::Prize,
            amount,
            Explanation {
                key: "line-prize",
                args: vec![("contest", contest.into()), ("rank", rank.to_string())],
            },
        )
    }

    fn outside_plan(kind: LineKind, amount: Money, explanation: Explanation) -> Line {
        Line {
            kind,
            base: amount.amount(),
            rate: None,
            lower: None,
            upper: None,
            amount: amount.round(),
            plan_id: String::new(),
            plan_version: 0,
            explanation,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub currency: Currency,
    pub lines: Vec<Line>,
    /// Sum of the rounded line amounts.
    pub total: Money,
    /// S / target × 100, unrounded; `None` without a (positive) target.
    pub attainment: Option<Decimal>,
}

impl Statement {
    /// Appends a line (typically an adjustment or prize), rounding it and keeping the total equal
    /// to the sum of the lines. Fails on a currency mismatch or overflow, leaving `self` as it was.
    pub fn push(&mut self, mut line: Line) -> Result<(), MoneyError> {
        line.amount = line.amount.round();
        self.total = self.total.checked_add(line.amount)?;
        self.lines.push(line);
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Some intermediate value does not fit a `Decimal` (sums beyond ~10^26: nonsense input).
    #[error("statement arithmetic overflow")]
    Overflow,
}

/// Checked arithmetic that remembers overflow instead of failing at each step, so the rules read
/// like the formulas. On overflow the value saturates and the flag is set.
#[derive(Default)]
struct Calc {
    overflow: bool,
}

impl Calc {
    fn or_saturate(&mut self, checked: Option<Decimal>, saturated: Decimal) -> Decimal {
        checked.unwrap_or_else(|| {
            self.overflow = true;
            saturated
        })
    }

    fn add(&mut self, a: Decimal, b: Decimal) -> Decimal {
        self.or_saturate(a.checked_add(b), a.saturating_add(b))
    }

    fn sub(&mut self, a: Decimal, b: Decimal) -> Decimal {
        self.or_saturate(a.checked_sub(b), a.saturating_sub(b))
    }

    fn mul(&mut self, a: Decimal, b: Decimal) -> Decimal {
        self.or_saturate(a.checked_mul(b), a.saturating_mul(b))
    }

    /// `base × rate / 100` (rate in percent). Multiplying first keeps full precision.
    fn pct(&mut self, base: Decimal, rate: Decimal) -> Decimal {
        let product = self.mul(base, rate);
        // Dividing by 100 cannot overflow; the fallback only avoids a panic path.
        product
            .checked_div(Decimal::ONE_HUNDRED)
            .unwrap_or(Decimal::ZERO)
    }
}

/// One marginal slice of the bracket base: `[from, end]` at `rate`; `upper` is the bracket's end
/// (`None` for the open-ended last bracket).
struct Slice {
    from: Decimal,
    upper: Option<Decimal>,
    end: Decimal,
    rate: Decimal,
}

fn marginal_slices(plan: &Plan, base: Decimal) -> Vec<Slice> {
    plan.brackets
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            let upper = plan.brackets.get(i + 1).map(|n| n.from);
            let end = match upper {
                Some(u) if u < base => u,
                _ => base,
            };
            // Empty slices (base below the bracket, or unordered brackets in an invalid plan)
            // earn nothing and get no line.
            (end > b.from).then_some(Slice {
                from: b.from,
                upper,
                end,
                rate: b.rate,
            })
        })
        .collect()
}

/// Whole mode: the bracket with the highest `from` ≤ base, and where that bracket ends.
fn whole_bracket(plan: &Plan, base: Decimal) -> Option<(Decimal, Decimal, Option<Decimal>)> {
    let reached = plan
        .brackets
        .iter()
        .filter(|b| b.from <= base)
        .max_by_key(|b| b.from)?;
    let upper = plan
        .brackets
        .iter()
        .map(|b| b.from)
        .filter(|f| *f > reached.from)
        .min();
    Some((reached.from, reached.rate, upper))
}

fn bracket_commission(plan: &Plan, base: Decimal, calc: &mut Calc) -> Decimal {
    match plan.mode {
        PlanMode::Marginal => {
            let mut sum = Decimal::ZERO;
            for s in marginal_slices(plan, base) {
                let len = calc.sub(s.end, s.from);
                let c = calc.pct(len, s.rate);
                sum = calc.add(sum, c);
            }
            sum
        }
        PlanMode::Whole => match whole_bracket(plan, base) {
            Some((_, rate, _)) => calc.pct(base, rate),
            None => Decimal::ZERO,
        },
    }
}

/// The bracket commission on bracket base `base`, exact and unrounded, per the plan's mode
/// (no accelerator, category or cap). Saturates instead of panicking on absurd values.
pub fn commission_unrounded(plan: &Plan, base: Decimal) -> Decimal {
    bracket_commission(plan, base, &mut Calc::default())
}

/// Collects lines: rounds each, drops zero ones, stamps plan id and version.
struct Builder<'a> {
    plan: &'a Plan,
    currency: Currency,
    calc: Calc,
    lines: Vec<Line>,
}

impl Builder<'_> {
    fn money(&self, x: Decimal) -> String {
        Money::new(x, self.currency).format()
    }

    // One argument per Line field; a parameter struct would just repeat Line.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: LineKind,
        base: Decimal,
        rate: Option<Decimal>,
        lower: Option<Decimal>,
        upper: Option<Decimal>,
        unrounded: Decimal,
        key: &'static str,
        mut args: Vec<(&'static str, String)>,
    ) {
        let amount = Money::new(unrounded, self.currency).round();
        if amount.is_zero() {
            return;
        }
        args.push(("amount", amount.format()));
        args.push(("plan", self.plan.id.clone()));
        args.push(("version", self.plan.version.to_string()));
        self.lines.push(Line {
            kind,
            base,
            rate,
            lower,
            upper,
            amount,
            plan_id: self.plan.id.clone(),
            plan_version: self.plan.version,
            explanation: Explanation { key, args },
        });
    }

    /// The statement from the lines collected, and whether any arithmetic overflowed. The
    /// total is the sum of the rounded lines; on overflow it saturates.
    fn finish(mut self, attainment: Option<Decimal>) -> (Statement, bool) {
        let currency = self.currency;
        let mut total = Money::zero(currency);
        for line in &self.lines {
            total = match total.checked_add(line.amount) {
                Ok(t) => t,
                Err(_) => {
                    self.calc.overflow = true;
                    Money::new(
                        total.amount().saturating_add(line.amount.amount()),
                        currency,
                    )
                }
            };
        }
        let statement = Statement {
            currency,
            lines: self.lines,
            total,
            attainment,
        };
        (statement, self.calc.overflow)
    }
}

/// A rate or percentage as shown in explanations: `5`, `2.5`.
fn num(x: Decimal) -> String {
    x.normalize().to_string()
}

/// The statement for one partner and period. Never panics: on arithmetic overflow (sales beyond
/// ~10^26) values saturate; use [`try_compute`] to refuse such input instead.
pub fn compute(plan: &Plan, facts: &SalesFacts, currency: Currency) -> Statement {
    run(plan, facts, currency).0
}

/// Like [`compute`] but reports overflow instead of saturating.
pub fn try_compute(
    plan: &Plan,
    facts: &SalesFacts,
    currency: Currency,
) -> Result<Statement, StatementError> {
    match run(plan, facts, currency) {
        (statement, false) => Ok(statement),
        (_, true) => Err(StatementError::Overflow),
    }
}

fn run(plan: &Plan, facts: &SalesFacts, currency: Currency) -> (Statement, bool) {
    let mut b = Builder {
        plan,
        currency,
        calc: Calc::default(),
        lines: Vec::new(),
    };
    let sales = facts.total;
    let categories = category_sales(plan, facts, &mut b.calc);
    let base = bracket_base(sales, &categories, &mut b.calc);
    let target = effective_target(plan, facts);
    let accel = accelerator(plan, target, &mut b.calc);

    match plan.mode {
        PlanMode::Marginal => marginal_lines(&mut b, base, accel),
        PlanMode::Whole => whole_lines(&mut b, base, accel),
    }
    category_lines(&mut b, &categories);
    // The cap sees commission, accelerator and category lines only: bonuses and rebates come
    // after it on purpose.
    cap_line(&mut b);
    let attainment = target.map(|t| attainment_pct(sales, t, &mut b.calc));
    if let (Some(att), Some(t)) = (attainment, target) {
        bonus_line(&mut b, sales, t, att);
    }
    volume_rebate_line(&mut b, sales);
    growth_rebate_line(&mut b, sales, facts.last_year);
    b.finish(attainment)
}

/// Category sales C_k, grouped under the plan's spelling of the category with its rate:
/// name → (rate, sales). Sales categories come from chat hashtags, so "#Software" must match a
/// `software` rate; categories without a rate are left out (they stay in the bracket base).
fn category_sales<'p>(
    plan: &'p Plan,
    facts: &SalesFacts,
    calc: &mut Calc,
) -> BTreeMap<&'p str, (Decimal, Decimal)> {
    let mut categories: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for (name, amount) in &facts.by_category {
        if let Some((key, rate)) = plan.category_rates.iter().find(|(k, _)| same_name(k, name)) {
            let entry = categories
                .entry(key.as_str())
                .or_insert((*rate, Decimal::ZERO));
            entry.1 = calc.add(entry.1, *amount);
        }
    }
    categories
}

/// The bracket base: sales minus the sales earning a category rate instead.
fn bracket_base(
    sales: Decimal,
    categories: &BTreeMap<&str, (Decimal, Decimal)>,
    calc: &mut Calc,
) -> Decimal {
    let mut base = sales;
    for (_, c) in categories.values() {
        base = calc.sub(base, *c);
    }
    base
}

/// The partner's target, else the plan's. A non-positive target (invalid) is treated as none
/// rather than dividing by zero.
fn effective_target(plan: &Plan, facts: &SalesFacts) -> Option<Decimal> {
    facts.target.or(plan.target).filter(|t| *t > Decimal::ZERO)
}

/// An accelerator in effect: the rule, the sales above which it applies and the extra
/// multiple of the rate (multiplier − 1).
#[derive(Clone, Copy)]
struct Accel<'a> {
    rule: &'a Accelerator,
    from: Decimal,
    extra: Decimal,
}

/// The plan's accelerator, if it has one, there is a target, and it adds something: a
/// multiplier of 1 or less adds nothing (below 1 is invalid and ignored).
fn accelerator<'p>(plan: &'p Plan, target: Option<Decimal>, calc: &mut Calc) -> Option<Accel<'p>> {
    match (&plan.accelerator, target) {
        (Some(rule), Some(t)) if rule.multiplier > Decimal::ONE => Some(Accel {
            rule,
            from: calc.pct(t, rule.above_attainment),
            extra: calc.sub(rule.multiplier, Decimal::ONE),
        }),
        _ => None,
    }
}

/// Marginal mode: one commission line per bracket slice, then the accelerator's extra on the
/// part of each slice above the accelerator threshold.
fn marginal_lines(b: &mut Builder<'_>, base: Decimal, accel: Option<Accel<'_>>) {
    let slices = marginal_slices(b.plan, base);
    for sl in &slices {
        let len = b.calc.sub(sl.end, sl.from);
        let amount = b.calc.pct(len, sl.rate);
        let mut args = vec![
            ("rate", num(sl.rate)),
            ("base", b.money(len)),
            ("lower", b.money(sl.from)),
        ];
        let key = match sl.upper {
            Some(u) => {
                args.push(("upper", b.money(u)));
                "line-commission-marginal"
            }
            None => "line-commission-marginal-top",
        };
        b.push(
            LineKind::Commission,
            len,
            Some(sl.rate),
            Some(sl.from),
            sl.upper,
            amount,
            key,
            args,
        );
    }
    let Some(acc) = accel else { return };
    for sl in &slices {
        let start = sl.from.max(acc.from);
        if sl.end <= start {
            continue;
        }
        let portion = b.calc.sub(sl.end, start);
        accelerator_line(b, acc, portion, sl.rate, start, sl.upper);
    }
}

/// Whole mode: the reached bracket's rate on the whole base, then the accelerator's extra on
/// the base above the accelerator threshold.
fn whole_lines(b: &mut Builder<'_>, base: Decimal, accel: Option<Accel<'_>>) {
    let Some((lower, rate, upper)) = whole_bracket(b.plan, base) else {
        return;
    };
    let amount = b.calc.pct(base, rate);
    let args = vec![
        ("rate", num(rate)),
        ("base", b.money(base)),
        ("lower", b.money(lower)),
    ];
    b.push(
        LineKind::Commission,
        base,
        Some(rate),
        Some(lower),
        upper,
        amount,
        "line-commission-whole",
        args,
    );
    if let Some(acc) = accel
        && base > acc.from
    {
        let portion = b.calc.sub(base, acc.from);
        accelerator_line(b, acc, portion, rate, acc.from, None);
    }
}

/// One accelerator line: `portion` of sales from `lower` earns the extra multiple of `rate`.
fn accelerator_line(
    b: &mut Builder<'_>,
    acc: Accel<'_>,
    portion: Decimal,
    rate: Decimal,
    lower: Decimal,
    upper: Option<Decimal>,
) {
    let extra_rate = b.calc.mul(acc.extra, rate);
    let amount = b.calc.pct(portion, extra_rate);
    let args = vec![
        ("base", b.money(portion)),
        ("from", b.money(acc.from)),
        ("above_attainment", num(acc.rule.above_attainment)),
        ("multiplier", num(acc.rule.multiplier)),
        ("rate", num(rate)),
        ("extra_rate", num(extra_rate)),
    ];
    b.push(
        LineKind::Accelerator,
        portion,
        Some(extra_rate),
        Some(lower),
        upper,
        amount,
        "line-accelerator",
        args,
    );
}

/// One line per rated category: its rate on its sales.
fn category_lines(b: &mut Builder<'_>, categories: &BTreeMap<&str, (Decimal, Decimal)>) {
    for (name, (rate, c)) in categories {
        let amount = b.calc.pct(*c, *rate);
        let args = vec![
            ("category", (*name).to_string()),
            ("rate", num(*rate)),
            ("base", b.money(*c)),
        ];
        b.push(
            LineKind::Category,
            *c,
            Some(*rate),
            None,
            None,
            amount,
            "line-category",
            args,
        );
    }
}

/// The cap: a negative line bringing the lines so far down to the plan's cap. It applies to the
/// rounded lines so the sum partners see is what is capped. A cap with digits below the minor
/// unit is floored to it, so rounding can never push the sum over.
fn cap_line(b: &mut Builder<'_>) {
    let Some(cap) = b.plan.cap else { return };
    let mut before = Decimal::ZERO;
    for l in &b.lines {
        before = b.calc.add(before, l.amount.amount());
    }
    if before <= cap {
        return;
    }
    let floor = cap.round_dp_with_strategy(
        b.currency.minor_units(),
        RoundingStrategy::ToNegativeInfinity,
    );
    let amount = b.calc.sub(floor, before);
    let args = vec![("cap", b.money(cap)), ("before", b.money(before))];
    b.push(
        LineKind::Cap,
        before,
        None,
        None,
        Some(cap),
        amount,
        "line-cap",
        args,
    );
}

/// Attainment in percent: sales / target × 100, unrounded. `target` is positive.
fn attainment_pct(sales: Decimal, target: Decimal, calc: &mut Calc) -> Decimal {
    let hundredfold = calc.mul(sales, Decimal::ONE_HUNDRED);
    // target > 0 here, so only overflow (target tiny, sales huge) can fail.
    let q = hundredfold.checked_div(target);
    calc.or_saturate(q, Decimal::MAX)
}

/// The bonus of the single highest step reached, whatever order the config lists them in.
fn bonus_line(b: &mut Builder<'_>, sales: Decimal, target: Decimal, attainment: Decimal) {
    let plan = b.plan;
    let Some(step) = plan
        .bonuses
        .iter()
        .filter(|step| step.attainment <= attainment)
        .max_by(|x, y| x.attainment.cmp(&y.attainment))
    else {
        return;
    };
    let next = plan
        .bonuses
        .iter()
        .map(|x| x.attainment)
        .filter(|x| *x > step.attainment)
        .min();
    let lower = b.calc.pct(target, step.attainment);
    let upper = next.map(|n| b.calc.pct(target, n));
    let args = vec![
        ("threshold", num(step.attainment)),
        ("target", b.money(target)),
        (
            "attainment",
            num(attainment.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)),
        ),
        ("sales", b.money(sales)),
    ];
    b.push(
        LineKind::Bonus,
        sales,
        None,
        Some(lower),
        upper,
        step.amount,
        "line-bonus",
        args,
    );
}

/// The volume rebate: its rate on all sales once they reach its threshold.
fn volume_rebate_line(b: &mut Builder<'_>, sales: Decimal) {
    let Some(v) = &b.plan.volume_rebate else {
        return;
    };
    if sales < v.threshold {
        return;
    }
    let amount = b.calc.pct(sales, v.rate);
    let args = vec![
        ("rate", num(v.rate)),
        ("base", b.money(sales)),
        ("threshold", b.money(v.threshold)),
    ];
    b.push(
        LineKind::VolumeRebate,
        sales,
        Some(v.rate),
        Some(v.threshold),
        None,
        amount,
        "line-volume-rebate",
        args,
    );
}

/// The growth rebate: its rate on the growth over last year's sales, if there were any.
fn growth_rebate_line(b: &mut Builder<'_>, sales: Decimal, last_year: Decimal) {
    let Some(g) = &b.plan.growth_rebate else {
        return;
    };
    if last_year <= Decimal::ZERO || sales <= last_year {
        return;
    }
    let growth = b.calc.sub(sales, last_year);
    let amount = b.calc.pct(growth, g.rate);
    let args = vec![
        ("rate", num(g.rate)),
        ("base", b.money(growth)),
        ("sales", b.money(sales)),
        ("last_year", b.money(last_year)),
    ];
    b.push(
        LineKind::GrowthRebate,
        growth,
        Some(g.rate),
        Some(last_year),
        None,
        amount,
        "line-growth-rebate",
        args,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{
        Accelerator, Assignment, BonusStep, Bracket, GrowthRebate, VolumeRebate,
    };
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    fn br(from: &str, rate: &str) -> Bracket {
        Bracket {
            from: d(from),
            rate: d(rate),
        }
    }

    /// The example plan: brackets 0:3 %, 100,000:5 %, 300,000:8 %; software 10 %;
    /// accelerator above 100 % ×1.5; cap 30,000; bonuses 100 % → 2,000 and 120 % → 5,000;
    /// volume rebate 1 % from 200,000; growth rebate 2 %; target 150,000.
    fn standard() -> Plan {
        Plan {
            id: "standard".into(),
            version: 1,
            effective_from: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
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

    fn sales(total: &str, cats: &[(&str, &str)], last_year: &str) -> SalesFacts {
        SalesFacts {
            total: d(total),
            by_category: cats.iter().map(|(k, v)| (k.to_string(), d(v))).collect(),
            last_year: d(last_year),
            target: None,
        }
    }

    type Row = (
        LineKind,
        Decimal,
        Option<Decimal>,
        Option<Decimal>,
        Option<Decimal>,
        Decimal,
    );

    fn rows(st: &Statement) -> Vec<Row> {
        st.lines
            .iter()
            .map(|l| (l.kind, l.base, l.rate, l.lower, l.upper, l.amount.amount()))
            .collect()
    }

    fn o(s: &str) -> Option<Decimal> {
        Some(d(s))
    }

    fn assert_consistent(st: &Statement) {
        let mut sum = Decimal::ZERO;
        for l in &st.lines {
            assert!(l.amount.is_rounded(), "{l:?}");
            assert!(!l.amount.is_zero(), "{l:?}");
            assert_eq!(l.amount.currency(), st.currency);
            sum += l.amount.amount();
        }
        assert_eq!(st.total.amount(), sum);
    }

    #[test]
    fn scenario_above_target_with_software_and_growth() {
        // S = 180,000 of which software 20,000; L = 100,000; target 150,000.
        // B = 180,000 − 20,000 = 160,000.
        // Commission: 0–100,000 at 3 % = 3,000.00; 100,000–160,000 (60,000) at 5 % = 3,000.00.
        // Accelerator: A = 150,000 × 100 % = 150,000; 10,000 of B lies above it, all in the 5 %
        //   bracket: extra (1.5 − 1) × 5 % = 2.5 % × 10,000 = 250.00.
        // Software: 10 % × 20,000 = 2,000.00. Sum 8,250.00 < cap 30,000: no cap line.
        // Attainment 180,000 / 150,000 = 120 %: the 120 % bonus, 5,000.00 (only that one).
        // Volume: 180,000 < 200,000: none. Growth: 2 % × (180,000 − 100,000) = 1,600.00.
        // Total 8,250 + 5,000 + 1,600 = 14,850.00.
        let st = compute(
            &standard(),
            &sales("180000", &[("software", "20000")], "100000"),
            Currency::CNY,
        );
        use LineKind::*;
        assert_eq!(
            rows(&st),
            vec![
                (
                    Commission,
                    d("100000"),
                    o("3"),
                    o("0"),
                    o("100000"),
                    d("3000")
                ),
                (
                    Commission,
                    d("60000"),
                    o("5"),
                    o("100000"),
                    o("300000"),
                    d("3000")
                ),
                (
                    Accelerator,
                    d("10000"),
                    o("2.5"),
                    o("150000"),
                    o("300000"),
                    d("250")
                ),
                (Category, d("20000"), o("10"), None, None, d("2000")),
                (Bonus, d("180000"), None, o("180000"), None, d("5000")),
                (
                    GrowthRebate,
                    d("80000"),
                    o("2"),
                    o("100000"),
                    None,
                    d("1600")
                ),
            ]
        );
        assert_eq!(st.total, Money::new(d("14850"), Currency::CNY));
        assert_eq!(st.attainment, o("120"));
        assert_consistent(&st);
        for l in &st.lines {
            assert_eq!((l.plan_id.as_str(), l.plan_version), ("standard", 1));
        }
        let english: Vec<String> = st.lines.iter().map(|l| l.explanation.english()).collect();
        assert_eq!(
            english,
            vec![
                "3% commission on ¥100,000.00 of sales in the bracket from ¥0.00 to ¥100,000.00; plan standard v1",
                "5% commission on ¥60,000.00 of sales in the bracket from ¥100,000.00 to ¥300,000.00; plan standard v1",
                "Accelerator: ¥10,000.00 of sales above ¥150,000.00 (100% of target) earn 1.5× the 5% rate, an extra 2.5%; plan standard v1",
                "10% commission on ¥20,000.00 of software sales; plan standard v1",
                "Bonus for reaching 120% of the ¥150,000.00 target: attainment 120%; plan standard v1",
                "Growth rebate: 2% of the ¥80,000.00 growth over last year (¥180,000.00 against ¥100,000.00); plan standard v1",
            ]
        );
        assert_eq!(st.lines[0].explanation.key, "line-commission-marginal");
        assert_eq!(st.lines[4].explanation.arg("amount"), Some("¥5,000.00"));
    }

    #[test]
    fn scenario_capped_with_volume_rebate_and_decline() {
        // S = 450,000 of which software 50,000; L = 500,000 (sales fell); target 150,000.
        // B = 400,000.
        // Commission: 3 % × 100,000 = 3,000.00; 5 % × 200,000 = 10,000.00;
        //   8 % × 100,000 (300,000–400,000, the open top bracket) = 8,000.00.
        // Accelerator above A = 150,000: in the 5 % bracket 150,000–300,000 → 2.5 % × 150,000
        //   = 3,750.00; in the 8 % bracket 300,000–400,000 → 4 % × 100,000 = 4,000.00.
        // Software 10 % × 50,000 = 5,000.00.
        // Sum 3,000 + 10,000 + 8,000 + 3,750 + 4,000 + 5,000 = 33,750.00 > cap 30,000:
        //   cap line −3,750.00.
        // Attainment 300 %: the 120 % bonus 5,000.00. Volume: 450,000 ≥ 200,000 → 1 % = 4,500.00.
        // Growth: S < L → none. Total 30,000 + 5,000 + 4,500 = 39,500.00.
        let st = compute(
            &standard(),
            &sales("450000", &[("software", "50000")], "500000"),
            Currency::CNY,
        );
        use LineKind::*;
        assert_eq!(
            rows(&st),
            vec![
                (
                    Commission,
                    d("100000"),
                    o("3"),
                    o("0"),
                    o("100000"),
                    d("3000")
                ),
                (
                    Commission,
                    d("200000"),
                    o("5"),
                    o("100000"),
                    o("300000"),
                    d("10000")
                ),
                (
                    Commission,
                    d("100000"),
                    o("8"),
                    o("300000"),
                    None,
                    d("8000")
                ),
                (
                    Accelerator,
                    d("150000"),
                    o("2.5"),
                    o("150000"),
                    o("300000"),
                    d("3750")
                ),
                (
                    Accelerator,
                    d("100000"),
                    o("4"),
                    o("300000"),
                    None,
                    d("4000")
                ),
                (Category, d("50000"), o("10"), None, None, d("5000")),
                (Cap, d("33750"), None, None, o("30000"), d("-3750")),
                (Bonus, d("450000"), None, o("180000"), None, d("5000")),
                (
                    VolumeRebate,
                    d("450000"),
                    o("1"),
                    o("200000"),
                    None,
                    d("4500")
                ),
            ]
        );
        assert_eq!(st.total.amount(), d("39500"));
        assert_eq!(st.attainment, o("300"));
        assert_consistent(&st);
        assert_eq!(st.lines[2].explanation.key, "line-commission-marginal-top");
        assert_eq!(
            st.lines[6].explanation.english(),
            "Cap: commission of ¥33,750.00 is limited to ¥30,000.00; plan standard v1"
        );
        assert_eq!(
            st.lines[8].explanation.english(),
            "Volume rebate: 1% of ¥450,000.00 of sales, which reached the ¥200,000.00 threshold; plan standard v1"
        );
    }

    #[test]
    fn scenario_exactly_at_target() {
        // S = 150,000, no categories, L = 150,000. B = 150,000.
        // Commission 3,000.00 + 5 % × 50,000 = 2,500.00. Nothing of B above A = 150,000: no
        // accelerator line. Attainment exactly 100 %: the 2,000.00 bonus; the next step starts at
        // 120 % × 150,000 = 180,000. Volume none; growth none (S = L, not above).
        // Total 7,500.00.
        let st = compute(&standard(), &sales("150000", &[], "150000"), Currency::CNY);
        use LineKind::*;
        assert_eq!(
            rows(&st),
            vec![
                (
                    Commission,
                    d("100000"),
                    o("3"),
                    o("0"),
                    o("100000"),
                    d("3000")
                ),
                (
                    Commission,
                    d("50000"),
                    o("5"),
                    o("100000"),
                    o("300000"),
                    d("2500")
                ),
                (
                    Bonus,
                    d("150000"),
                    None,
                    o("150000"),
                    o("180000"),
                    d("2000")
                ),
            ]
        );
        assert_eq!(st.total.amount(), d("7500"));
        assert_eq!(st.attainment, o("100"));
    }

    #[test]
    fn scenario_whole_mode_with_partner_target_and_rounding() {
        // Whole mode, partner target 100,000 overrides the plan's 150,000. S = 123,456.78, no
        // categories, L = 0.
        // B = 123,456.78 reaches the 100,000 bracket: 5 % × B = 6,172.839 → 6,172.84.
        // A = 100,000: 23,456.78 above it × 2.5 % = 586.4195 → 586.42.
        // Attainment 123.45678 % → the 120 % bonus 5,000.00 (starting at 120,000 in sales).
        // No volume rebate; no growth rebate (L = 0). Total 11,759.26.
        let mut plan = standard();
        plan.mode = PlanMode::Whole;
        let mut facts = sales("123456.78", &[], "0");
        facts.target = o("100000");
        let st = compute(&plan, &facts, Currency::CNY);
        use LineKind::*;
        assert_eq!(
            rows(&st),
            vec![
                (
                    Commission,
                    d("123456.78"),
                    o("5"),
                    o("100000"),
                    o("300000"),
                    d("6172.84")
                ),
                (
                    Accelerator,
                    d("23456.78"),
                    o("2.5"),
                    o("100000"),
                    None,
                    d("586.42")
                ),
                (Bonus, d("123456.78"), None, o("120000"), None, d("5000")),
            ]
        );
        assert_eq!(st.total.amount(), d("11759.26"));
        assert_eq!(st.attainment, o("123.45678"));
        assert_eq!(st.lines[2].explanation.arg("attainment"), Some("123.46"));
        assert_eq!(
            st.lines[0].explanation.english(),
            "5% commission on all ¥123,456.78 of sales: the bracket from ¥100,000.00 was reached; plan standard v1"
        );
    }

    #[test]
    fn scenario_below_target_and_without_target() {
        // S = 90,000, L = 100,000: B = 90,000 at 3 % = 2,700.00. Attainment 60 %: no bonus,
        // no accelerator (B below A). No rebates.
        let st = compute(&standard(), &sales("90000", &[], "100000"), Currency::CNY);
        assert_eq!(
            rows(&st),
            vec![(
                LineKind::Commission,
                d("90000"),
                o("3"),
                o("0"),
                o("100000"),
                d("2700")
            )]
        );
        assert_eq!(st.attainment, o("60"));

        // Without any target there is no attainment, accelerator or bonus:
        // 3,000.00 + 5 % × 80,000 = 4,000.00 → 7,000.00.
        let mut plan = standard();
        plan.target = None;
        let st = compute(&plan, &sales("180000", &[], "0"), Currency::CNY);
        assert_eq!(st.attainment, None);
        assert_eq!(
            st.lines.iter().map(|l| l.kind).collect::<Vec<_>>(),
            vec![LineKind::Commission, LineKind::Commission]
        );
        assert_eq!(st.total.amount(), d("7000"));
    }

    fn simple(rate: &str) -> Plan {
        Plan {
            target: None,
            brackets: vec![br("0", rate)],
            category_rates: BTreeMap::new(),
            accelerator: None,
            cap: None,
            bonuses: vec![],
            volume_rebate: None,
            growth_rebate: None,
            ..standard()
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_per_line() {
        let amounts = |plan: &Plan, s: &str, c: Currency| {
            let st = compute(plan, &sales(s, &[], "0"), c);
            assert_consistent(&st);
            st.lines
                .iter()
                .map(|l| l.amount.amount())
                .collect::<Vec<_>>()
        };
        // 3 % × 0.50 = 0.015 → 0.02 (a tie goes away from zero).
        assert_eq!(amounts(&simple("3"), "0.5", Currency::CNY), vec![d("0.02")]);
        // 3 % × 0.10 = 0.003 → 0.00: the line is dropped and the statement is empty.
        let st = compute(&simple("3"), &sales("0.1", &[], "0"), Currency::CNY);
        assert!(st.lines.is_empty());
        assert!(st.total.is_zero());
        // Yen have no minor unit: 3 % × 150 = 4.5 → 5.
        assert_eq!(amounts(&simple("3"), "150", Currency::JPY), vec![d("5")]);
        // Dinars have three decimals: 3 % × 0.05 = 0.0015 → 0.002.
        assert_eq!(
            amounts(&simple("3"), "0.05", Currency::KWD),
            vec![d("0.002")]
        );
        // Each line is rounded on its own: two categories at 0.005 each round to 0.01 + 0.01.
        let mut p = simple("0");
        p.category_rates = BTreeMap::from([("a".into(), d("1")), ("b".into(), d("1"))]);
        let st = compute(
            &p,
            &sales("1", &[("a", "0.5"), ("b", "0.5")], "0"),
            Currency::CNY,
        );
        assert_eq!(st.total.amount(), d("0.02"));
        assert_consistent(&st);
    }

    #[test]
    fn categories_match_case_insensitively_and_others_stay_in_the_base() {
        // Software (any spelling) 25,000 at 10 %; hardware has no rate so it stays in B:
        // B = 100,000 − 25,000 = 75,000 at 3 % = 2,250.00.
        let mut p = standard();
        p.target = None;
        let st = compute(
            &p,
            &sales(
                "100000",
                &[
                    ("Software", "20000"),
                    ("SOFTWARE", "5000"),
                    ("hardware", "1000"),
                ],
                "0",
            ),
            Currency::CNY,
        );
        use LineKind::*;
        assert_eq!(
            rows(&st),
            vec![
                (
                    Commission,
                    d("75000"),
                    o("3"),
                    o("0"),
                    o("100000"),
                    d("2250")
                ),
                (Category, d("25000"), o("10"), None, None, d("2500")),
            ]
        );
        assert_eq!(st.lines[1].explanation.arg("category"), Some("software"));
    }

    #[test]
    fn cap_with_sub_minor_digits_is_never_exceeded() {
        let mut p = simple("10");
        p.cap = Some(d("100.005"));
        let st = compute(&p, &sales("5000", &[], "0"), Currency::CNY);
        assert_eq!(
            rows(&st),
            vec![
                (
                    LineKind::Commission,
                    d("5000"),
                    o("10"),
                    o("0"),
                    None,
                    d("500")
                ),
                (LineKind::Cap, d("500"), None, None, o("100.005"), d("-400")),
            ]
        );
        assert_eq!(st.total.amount(), d("100"));
        // At the cap exactly: no cap line.
        p.cap = Some(d("500"));
        assert_eq!(
            compute(&p, &sales("5000", &[], "0"), Currency::CNY)
                .lines
                .len(),
            1
        );
    }

    #[test]
    fn adjustments_and_prizes_keep_the_total() {
        let mut st = compute(&standard(), &sales("90000", &[], "0"), Currency::CNY);
        st.push(Line::adjustment(
            Money::new(d("-12.345"), Currency::CNY),
            "sale 17 rejected after close",
        ))
        .expect("push");
        st.push(Line::prize(
            Money::new(d("500"), Currency::CNY),
            "Spring Sprint",
            2,
        ))
        .expect("push");
        assert_consistent(&st);
        assert_eq!(st.total.amount(), d("3187.65"));
        assert_eq!(
            st.lines[1].explanation.english(),
            "Adjustment: sale 17 rejected after close"
        );
        assert_eq!(
            st.lines[2].explanation.english(),
            "Prize for place 2 in Spring Sprint"
        );
        assert_eq!(st.lines[2].kind.as_str(), "prize");
        // A line in another currency is refused and changes nothing.
        let before = st.clone();
        assert!(
            st.push(Line::adjustment(Money::new(d("1"), Currency::USD), "x"))
                .is_err()
        );
        assert_eq!(st, before);
        let unknown = Explanation {
            key: "line-future",
            args: vec![("a", "1".into())],
        };
        assert_eq!(unknown.english(), "line-future: a=1");
    }

    #[test]
    fn absurd_input_does_not_panic() {
        let huge = SalesFacts {
            total: Decimal::MAX,
            by_category: BTreeMap::from([("software".into(), Decimal::MIN)]),
            last_year: Decimal::new(1, 28),
            target: Some(Decimal::new(1, 28)),
        };
        let st = compute(&standard(), &huge, Currency::CNY);
        assert!(!st.lines.is_empty());
        assert_eq!(
            try_compute(&standard(), &huge, Currency::CNY),
            Err(StatementError::Overflow)
        );
        assert!(try_compute(&standard(), &sales("180000", &[], "0"), Currency::CNY).is_ok());

        // Invalid plans: no brackets, unordered brackets, negative everything.
        let mut bad = standard();
        bad.brackets.clear();
        let _ = compute(&bad, &sales("1000", &[], "0"), Currency::CNY);
        bad.brackets = vec![br("500", "-3"), br("100", "200")];
        bad.target = Some(d("-1"));
        bad.cap = Some(d("-10"));
        bad.accelerator = Some(Accelerator {
            above_attainment: d("-100"),
            multiplier: d("0.5"),
        });
        let st = compute(
            &bad,
            &sales("-1000", &[("software", "5")], "-3"),
            Currency::CNY,
        );
        assert_consistent(&st);
        assert_eq!(st.attainment, None);
    }

    // ---- property tests ----

    fn rate() -> impl Strategy<Value = Decimal> {
        (0i64..=1000).prop_map(|r| Decimal::new(r, 1))
    }

    fn cents(max_units: i64) -> impl Strategy<Value = Decimal> {
        (0..=max_units * 100).prop_map(|c| Decimal::new(c, 2))
    }

    fn brackets() -> impl Strategy<Value = Vec<Bracket>> {
        (rate(), prop::collection::vec((1i64..200, rate()), 0..5)).prop_map(|(first, rest)| {
            let mut out = vec![Bracket {
                from: Decimal::ZERO,
                rate: first,
            }];
            let mut from = Decimal::ZERO;
            for (gap, r) in rest {
                from += Decimal::from(gap * 1000);
                out.push(Bracket { from, rate: r });
            }
            out
        })
    }

    fn valid_plan() -> impl Strategy<Value = Plan> {
        let rules = (
            brackets(),
            any::<bool>(),
            prop::option::of(rate()),
            prop::option::of(rate()),
            prop::option::of((0i64..=200, 10i64..=30)),
            prop::option::of(cents(50_000)),
        );
        let rewards = (
            prop::collection::vec((1i64..60, 0i64..10_000), 0..4),
            prop::option::of((cents(1_000_000), rate())),
            prop::option::of(rate()),
            prop::option::of(1i64..1_000_000),
        );
        (rules, rewards).prop_map(
            |((brackets, whole, sw, hw, acc, cap), (bonuses, volume, growth, target))| {
                let mut category_rates = BTreeMap::new();
                if let Some(r) = sw {
                    category_rates.insert("software".to_string(), r);
                }
                if let Some(r) = hw {
                    category_rates.insert("hardware".to_string(), r);
                }
                let mut level = Decimal::ZERO;
                let bonuses = bonuses
                    .into_iter()
                    .map(|(step, amount)| {
                        level += Decimal::from(step * 10);
                        BonusStep {
                            attainment: level,
                            amount: Decimal::from(amount),
                        }
                    })
                    .collect();
                Plan {
                    mode: if whole {
                        PlanMode::Whole
                    } else {
                        PlanMode::Marginal
                    },
                    brackets,
                    category_rates,
                    accelerator: acc.map(|(above, m)| Accelerator {
                        above_attainment: Decimal::from(above),
                        multiplier: Decimal::new(m, 1),
                    }),
                    cap,
                    bonuses,
                    volume_rebate: volume.map(|(threshold, rate)| VolumeRebate { threshold, rate }),
                    growth_rebate: growth.map(|rate| GrowthRebate { rate }),
                    target: target.map(Decimal::from),
                    ..standard()
                }
            },
        )
    }

    fn any_facts() -> impl Strategy<Value = SalesFacts> {
        (
            cents(2_000_000),
            0u32..=100,
            0u32..=100,
            0u32..=100,
            cents(2_000_000),
            prop::option::of(1i64..1_000_000),
        )
            .prop_map(|(total, sw, hw, other, last_year, target)| {
                // Category shares that never exceed the total.
                let part = |x: Decimal, pct: u32| {
                    (x * Decimal::from(pct) / Decimal::ONE_HUNDRED).round_dp(2)
                };
                let software = part(total, sw);
                let hardware = part(total - software, hw);
                let services = part(total - software - hardware, other);
                SalesFacts {
                    total,
                    by_category: BTreeMap::from([
                        ("Software".to_string(), software),
                        ("hardware".to_string(), hardware),
                        ("services".to_string(), services),
                    ]),
                    last_year,
                    target: target.map(Decimal::from),
                }
            })
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(Currency::CNY),
            Just(Currency::JPY),
            Just(Currency::KWD)
        ]
    }

    fn unit(c: Currency) -> Decimal {
        Decimal::new(1, c.minor_units())
    }

    proptest! {
        #[test]
        fn prop_valid_plans_validate(plan in valid_plan()) {
            prop_assert_eq!(crate::engine::plan::validate(&plan), vec![]);
        }

        #[test]
        fn prop_marginal_commission_continuous_and_non_decreasing(
            plan in valid_plan(),
            base in cents(2_000_000),
            c in any_currency(),
        ) {
            let plan = Plan { mode: PlanMode::Marginal, ..plan };
            let u = unit(c);
            let step = commission_unrounded(&plan, base + u) - commission_unrounded(&plan, base);
            let max_rate = plan.brackets.iter().map(|b| b.rate).max().unwrap_or_default();
            prop_assert!(step >= Decimal::ZERO, "decreased by {step}");
            // At most the highest rate on one minor unit: no jump anywhere.
            prop_assert!(step <= max_rate * u / Decimal::ONE_HUNDRED, "jumped by {step}");
        }

        #[test]
        fn prop_marginal_lines_non_decreasing_and_close(
            plan in valid_plan(),
            total in cents(2_000_000),
            target in prop::option::of(1i64..1_000_000),
            c in any_currency(),
        ) {
            // Commission + accelerator as paid (rounded lines), with S and S + one minor unit.
            let plan = Plan {
                mode: PlanMode::Marginal,
                category_rates: BTreeMap::new(),
                cap: None,
                ..plan
            };
            let u = unit(c);
            let paid = |s: Decimal| {
                let facts = SalesFacts {
                    total: s,
                    target: target.map(Decimal::from),
                    ..SalesFacts::default()
                };
                let st = compute(&plan, &facts, c);
                st.lines
                    .iter()
                    .filter(|l| matches!(l.kind, LineKind::Commission | LineKind::Accelerator))
                    .map(|l| l.amount.amount())
                    .sum::<Decimal>()
            };
            let step = paid(total + u) - paid(total);
            prop_assert!(step >= Decimal::ZERO);
            // Each of at most 2 lines per bracket can round up by one unit, plus the true increase
            // of at most 100 % × 3 (multiplier) of one unit.
            let lines = Decimal::from(2 * plan.brackets.len() as i64);
            prop_assert!(step <= (lines + Decimal::from(3)) * u, "jumped by {step}");
        }

        #[test]
        fn prop_statement_invariants(
            plan in valid_plan(),
            facts in any_facts(),
            c in any_currency(),
        ) {
            let st = compute(&plan, &facts, c);
            prop_assert_eq!(try_compute(&plan, &facts, c), Ok(st.clone()));
            // Total is the sum of the rounded, non-zero lines.
            let mut sum = Decimal::ZERO;
            for l in &st.lines {
                prop_assert!(l.amount.is_rounded());
                prop_assert!(!l.amount.is_zero());
                prop_assert_eq!(l.amount.currency(), c);
                prop_assert_eq!(&l.plan_id, &plan.id);
                prop_assert!(!l.explanation.english().contains('?'), "{:?}", l.explanation);
                sum += l.amount.amount();
            }
            prop_assert_eq!(st.total, Money::new(sum, c));

            // The cap is never exceeded.
            let capped: Decimal = st
                .lines
                .iter()
                .filter(|l| {
                    matches!(
                        l.kind,
                        LineKind::Commission
                            | LineKind::Accelerator
                            | LineKind::Category
                            | LineKind::Cap
                    )
                })
                .map(|l| l.amount.amount())
                .sum();
            if let Some(cap) = plan.cap {
                prop_assert!(capped <= cap, "{capped} > cap {cap}");
            }
            prop_assert!(st.lines.iter().filter(|l| l.kind == LineKind::Cap).count() <= 1);

            // The bonus is the single highest step reached.
            let bonus: Vec<&Line> = st.lines.iter().filter(|l| l.kind == LineKind::Bonus).collect();
            let target = facts.target.or(plan.target);
            let expected = target.and_then(|t| {
                plan.bonuses
                    .iter()
                    .rev()
                    .find(|b| facts.total * Decimal::ONE_HUNDRED >= b.attainment * t)
                    .map(|b| b.amount)
                    .filter(|a| !a.is_zero())
            });
            prop_assert_eq!(bonus.first().map(|l| l.amount.amount()), expected);
            prop_assert!(bonus.len() <= 1);
        }

        #[test]
        fn prop_arbitrary_plans_never_panic(
            froms in prop::collection::vec(any::<i64>(), 0..4),
            rates in prop::collection::vec(any::<i64>(), 0..4),
            scale in 0u32..=28,
            total in any::<i64>(),
            cap in prop::option::of(any::<i64>()),
            mult in any::<i64>(),
            target in prop::option::of(any::<i64>()),
            whole in any::<bool>(),
        ) {
            let mut plan = standard();
            plan.mode = if whole { PlanMode::Whole } else { PlanMode::Marginal };
            plan.brackets = froms
                .iter()
                .zip(rates.iter().chain(std::iter::repeat(&7)))
                .map(|(f, r)| Bracket { from: Decimal::from(*f), rate: Decimal::new(*r, scale) })
                .collect();
            plan.cap = cap.map(Decimal::from);
            plan.target = target.map(|t| Decimal::new(t, scale));
            plan.accelerator = Some(Accelerator {
                above_attainment: Decimal::new(mult, scale),
                multiplier: Decimal::new(mult, scale),
            });
            let facts = SalesFacts {
                total: Decimal::new(total, scale),
                by_category: BTreeMap::from([("software".to_string(), Decimal::from(total))]),
                last_year: Decimal::new(-total, scale),
                target: None,
            };
            for c in [Currency::CNY, Currency::JPY, Currency::KWD] {
                let st = compute(&plan, &facts, c);
                if try_compute(&plan, &facts, c).is_ok() {
                    let sum: Decimal = st.lines.iter().map(|l| l.amount.amount()).sum();
                    prop_assert_eq!(st.total.amount(), sum);
                }
                let _ = commission_unrounded(&plan, facts.total);
            }
        }
    }
}
