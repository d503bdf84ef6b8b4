//! Badges: rules over a partner's facts, evaluated whenever one of those facts changes. Pure:
//! the service gathers [`Facts`], asks [`newly_earned`] which badges the partner has earned and
//! does not hold yet, and stores each once.

/// What a badge asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadgeRule {
    /// At least this many approved sales (1 = the first sale).
    ApprovedSales(u64),
    /// At least this much approved in one calendar month (program currency, minor units).
    MonthAmount(i64),
    /// At least this many contest podium places.
    ContestPodium(u64),
    /// Holds a certification: the one named, or any.
    Certified(Option<String>),
    /// At least this many featured stories.
    FeaturedStories(u64),
    /// At least this many kudos received.
    KudosReceived(u64),
}

impl BadgeRule {
    /// The rule's name in `[[badges]]` (`rule = "approved_sales"`).
    pub fn kind(&self) -> &'static str {
        match self {
            BadgeRule::ApprovedSales(_) => "approved_sales",
            BadgeRule::MonthAmount(_) => "month_amount",
            BadgeRule::ContestPodium(_) => "contest_podium",
            BadgeRule::Certified(_) => "certified",
            BadgeRule::FeaturedStories(_) => "featured_stories",
            BadgeRule::KudosReceived(_) => "kudos_received",
        }
    }

    /// Every rule name, for configuration messages.
    pub const KINDS: [&'static str; 6] = [
        "approved_sales",
        "month_amount",
        "contest_podium",
        "certified",
        "featured_stories",
        "kudos_received",
    ];

    /// Whether the rule is about sales: the only rules an approved sale can newly meet.
    pub fn is_about_sales(&self) -> bool {
        matches!(
            self,
            BadgeRule::ApprovedSales(_) | BadgeRule::MonthAmount(_)
        )
    }

    /// Whether the rule counts points-ledger rows (podium places, featured stories, kudos).
    pub fn counts_ledger_rows(&self) -> bool {
        matches!(
            self,
            BadgeRule::ContestPodium(_)
                | BadgeRule::FeaturedStories(_)
                | BadgeRule::KudosReceived(_)
        )
    }

    /// Whether `facts` meet the rule.
    pub fn met(&self, facts: &Facts) -> bool {
        match self {
            BadgeRule::ApprovedSales(n) => facts.approved_sales >= *n,
            BadgeRule::MonthAmount(minor) => facts.best_month_minor >= *minor,
            BadgeRule::ContestPodium(n) => facts.podium_places >= *n,
            BadgeRule::Certified(None) => !facts.certifications.is_empty(),
            BadgeRule::Certified(Some(name)) => facts
                .certifications
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name)),
            BadgeRule::FeaturedStories(n) => facts.featured_stories >= *n,
            BadgeRule::KudosReceived(n) => facts.kudos_received >= *n,
        }
    }
}

/// One badge: a stable id (stored), its names, its rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Badge {
    pub id: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub rule: BadgeRule,
}

impl Badge {
    pub fn display_name(&self, chinese: bool) -> &str {
        match (&self.name_zh, chinese) {
            (Some(zh), true) => zh,
            _ => &self.name,
        }
    }
}

/// A partner's facts the rules look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub approved_sales: u64,
    pub best_month_minor: i64,
    pub podium_places: u64,
    pub certifications: Vec<String>,
    pub featured_stories: u64,
    pub kudos_received: u64,
}

/// The built-in badges (used when the configuration has no `[[badges]]`): first sale, 10 deals,
/// a 100k month (`hundred_k_minor`: 100,000 in the program currency's minor units), contest
/// podium, certified, featured story, 5 kudos received.
pub fn defaults(hundred_k_minor: i64) -> Vec<Badge> {
    let badge = |id: &str, name: &str, zh: &str, rule| Badge {
        id: id.into(),
        name: name.into(),
        name_zh: Some(zh.into()),
        rule,
    };
    vec![
        badge(
            "first-sale",
            "First sale",
            "首单",
            BadgeRule::ApprovedSales(1),
        ),
        badge(
            "ten-deals",
            "10 deals",
            "十单达人",
            BadgeRule::ApprovedSales(10),
        ),
        badge(
            "100k-month",
            "100k month",
            "十万月",
            BadgeRule::MonthAmount(hundred_k_minor),
        ),
        badge(
            "podium",
            "Contest podium",
            "竞赛领奖台",
            BadgeRule::ContestPodium(1),
        ),
        badge(
            "certified",
            "Certified",
            "认证伙伴",
            BadgeRule::Certified(None),
        ),
        badge(
            "featured",
            "Featured story",
            "精选案例",
            BadgeRule::FeaturedStories(1),
        ),
        badge(
            "kudos-5",
            "5 kudos received",
            "五次点赞",
            BadgeRule::KudosReceived(5),
        ),
    ]
}

