//! `rally demo`: a ready-made program on embedded SQLite — a dozen partners with Chinese and
//! English names, a manager, and three months of sales — so Rally can be tried with no token,
//! no network and no configuration.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::app::App;
use crate::config::{self, Config};
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::money::Money;
use crate::engine::partner::{PartnerKind, Platform, Role, name_key};
use crate::engine::sale::{SaleSource, SaleStatus};
use crate::features::sales::ledger;
use crate::store::partners::NewPartner;
use crate::store::sales::NewSale;
use crate::store::{self, members, partners};

/// The demo program's configuration: sales under 5,000 are approved on arrival.
pub const DEMO_CONFIG: &str = r#"
[program]
name = "Rally Demo"
currency = "CNY"
timezone = "Asia/Shanghai"
default_locale = "en"
auto_approve_below = 5000
[program.rates]
USD = "7.1"
EUR = "7.7"

[[tiers]]
name = "Bronze"
min_trailing_sales = 0

[[tiers]]
name = "Silver"
min_trailing_sales = 200000

[[tiers]]
name = "Gold"
min_trailing_sales = 400000
requires = ["sales-basics"]

[[plans]]
id = "standard"
version = 1
effective_from = "2026-01-01"
mode = "marginal"
target = 150000
brackets = [ { from = 0, rate = 3 }, { from = 100000, rate = 5 }, { from = 300000, rate = 8 } ]
category_rates = { software = 10 }
accelerator = { above_attainment = 100, multiplier = "1.5" }
cap = 30000
bonuses = [ { attainment = 100, amount = 2000 }, { attainment = 120, amount = 5000 } ]
volume_rebate = { threshold = 200000, rate = 1 }
growth_rebate = { rate = 2 }

[[plans]]
id = "distributors"
version = 1
effective_from = "2026-01-01"
mode = "whole"
target = 200000
brackets = [ { from = 0, rate = 2 }, { from = 150000, rate = 4 } ]
assign = { kind = "distributor" }

[allocation]
potential = "0.3"
contribution = "0.5"
growth = "0.2"
floor = "0.02"
cap = "0.25"
"#;

/// Builds the demo configuration (no file, no environment).
pub fn config() -> Result<Config, config::ConfigError> {
    config::from_toml_str(DEMO_CONFIG, "demo", &|_| None)
}

/// The demo's contests around `today`: a handicapped growth cup running from a month ago to a
/// month ahead (small partners can win it against their own targets), and a summer season that
/// ended a month and a half ago, archived with its winners.
pub fn contests_toml(today: chrono::NaiveDate) -> String {
    let day = |offset: i64| (today + chrono::Duration::days(offset)).to_string();
    format!(
        r#"
[[contests]]
id = "growth-cup"
name = "Growth Cup"
name_zh = "增长杯"
metric = "growth_rate"
start = "{cup_start}"
end = "{cup_end}"
handicap = true
targets = {{ "王氏电子" = 400000, "李记商贸" = 250000, "Alice Retail" = 120000 }}
min_sales = 10000
prizes = [ {{ rank = 1, amount = 5000 }}, {{ rank = 2, amount = 2000 }}, {{ rank = 3, reward = "Demo kit" }} ]
updates = "0 0 18 * * Fri"

[[contests]]
id = "summer-sprint"
name = "Summer Sprint"
name_zh = "夏季冲刺赛"
metric = "sales_amount"
start = "{sprint_start}"
end = "{sprint_end}"
min_sales = 5000
prizes = [ {{ rank = 1, amount = 3000 }}, {{ rank = 2, amount = 1500 }}, {{ rank = 3, reward = "Team dinner" }} ]
"#,
        cup_start = day(-30),
        cup_end = day(30),
        sprint_start = day(-88),
        sprint_end = day(-45),
    )
}

/// The demo configuration with [`contests_toml`] for `today`.
pub fn config_with_contests(today: chrono::NaiveDate) -> Result<Config, config::ConfigError> {
    let text = format!("{DEMO_CONFIG}{}", contests_toml(today));
    config::from_toml_str(&text, "demo", &|_| None)
}

