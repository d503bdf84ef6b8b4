//! Tiers (README "Plans, tiers and allocation"): which tier a partner's facts earn, what the next one
//! needs, and whether a recomputation is a promotion or a demotion.
//!
//! A tier is earned when ALL its conditions hold: trailing-12-month approved sales of at least
//! `min_trailing_sales` and every certification in `requires`. Tiers rank by
//! `min_trailing_sales`; equal thresholds rank by position, later above earlier, so the order is
//! total and the config author decides ties. A partner holds the highest-ranked tier it earns —
//! not necessarily the highest threshold it passes, since certifications can hold it back.
//! Tier names compare trimmed and case-insensitively, as plan assignment does (`engine::plan`).

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One `[[tiers]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRule {
    pub name: String,
    /// Approved sales over the trailing 12 months, program currency.
    pub min_trailing_sales: Decimal,
    /// Certification ids (completed trainings) that are all required.
    #[serde(default)]
    pub requires: Vec<String>,
}

impl TierRule {
    /// True if `facts` meet every condition of this tier.
    pub fn is_met_by(&self, facts: &TierFacts) -> bool {
        facts.trailing_sales >= self.min_trailing_sales
            && self
                .requires
                .iter()
                .all(|c| facts.certifications.contains(c))
    }
}

/// What tiers are evaluated on, loaded by the service layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierFacts {
    /// Approved sales over the trailing 12 months, program currency.
    pub trailing_sales: Decimal,
    /// Certification ids the partner holds.
    pub certifications: BTreeSet<String>,
}

/// The tier above the current one and what is still missing for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextTier<'a> {
    pub tier: &'a TierRule,
    /// More trailing sales needed (zero when the threshold is already met).
    pub sales_needed: Decimal,
    /// Required certifications not yet held, in the order the rule lists them.
    pub missing_certifications: Vec<String>,
}

/// A tier change, recorded as an event for the recognition announcement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TierChange {
    Promoted { from: Option<String>, to: String },
    Demoted { from: String, to: Option<String> },
}

/// A rule's rank: larger is higher. Including the index makes every rule's rank distinct.
type Rank = (Decimal, usize);

fn rank(index: usize, rule: &TierRule) -> Rank {
    (rule.min_trailing_sales, index)
}

fn current(rules: &[TierRule], facts: &TierFacts) -> Option<(Rank, usize)> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_met_by(facts))
        .map(|(i, r)| (rank(i, r), i))
        .max()
}

/// The highest-ranked tier whose conditions are all met, if any.
pub fn evaluate<'a>(rules: &'a [TierRule], facts: &TierFacts) -> Option<&'a TierRule> {
    current(rules, facts).and_then(|(_, i)| rules.get(i))
}

/// The tier ranked directly above the current one (the lowest tier if none is held) and what it
/// still needs; `None` at the top. Every tier above the current one is unmet by definition, else
/// it would be the current one.
pub fn next_tier<'a>(rules: &'a [TierRule], facts: &TierFacts) -> Option<NextTier<'a>> {
    let held = current(rules, facts).map(|(r, _)| r);
    let (_, tier) = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (rank(i, r), r))
        .filter(|(r, _)| held.is_none_or(|h| *r > h))
        .min_by(|a, b| a.0.cmp(&b.0))?;
    let sales_needed = tier
        .min_trailing_sales
        .checked_sub(facts.trailing_sales)
        // Only reachable with absurd magnitudes; "everything" is the honest answer.
        .unwrap_or(Decimal::MAX)
        .max(Decimal::ZERO);
    let mut missing_certifications: Vec<String> = Vec::new();
    for c in &tier.requires {
        if !facts.certifications.contains(c) && !missing_certifications.contains(c) {
            missing_certifications.push(c.clone());
        }
    }
    Some(NextTier {
        tier,
        sales_needed,
        missing_certifications,
    })
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Rank of the first rule with this name; `None` for a name no longer configured, which ranks
/// below every configured tier (it has no threshold left to compare) but above no tier at all.
fn rank_of(rules: &[TierRule], name: &str) -> Option<Rank> {
    rules
        .iter()
        .enumerate()
        .find(|(_, r)| same_name(&r.name, name))
        .map(|(i, r)| rank(i, r))
}

/// The change from `old` to `new` (tier names; `None` = no tier), or `None` if it is the same
/// tier. A move to a strictly higher rank is a promotion; anything else — including between two
/// names that are both no longer configured — is reported as a demotion, so it is never lost.
pub fn change(old: Option<&str>, new: Option<&str>, rules: &[TierRule]) -> Option<TierChange> {
    match (old, new) {
        (None, None) => None,
        (Some(o), Some(n)) if same_name(o, n) => None,
        (None, Some(n)) => Some(TierChange::Promoted {
            from: None,
            to: n.to_string(),
        }),
        (Some(o), None) => Some(TierChange::Demoted {
            from: o.to_string(),
            to: None,
        }),
        (Some(o), Some(n)) => {
            if rank_of(rules, n) > rank_of(rules, o) {
                Some(TierChange::Promoted {
                    from: Some(o.to_string()),
                    to: n.to_string(),
                })
            } else {
                Some(TierChange::Demoted {
                    from: o.to_string(),
                    to: Some(n.to_string()),
                })
            }
        }
    }
}

/// Problems with the `[[tiers]]` list, one message each naming the entry (`tiers[i]`, 0-based);
/// empty when the list is usable.
pub fn validate(rules: &[TierRule]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let name = rule.name.trim();
        if name.is_empty() {
            problems.push(format!("tiers[{i}]: name is empty"));
        } else if let Some(first) = rules[..i]
            .iter()
            .position(|earlier| same_name(&earlier.name, name))
        {
            // Names are how partners, plans and announcements refer to tiers, so two entries
            // that differ only in case or spaces would be ambiguous.
            problems.push(format!(
                "tiers[{i}]: name {name:?} is already used by tiers[{first}]"
            ));
        }
        if rule.min_trailing_sales < Decimal::ZERO {
            problems.push(format!(
                "tiers[{i}] ({name:?}): min_trailing_sales {} is negative",
                rule.min_trailing_sales
            ));
        }
        if rule.requires.iter().any(|c| c.trim().is_empty()) {
            problems.push(format!(
                "tiers[{i}] ({name:?}): requires contains an empty certification id"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(name: &str, min: i64, requires: &[&str]) -> TierRule {
        TierRule {
            name: name.to_string(),
            min_trailing_sales: Decimal::from(min),
            requires: requires.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn facts(sales: i64, certs: &[&str]) -> TierFacts {
        TierFacts {
            trailing_sales: Decimal::from(sales),
            certifications: certs.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Deliberately not in threshold order.
    fn program() -> Vec<TierRule> {
        vec![
            rule("Gold", 1_000_000, &["basics", "advanced"]),
            rule("Bronze", 0, &[]),
            rule("Silver", 100_000, &["basics"]),
        ]
    }

    fn name_of(rule: Option<&TierRule>) -> Option<&str> {
        rule.map(|r| r.name.as_str())
    }

    #[test]
    fn evaluate_takes_the_highest_tier_fully_met() {
        let rules = program();
        assert_eq!(name_of(evaluate(&rules, &facts(0, &[]))), Some("Bronze"));
        assert_eq!(
            name_of(evaluate(&rules, &facts(99_999, &["basics"]))),
            Some("Bronze")
        );
        assert_eq!(
            name_of(evaluate(&rules, &facts(100_000, &["basics"]))),
            Some("Silver")
        );
        // Sales alone do not make Gold: the missing certification holds the partner at Silver.
        assert_eq!(
            name_of(evaluate(&rules, &facts(5_000_000, &["basics"]))),
            Some("Silver")
        );
        assert_eq!(
            name_of(evaluate(&rules, &facts(5_000_000, &["advanced"]))),
            Some("Bronze")
        );
        assert_eq!(
            name_of(evaluate(
                &rules,
                &facts(1_000_000, &["advanced", "basics", "x"])
            )),
            Some("Gold")
        );
    }

    #[test]
    fn evaluate_none_and_ties() {
        assert_eq!(evaluate(&[], &facts(10, &[])), None);
        let rules = vec![rule("Silver", 10, &[])];
        assert_eq!(evaluate(&rules, &facts(9, &[])), None);
        let tied = vec![rule("A", 10, &[]), rule("B", 10, &[]), rule("C", 5, &[])];
        assert_eq!(name_of(evaluate(&tied, &facts(10, &[]))), Some("B"));
        let rules = vec![rule("Any", 0, &[])];
        let f = TierFacts {
            trailing_sales: Decimal::new(-5, 1),
            ..TierFacts::default()
        };
        assert_eq!(evaluate(&rules, &f), None);
    }

    #[test]
    fn next_tier_says_what_is_missing() {
        let rules = program();
        let next = next_tier(&rules, &facts(40_000, &[])).expect("above Bronze");
        assert_eq!(next.tier.name, "Silver");
        assert_eq!(next.sales_needed, Decimal::from(60_000));
        assert_eq!(next.missing_certifications, vec!["basics".to_string()]);

        let next = next_tier(&rules, &facts(2_000_000, &["basics"])).expect("above Silver");
        assert_eq!(next.tier.name, "Gold");
        assert_eq!(next.sales_needed, Decimal::ZERO);
        assert_eq!(next.missing_certifications, vec!["advanced".to_string()]);

        assert_eq!(
            next_tier(&rules, &facts(1_000_000, &["basics", "advanced"])),
            None
        );
        assert_eq!(next_tier(&[], &facts(0, &[])), None);

        // No tier held: the lowest tier is next.
        let rules = vec![rule("Silver", 100, &["a", "a"]), rule("Gold", 500, &[])];
        let next = next_tier(&rules, &facts(30, &[])).expect("lowest");
        assert_eq!(next.tier.name, "Silver");
        assert_eq!(next.sales_needed, Decimal::from(70));
        assert_eq!(next.missing_certifications, vec!["a".to_string()]);

        // Extreme magnitudes saturate instead of panicking.
        let rules = vec![TierRule {
            min_trailing_sales: Decimal::MAX,
            ..rule("Top", 0, &[])
        }];
        let f = TierFacts {
            trailing_sales: Decimal::MIN,
            ..TierFacts::default()
        };
        assert_eq!(
            next_tier(&rules, &f).map(|n| n.sales_needed),
            Some(Decimal::MAX)
        );
    }

    #[test]
    fn changes() {
        let rules = program();
        assert_eq!(change(None, None, &rules), None);
        assert_eq!(change(Some("Gold"), Some("Gold"), &rules), None);
        assert_eq!(change(Some("gold "), Some("Gold"), &rules), None);
        assert_eq!(
            change(None, Some("Bronze"), &rules),
            Some(TierChange::Promoted {
                from: None,
                to: "Bronze".into()
            })
        );
        assert_eq!(
            change(Some("Silver"), Some("Gold"), &rules),
            Some(TierChange::Promoted {
                from: Some("Silver".into()),
                to: "Gold".into()
            })
        );
        assert_eq!(
            change(Some("Gold"), Some("Bronze"), &rules),
            Some(TierChange::Demoted {
                from: "Gold".into(),
                to: Some("Bronze".into())
            })
        );
        assert_eq!(
            change(Some("Bronze"), None, &rules),
            Some(TierChange::Demoted {
                from: "Bronze".into(),
                to: None
            })
        );
        // A tier that was removed from the config ranks below every configured tier.
        assert_eq!(
            change(Some("Platinum"), Some("Bronze"), &rules),
            Some(TierChange::Promoted {
                from: Some("Platinum".into()),
                to: "Bronze".into()
            })
        );
        assert_eq!(
            change(Some("Old"), Some("Older"), &rules),
            Some(TierChange::Demoted {
                from: "Old".into(),
                to: Some("Older".into())
            })
        );
        let json =
            serde_json::to_value(change(Some("Silver"), Some("Gold"), &rules)).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({ "kind": "promoted", "from": "Silver", "to": "Gold" })
        );
    }

    #[test]
    fn validation_messages() {
        assert!(validate(&program()).is_empty());
        assert!(validate(&[]).is_empty());
        let bad = vec![
            rule("Gold", 10, &[]),
            rule(" gold", 20, &[]),
            rule("  ", 0, &[""]),
            rule("Silver", -1, &[]),
        ];
        assert_eq!(
            validate(&bad),
            vec![
                "tiers[1]: name \"gold\" is already used by tiers[0]".to_string(),
                "tiers[2]: name is empty".to_string(),
                "tiers[2] (\"\"): requires contains an empty certification id".to_string(),
                "tiers[3] (\"Silver\"): min_trailing_sales -1 is negative".to_string(),
            ]
        );
    }

    #[test]
    fn rules_deserialise_from_config_shape() {
        let rule: TierRule = serde_json::from_value(serde_json::json!({
            "name": "Bronze", "min_trailing_sales": "0"
        }))
        .expect("requires defaults to empty");
        assert!(rule.requires.is_empty());
    }

    const CERTS: [&str; 3] = ["a", "b", "c"];

    fn any_rules() -> impl Strategy<Value = Vec<TierRule>> {
        prop::collection::vec(
            (0i64..10, prop::sample::subsequence(CERTS.to_vec(), 0..=3)),
            0..7,
        )
        .prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (min, certs))| rule(&format!("T{i}"), min * 1000, &certs))
                .collect()
        })
    }

    fn any_facts() -> impl Strategy<Value = TierFacts> {
        (
            0i64..12_000,
            prop::sample::subsequence(CERTS.to_vec(), 0..=3),
        )
            .prop_map(|(sales, certs)| facts(sales, &certs))
    }

    /// Rank of the evaluated tier (`None` lowest), for comparisons.
    fn held(rules: &[TierRule], f: &TierFacts) -> Option<Rank> {
        current(rules, f).map(|(r, _)| r)
    }

    proptest! {
        #[test]
        fn prop_evaluate_is_the_best_met(rules in any_rules(), f in any_facts()) {
            let best = held(&rules, &f);
            for (i, r) in rules.iter().enumerate() {
                if r.is_met_by(&f) {
                    prop_assert!(Some(rank(i, r)) <= best);
                }
            }
            if let Some(t) = evaluate(&rules, &f) {
                prop_assert!(t.is_met_by(&f));
            }
        }

        #[test]
        fn prop_monotonic_in_sales(rules in any_rules(), f in any_facts(), more in 0i64..12_000) {
            let mut richer = f.clone();
            richer.trailing_sales += Decimal::from(more);
            prop_assert!(held(&rules, &richer) >= held(&rules, &f));
        }

        #[test]
        fn prop_monotonic_in_certifications(
            rules in any_rules(),
            f in any_facts(),
            extra in prop::sample::subsequence(CERTS.to_vec(), 0..=3),
        ) {
            let mut certified = f.clone();
            certified.certifications.extend(extra.iter().map(|s| s.to_string()));
            prop_assert!(held(&rules, &certified) >= held(&rules, &f));
        }

        #[test]
        fn prop_meeting_next_tier_needs_reaches_it(rules in any_rules(), f in any_facts()) {
            match next_tier(&rules, &f) {
                None => {
                    // At the top: nothing ranks above what is held.
                    let top = rules.iter().enumerate().map(|(i, r)| rank(i, r)).max();
                    prop_assert_eq!(held(&rules, &f), top);
                }
                Some(next) => {
                    let mut done = f.clone();
                    done.trailing_sales += next.sales_needed;
                    done.certifications.extend(next.missing_certifications.iter().cloned());
                    prop_assert!(next.tier.is_met_by(&done));
                    prop_assert!(evaluate(&rules, &done).is_some());
                    prop_assert!(held(&rules, &done) > held(&rules, &f));
                }
            }
        }

        #[test]
        fn prop_change_agrees_with_rank(rules in any_rules(), a in any_facts(), b in any_facts()) {
            let (old, new) = (evaluate(&rules, &a), evaluate(&rules, &b));
            let c = change(name_of(old), name_of(new), &rules);
            let (ra, rb) = (held(&rules, &a), held(&rules, &b));
            match c {
                None => prop_assert_eq!(ra, rb),
                Some(TierChange::Promoted { .. }) => prop_assert!(rb > ra),
                Some(TierChange::Demoted { .. }) => prop_assert!(rb < ra),
            }
        }
    }
}