/// The badges of `rules` that `facts` meet and `held` does not contain, in rule order.
pub fn newly_earned<'a>(rules: &'a [Badge], facts: &Facts, held: &[String]) -> Vec<&'a Badge> {
    rules
        .iter()
        .filter(|b| !held.iter().any(|h| h == &b.id))
        .filter(|b| b.rule.met(facts))
        .collect()
}

/// Whether every badge of `rules` whose rule is about sales is already held, so a sale need
/// not gather facts at all.
pub fn sales_badges_held(rules: &[Badge], held: &[String]) -> bool {
    rules
        .iter()
        .filter(|b| b.rule.is_about_sales())
        .all(|b| held.iter().any(|h| h == &b.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUNDRED_K: i64 = 10_000_000;

    fn ids(badges: &[&Badge]) -> Vec<String> {
        badges.iter().map(|b| b.id.clone()).collect()
    }

    #[test]
    fn nothing_earned_without_facts() {
        assert!(newly_earned(&defaults(HUNDRED_K), &Facts::default(), &[]).is_empty());
    }

    #[test]
    fn first_sale_then_ten() {
        let rules = defaults(HUNDRED_K);
        let one = Facts {
            approved_sales: 1,
            ..Facts::default()
        };
        assert_eq!(ids(&newly_earned(&rules, &one, &[])), ["first-sale"]);
        let ten = Facts {
            approved_sales: 10,
            ..Facts::default()
        };
        assert_eq!(
            ids(&newly_earned(&rules, &ten, &["first-sale".into()])),
            ["ten-deals"]
        );
        assert_eq!(
            ids(&newly_earned(&rules, &ten, &[])),
            ["first-sale", "ten-deals"]
        );
    }

    #[test]
    fn month_amount_is_inclusive() {
        let rules = defaults(HUNDRED_K);
        let below = Facts {
            best_month_minor: HUNDRED_K - 1,
            ..Facts::default()
        };
        assert!(newly_earned(&rules, &below, &[]).is_empty());
        let at = Facts {
            best_month_minor: HUNDRED_K,
            ..Facts::default()
        };
        assert_eq!(ids(&newly_earned(&rules, &at, &[])), ["100k-month"]);
    }

    #[test]
    fn podium_certified_featured_kudos() {
        let rules = defaults(HUNDRED_K);
        let facts = Facts {
            podium_places: 1,
            certifications: vec!["sales-basics".into()],
            featured_stories: 1,
            kudos_received: 4,
            ..Facts::default()
        };
        assert_eq!(
            ids(&newly_earned(&rules, &facts, &[])),
            ["podium", "certified", "featured"]
        );
        let five = Facts {
            kudos_received: 5,
            ..facts
        };
        assert!(ids(&newly_earned(&rules, &five, &[])).contains(&"kudos-5".to_string()));
    }

    #[test]
    fn named_certification() {
        let rule = BadgeRule::Certified(Some("Negotiation".into()));
        let other = Facts {
            certifications: vec!["sales-basics".into()],
            ..Facts::default()
        };
        assert!(!rule.met(&other));
        let held = Facts {
            certifications: vec!["negotiation".into()],
            ..Facts::default()
        };
        assert!(rule.met(&held));
    }

    #[test]
    fn held_badges_are_never_earned_again() {
        let rules = defaults(HUNDRED_K);
        let all: Vec<String> = rules.iter().map(|b| b.id.clone()).collect();
        let facts = Facts {
            approved_sales: 50,
            best_month_minor: HUNDRED_K * 3,
            podium_places: 2,
            certifications: vec!["x".into()],
            featured_stories: 3,
            kudos_received: 9,
        };
        assert!(newly_earned(&rules, &facts, &all).is_empty());
        assert!(sales_badges_held(&rules, &all));
        assert!(!sales_badges_held(&rules, &["first-sale".into()]));
    }
}