/// Builds the demo contests' standings and ends the ones that are over (archive, prizes), as
/// the scheduler of `rally run` would.
pub async fn seed_contests(app: &App) -> anyhow::Result<()> {
    crate::features::contests::service::prepare(app).await?;
    crate::features::contests::service::run_due(app, "demo").await?;
    Ok(())
}

/// Console handle, partner name, kind, region, tier.
const PARTNERS: &[(&str, &str, PartnerKind, &str, &str)] = &[
    ("wang", "王氏电子", PartnerKind::Dealer, "East", "Gold"),
    ("li", "李记商贸", PartnerKind::Wholesaler, "East", "Silver"),
    (
        "zhang",
        "张家批发",
        PartnerKind::Wholesaler,
        "North",
        "Silver",
    ),
    (
        "chen",
        "陈氏分销",
        PartnerKind::Distributor,
        "South",
        "Gold",
    ),
    ("liu", "刘氏科技", PartnerKind::Agent, "West", "Bronze"),
    ("zhao", "赵记零售", PartnerKind::Retailer, "North", "Bronze"),
    (
        "alice",
        "Alice Retail",
        PartnerKind::Retailer,
        "East",
        "Silver",
    ),
    (
        "bob",
        "Bob's Distribution",
        PartnerKind::Distributor,
        "South",
        "Gold",
    ),
    ("carol", "Carol & Co", PartnerKind::Agent, "West", "Bronze"),
    (
        "dave",
        "Dave Dealers",
        PartnerKind::Dealer,
        "North",
        "Silver",
    ),
    ("emma", "Emma Agency", PartnerKind::Agent, "East", "Bronze"),
    (
        "frank",
        "Frank Wholesale",
        PartnerKind::Wholesaler,
        "South",
        "Silver",
    ),
];

const CUSTOMERS: &[&str] = &[
    "ACME",
    "华东贸易",
    "Globex",
    "北方建材",
    "Initech",
    "南方物流",
    "Umbrella",
    "星辰酒店",
    "Hooli",
    "蓝天学校",
    "Stark Industries",
    "绿源农业",
];

const CATEGORIES: &[Option<&str>] = &[
    None,
    None,
    Some("software"),
    Some("hardware"),
    Some("service"),
];

/// The member the demo starts as.
pub const DEFAULT_IDENTITY: &str = "wang";

/// Fills an empty database with the demo program. Does nothing if partners exist already, so
/// reopening the demo keeps what was done in it.
pub async fn seed(app: &App) -> store::Result<bool> {
    let mut tx = app.store.begin().await?;
    if !partners::list(&mut tx).await?.is_empty() {
        return Ok(false);
    }
    let now = app.now();
    let program = app.config.program.currency;
    // Same data every time: the demo is reproducible.
    let mut rng = StdRng::seed_from_u64(2026);
    let mut accounts: HashMap<&str, (MemberId, PartnerId)> = HashMap::new();

    let manager = members::upsert(
        &mut tx,
        Platform::Console,
        "manager",
        "梅经理 Manager Mei",
        now,
    )
    .await?;
    members::set_role(&mut tx, manager.id, None, Role::Manager).await?;
    members::set_locale(&mut tx, manager.id, "en").await?;

    for (index, (handle, name, kind, region, tier)) in PARTNERS.iter().enumerate() {
        let new = NewPartner {
            name: (*name).to_string(),
            kind: *kind,
            region: Some((*region).to_string()),
            tier: Some((*tier).to_string()),
            potential_minor: None,
        };
        let three_months_ms = 92 * 86_400_000;
        let created = crate::features::membership::partners::create(
            &mut tx,
            &new,
            None,
            crate::features::membership::partners::Source::Demo,
            now - three_months_ms,
        )
        .await?;
        let Some(partner) = created else {
            continue;
        };
        let member = members::upsert(&mut tx, Platform::Console, handle, name, now).await?;
        members::set_role(&mut tx, member.id, Some(partner.id), Role::Partner).await?;
        accounts.insert(*handle, (member.id, partner.id));
        // Two partners speak Chinese to show both locales; the rest follow the default.
        if matches!(*handle, "li" | "zhang") {
            members::set_locale(&mut tx, member.id, "zh-CN").await?;
        }
        // Stronger partners sell more often and more: the ranking has a shape.
        let strength = 1.0 + (PARTNERS.len() - index) as f64 / 4.0;
        let count = rng.random_range(18..30) + index % 5;
        for n in 0..count {
            let days_ago = rng.random_range(0..92_i64);
            let at = now - days_ago * 86_400_000 - rng.random_range(0..86_400_000_i64);
            // Whole yuan amounts between 500 and ~40,000.
            let yuan = (rng.random_range(500.0..9_000.0) * strength).round() as i64;
            let amount = Money::from_minor(yuan * 100, program);
            let customer = CUSTOMERS[rng.random_range(0..CUSTOMERS.len())];
            let status = if days_ago < 3 && n % 4 == 0 {
                SaleStatus::Pending
            } else {
                SaleStatus::Approved
            };
            let new = NewSale {
                partner_id: partner.id,
                amount,
                program_amount: amount,
                customer: customer.to_string(),
                customer_key: name_key(customer),
                category: CATEGORIES[rng.random_range(0..CATEGORIES.len())].map(String::from),
                quantity: None,
                evidence: None,
                note: None,
                sale_date: app.local_date(at).to_string(),
                period: app.period_at(at).key(),
                source: SaleSource::Import,
                idempotency_key: format!("demo:{handle}:{n}"),
                status,
                reporter: Some(member.id),
                reported_at: at,
            };
            ledger::record_sale(app, &mut tx, &new, at).await?;
        }
    }
    seed_trainings(app, &mut tx, &accounts, now).await?;
    seed_deals(app, &mut tx, &accounts, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Trainings of the demo: an autumn session held twelve days ago (attended, rated and completed
/// by the Gold partners, whose `sales-basics` certification it granted), an upcoming one with a
/// quiz, and an advanced one for Silver partners.
async fn seed_trainings(
    app: &App,
    tx: &mut store::Conn,
    accounts: &HashMap<&str, (MemberId, PartnerId)>,
    now: i64,
) -> store::Result<()> {
    use crate::engine::training::{
        DEFAULT_REMINDER_MINUTES, Eligibility, Level, Question, Quiz, Training,
    };
    use crate::store::trainings::{self, Source};
    let day = 86_400_000;
    // Sessions start at 14:00 program time, some days from today.
    let at_two_pm = |days: i64| {
        let date = app.local_date(now + days * day);
        app.instant_of(date.and_hms_opt(14, 0, 0).unwrap_or_default())
    };
    let session = |id: &str, title: &str, level, starts_at: i64, code: &str| Training {
        id: id.into(),
        title: title.into(),
        level,
        starts_at,
        ends_at: starts_at + 90 * 60_000,
        capacity: 20,
        enrolled: 0,
        link: None,
        place: Some("Shanghai office, room 3".into()),
        eligible: Eligibility::default(),
        certification: Some("sales-basics".into()),
        reminders: DEFAULT_REMINDER_MINUTES.to_vec(),
        quiz: None,
        checkin_code: code.into(),
        finished_at: None,
    };
    let past = session(
        "basics-0",
        "Sales basics (autumn)",
        Level::Basic,
        at_two_pm(-12),
        "K7M2QX",
    );
    trainings::save(tx, &past, Source::Demo, now).await?;
    let ratings = [
        ("wang", 5, Some("Very practical, thank you")),
        ("chen", 4, None),
        ("bob", 5, Some("Great examples")),
        ("alice", 3, Some("A bit fast")),
    ];
    for (handle, stars, comment) in ratings {
        let Some((member, partner)) = accounts.get(handle) else {
            continue;
        };
        trainings::enroll(tx, &past.id, *member, past.starts_at - 5 * day).await?;
        trainings::check_in(tx, &past.id, *member, past.starts_at - 60_000).await?;
        trainings::rate(
            tx,
            &past.id,
            *member,
            stars,
            comment,
            past.ends_at + 3_600_000,
        )
        .await?;
        trainings::complete(tx, &past.id, *member, past.ends_at).await?;
        // Only the Gold partners hold the certification Gold requires.
        if handle != "alice" {
            trainings::grant_certification(tx, *partner, "sales-basics", past.ends_at).await?;
        }
    }
    trainings::claim_finish(tx, &past.id, past.ends_at).await?;
    trainings::claim_summary(tx, &past.id, past.ends_at + day).await?;

    let mut upcoming = session(
        "basics-1",
        "Sales basics",
        Level::Basic,
        at_two_pm(3),
        "P4RT9N",
    );
    upcoming.link = Some("https://meet.example.com/rally-basics".into());
    upcoming.place = None;
    upcoming.quiz = Some(Quiz {
        pass: 2,
        questions: vec![
            Question {
                q: "When is a chat sale counted for money?".into(),
                choices: vec!["When reported".into(), "When approved".into()],
                answer: 2,
            },
            Question {
                q: "Which command shows your scorecard?".into(),
                choices: vec!["/me".into(), "/rank".into(), "/sales".into()],
                answer: 1,
            },
            Question {
                q: "Who decides a channel conflict?".into(),
                choices: vec!["The first reporter".into(), "A manager".into()],
                answer: 2,
            },
        ],
    });
    trainings::save(tx, &upcoming, Source::Demo, now).await?;
    if let Some((member, _)) = accounts.get("li") {
        trainings::enroll(tx, &upcoming.id, *member, now).await?;
    }

    let mut advanced = session(
        "advanced-1",
        "Advanced negotiation",
        Level::Advanced,
        at_two_pm(10),
        "W8HZ3C",
    );
    advanced.eligible.tier = Some("Silver".into());
    advanced.certification = Some("negotiation".into());
    advanced.capacity = 8;
    trainings::save(tx, &advanced, Source::Demo, now).await?;
    Ok(())
}

// --- community: deals ---
/// Deal registrations of the demo, and one open channel conflict: 李记商贸 registered
/// 星海酒店集团有限公司 three weeks ago, and Alice Retail reported a sale to "星海酒店集团" today,
/// which waits for a manager (`/conflicts`, `/resolve 1 …`).
async fn seed_deals(
    app: &App,
    tx: &mut store::Conn,
    accounts: &HashMap<&str, (MemberId, PartnerId)>,
    now: i64,
) -> store::Result<()> {
    use crate::features::deals::service::{self as deals, DealRequest, NewClaim, Registration};
    let day = crate::engine::deal::DAY_MS;
    let program = app.config.program.currency;
    let registrations = [
        (
            "li",
            "星海酒店集团有限公司",
            Some(8_000_000),
            Some("三月试点，已报价"),
            21,
        ),
        ("wang", "Acme Robotics Ltd.", Some(4_500_000), None, 5),
        (
            "chen",
            "蓝海物流股份有限公司",
            None,
            Some("tender in January"),
            86,
        ),
    ];
    let mut held = None;
    for (handle, customer, expected_minor, note, days_ago) in registrations {
        let Some((member, partner)) = accounts.get(handle) else {
            continue;
        };
        let request = DealRequest {
            partner: *partner,
            member: Some(*member),
            customer,
            expected_minor,
            note,
        };
        if let Registration::New(deal) =
            deals::register(app, tx, request, now - days_ago * day).await?
            && handle == "li"
        {
            held = Some(deal);
        }
    }
    let (Some(held), Some((alice, alice_partner))) = (held, accounts.get("alice")) else {
        return Ok(());
    };
    let customer = "星海酒店集团";
    let amount = Money::from_minor(3_680_000, program);
    let new = NewSale {
        partner_id: *alice_partner,
        amount,
        program_amount: amount,
        customer: customer.to_string(),
        customer_key: name_key(customer),
        category: Some("service".into()),
        quantity: None,
        evidence: None,
        note: Some("hotel group, 3 sites".into()),
        sale_date: app.local_date(now).to_string(),
        period: app.period_at(now).key(),
        source: SaleSource::Import,
        idempotency_key: "demo:alice:conflict".into(),
        status: SaleStatus::Pending,
        reporter: Some(*alice),
        reported_at: now,
    };
    if let (store::sales::Inserted::New(sale), _) = ledger::record_sale(app, tx, &new, now).await? {
        let claim = NewClaim {
            customer,
            claimant: *alice_partner,
            member: Some(*alice),
            sale: Some(sale.id),
            expected_minor: None,
            note: None,
        };
        deals::open_conflict(tx, &held, claim, now).await?;
    }
    Ok(())
}

// --- community: stories, reactions, kudos, badges (issue 11) ---

/// The demo's community: three success stories from the past days with reactions (one of them
/// featured by the manager), kudos between partners, and the badges the demo's facts earn.
/// Runs once (nothing is added when stories exist).
pub async fn seed_community(app: &App) -> anyhow::Result<()> {
    use crate::features::community::{badges, kudos, stories};
    let mut tx = app.store.begin().await?;
    if !crate::store::stories::latest(&mut tx, 1).await?.is_empty() {
        return Ok(());
    }
    let now = app.now();
    let hour = 3_600_000;
    let mut accounts = HashMap::new();
    for handle in [
        "manager", "wang", "li", "zhang", "chen", "alice", "bob", "emma",
    ] {
        if let Some(m) = members::find(&mut tx, Platform::Console, handle).await? {
            accounts.insert(handle, m);
        }
    }
    // Every partner's badges as its facts stand (sales, certifications from the trainings).
    for partner in partners::list(&mut tx).await? {
        badges::check(app, &mut tx, partner.id, badges::Trigger::Any, now).await?;
    }
    let told = [
        (
            "wang",
            50,
            "签下华东贸易三年框架合同：先做了两周试点，用数据说话，客户当场续约。",
        ),
        (
            "alice",
            30,
            "Won Globex's store refit after a live demo in their showroom — bring the kit!",
        ),
        (
            "chen",
            8,
            "南方物流的续约提前完成，关键是每月一次的复盘会。",
        ),
    ];
    let mut ids = Vec::new();
    for (handle, hours_ago, text) in told {
        let Some(author) = accounts.get(handle) else {
            continue;
        };
        let Some(partner) = author.partner_id else {
            continue;
        };
        let at = now - hours_ago * hour;
        let id = crate::store::stories::insert(
            &mut tx,
            partner,
            author.id,
            text,
            None,
            Platform::Console.as_str(),
            at,
        )
        .await?;
        ids.push(id);
    }
    let reactions: [(usize, &str, &str); 9] = [
        (0, "li", "clap"),
        (0, "zhang", "clap"),
        (0, "alice", "fire"),
        (0, "bob", "idea"),
        (1, "wang", "clap"),
        (1, "emma", "fire"),
        (1, "chen", "clap"),
        (2, "alice", "clap"),
        (2, "emma", "idea"),
    ];
    for (story, handle, kind) in reactions {
        if let (Some(id), Some(m)) = (ids.get(story), accounts.get(handle)) {
            stories::react(app, &mut tx, *id, m.id, kind, None, now - hour).await?;
        }
    }
    if let (Some(id), Some(manager)) = (ids.first(), accounts.get("manager"))
        && let Some(story) = crate::store::stories::get(&mut tx, *id).await?
    {
        stories::feature(app, &mut tx, &story, manager.id, now - hour).await?;
    }
    let thanks = [
        ("wang", "李记商贸", "shared a hot lead in Suzhou"),
        ("alice", "王氏电子", "great product training"),
        ("bob", "王氏电子", "lent us demo units"),
        ("li", "Alice Retail", "帮忙协调了物流"),
    ];
    for (n, (from, to, reason)) in thanks.into_iter().enumerate() {
        let Some(giver) = accounts.get(from) else {
            continue;
        };
        let target = kudos::Target::Partner(to.to_string());
        let at = now - (5 - n as i64) * hour;
        if let Err(refused) = kudos::give(app, &mut tx, giver, &target, reason, at).await? {
            tracing::warn!(?refused, "demo kudos refused");
        }
    }
    tx.commit().await?;
    Ok(())
}
