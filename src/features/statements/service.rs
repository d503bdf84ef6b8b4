//! Statements as a service: drafts for open periods, locked snapshots for closed ones, the
//! corrections a locked period receives, exports. The money itself is computed by the pure
//! `engine::statement`; this module loads the facts and stores the results.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::engine::audit::AuditAction;
use crate::engine::ids::{MemberId, PartnerId, SaleId};
use crate::engine::money::{Currency, Money};
use crate::engine::partner::Partner;
use crate::engine::period::Period;
use crate::engine::plan::{self, PartnerFacts};
use crate::engine::statement::{self, Line, SalesFacts, Statement};
use crate::store::statements::{self as stored, Adjustment, Snapshot};
use crate::store::{self, Conn, StoreError, audit, partners, totals};

/// A statement as shown, exported and locked: every line with its explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDoc {
    pub partner_id: PartnerId,
    pub partner: String,
    pub period: String,
    pub currency: String,
    /// `standard v1`, or `None` when no plan applies to the partner.
    pub plan: Option<String>,
    pub lines: Vec<DocLine>,
    /// Decimal string in program currency.
    pub total: String,
    pub total_minor: i64,
    /// Sales over target, percent, when there is a target.
    pub attainment: Option<String>,
    pub sales: String,
    pub locked: bool,
}

/// One explained statement line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocLine {
    /// 1-based number within the statement (`/why 2`).
    pub id: u32,
    pub kind: String,
    /// The explanation in English (exports); chat renders `key` + `args` in the member's locale.
    pub description: String,
    pub key: String,
    pub args: Vec<(String, String)>,
    pub base: String,
    pub rate: Option<String>,
    pub lower: Option<String>,
    pub upper: Option<String>,
    pub amount: String,
    pub amount_minor: i64,
}

/// Why a statement action was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("period {0} is already closed")]
    AlreadyClosed(String),
    #[error("period {period} has not ended yet (it ends on {ends})")]
    NotEnded { period: String, ends: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StatementError {
    fn from(e: sqlx::Error) -> StatementError {
        StatementError::Store(e.into())
    }
}

fn decimal(minor: i64, currency: Currency) -> Decimal {
    Money::from_minor(minor, currency).amount()
}

pub(crate) fn partner_facts(partner: &Partner) -> PartnerFacts {
    PartnerFacts {
        partner: partner.id,
        name: partner.name.clone(),
        kind: partner.kind.as_str().to_string(),
        region: partner.region.clone(),
        tier: partner.tier.clone(),
    }
}

/// The facts a statement is computed from, as loaded.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Approved sales by category (`None`: uncategorised), minor units.
    pub by_category: BTreeMap<Option<String>, i64>,
    /// Approved sales of the same period a year earlier, minor units.
    pub last_year_minor: i64,
    /// The partner's own target for the period, minor units.
    pub target_minor: Option<i64>,
    pub adjustments: Vec<Adjustment>,
    /// Contest prizes in money landing in the period: (contest name, place, minor units).
    pub prizes: Vec<(String, u32, i64)>,
}

/// Computes a statement from facts. Pure apart from reading the configuration.
pub fn compute_statement(
    app: &App,
    partner: &Partner,
    period: Period,
    facts: &Facts,
) -> StatementDoc {
    let chosen = plan::select_plan(&app.config.plans, &partner_facts(partner), period.start());
    statement_doc(
        app.config.program.currency,
        partner.id,
        &partner.name,
        period,
        chosen,
        facts,
    )
}

/// The engine's statement for facts under `chosen` (`None`: no plan applies), with the
/// contest prizes and adjustments as lines after the plan's.
fn engine_statement(
    currency: Currency,
    partner: PartnerId,
    chosen: Option<&plan::Plan>,
    facts: &Facts,
) -> Statement {
    let total_minor: i64 = facts.by_category.values().sum();
    let sales_facts = SalesFacts {
        total: decimal(total_minor, currency),
        by_category: facts
            .by_category
            .iter()
            .filter_map(|(k, v)| k.as_ref().map(|k| (k.clone(), decimal(*v, currency))))
            .collect(),
        last_year: decimal(facts.last_year_minor, currency),
        target: facts.target_minor.map(|t| decimal(t, currency)),
    };
    let mut statement = match chosen {
        Some(p) => statement::compute(p, &sales_facts, currency),
        None => Statement {
            currency,
            lines: Vec::new(),
            total: Money::zero(currency),
            attainment: None,
        },
    };
    for (contest, place, minor) in &facts.prizes {
        let line = Line::prize(Money::from_minor(*minor, currency), contest.clone(), *place);
        if let Err(e) = statement.push(line) {
            tracing::error!(partner = %partner, error = %e, "prize not added");
        }
    }
    for adjustment in &facts.adjustments {
        let line = Line::adjustment(
            Money::from_minor(adjustment.amount_minor, currency),
            adjustment.reason.clone(),
        );
        // Same currency by construction; a failure would only be an overflow.
        if let Err(e) = statement.push(line) {
            tracing::error!(partner = %partner, error = %e, "adjustment not added");
        }
    }
    statement
}

/// The statement document of facts under `chosen`: what [`compute_statement`] shows, and what
/// a locked statement's stored facts and plan become again when read.
fn statement_doc(
    currency: Currency,
    partner_id: PartnerId,
    partner_name: &str,
    period: Period,
    chosen: Option<&plan::Plan>,
    facts: &Facts,
) -> StatementDoc {
    let total_minor: i64 = facts.by_category.values().sum();
    let statement = engine_statement(currency, partner_id, chosen, facts);
    let lines = statement
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| DocLine {
            id: i as u32 + 1,
            kind: line.kind.as_str().to_string(),
            description: line.explanation.english(),
            key: line.explanation.key.to_string(),
            args: line
                .explanation
                .args
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            base: line.base.normalize().to_string(),
            rate: line.rate.map(|r| r.normalize().to_string()),
            lower: line.lower.map(|r| r.normalize().to_string()),
            upper: line.upper.map(|r| r.normalize().to_string()),
            amount: line.amount.amount().to_string(),
            amount_minor: line.amount.to_minor().unwrap_or_default(),
        })
        .collect();
    StatementDoc {
        partner_id,
        partner: partner_name.to_string(),
        period: period.key(),
        currency: currency.code().to_string(),
        plan: chosen.map(|p| format!("{} v{}", p.id, p.version)),
        lines,
        total: statement.total.amount().to_string(),
        total_minor: statement.total.to_minor().unwrap_or_default(),
        attainment: statement
            .attainment
            .map(|a| a.round_dp(1).normalize().to_string()),
        sales: Money::from_minor(total_minor, currency)
            .amount()
            .to_string(),
        locked: false,
    }
}

/// Loads one partner's facts for a period.
pub async fn statement_facts(
    conn: &mut Conn,
    partner: PartnerId,
    period: Period,
) -> store::Result<Facts> {
    let key = period.key();
    Ok(Facts {
        by_category: stored::approved_by_category(conn, partner, &key).await?,
        last_year_minor: totals::get(conn, &period.year_earlier().key(), partner)
            .await?
            .approved_minor,
        target_minor: crate::store::targets::get(conn, partner, &key).await?,
        adjustments: stored::adjustments(conn, partner, &key).await?,
        prizes: crate::features::contests::service::prizes_for_statement(conn, partner, &key)
            .await?,
    })
}

/// The statement of a partner for a period: the locked snapshot if the period is closed,
/// else a draft computed now.
pub async fn statement(
    app: &App,
    conn: &mut Conn,
    partner: &Partner,
    period: Period,
) -> store::Result<StatementDoc> {
    let key = period.key();
    if stored::is_closed(conn, &key).await? {
        return match stored::snapshot(conn, partner.id, &key).await? {
            Some(s) => {
                let mut plans = LockedPlans::default();
                if let Some((id, version)) = &s.plan
                    && s.document.starts_with(LOCKED_FACTS_PREFIX)
                {
                    let all = stored::plans_of_period(conn, &key).await?;
                    if let Some(definition) = all.get(&(id.clone(), *version)) {
                        plans.insert(id, *version, definition)?;
                    }
                }
                locked_doc(&s, &plans)
            }
            None => Ok(StatementDoc {
                locked: true,
                ..compute_statement(app, partner, period, &Facts::default())
            }),
        };
    }
    let facts = statement_facts(conn, partner.id, period).await?;
    Ok(compute_statement(app, partner, period, &facts))
}

/// A locked statement as stored: the facts it was computed from and the partner's name at the
/// time. With the plan version (stored once per period in `statement_plans`) the pure engine
/// computes the same statement again whenever it is read, so closing a period writes about a
/// hundred bytes per partner instead of the explained document, and the document stays
/// exactly what it was when the period closed, whatever the configuration says later.
#[derive(Debug, Serialize, Deserialize)]
struct LockedFacts {
    /// [`LOCKED_FORMAT`]; documents without it are full statements (locked before).
    format: u32,
    partner: String,
    /// Approved sales by category (`None`: uncategorised), minor units.
    sales: Vec<(Option<String>, i64)>,
    last_year: i64,
    target: Option<i64>,
    /// Adjustments on the statement: (minor units, reason).
    adjustments: Vec<(i64, String)>,
    /// Money prizes: (contest name, place, minor units).
    prizes: Vec<(String, u32, i64)>,
}

const LOCKED_FORMAT: u32 = 2;
/// How a stored document in the facts form starts (`format` is serialized first).
const LOCKED_FACTS_PREFIX: &str = "{\"format\":2,";

impl LockedFacts {
    fn new(partner: &Partner, facts: &Facts) -> LockedFacts {
        LockedFacts {
            format: LOCKED_FORMAT,
            partner: partner.name.clone(),
            sales: facts
                .by_category
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            last_year: facts.last_year_minor,
            target: facts.target_minor,
            adjustments: facts
                .adjustments
                .iter()
                .map(|a| (a.amount_minor, a.reason.clone()))
                .collect(),
            prizes: facts.prizes.clone(),
        }
    }

    fn facts(self, partner: PartnerId, period: &str) -> Facts {
        Facts {
            by_category: self.sales.into_iter().collect(),
            last_year_minor: self.last_year,
            target_minor: self.target,
            adjustments: self
                .adjustments
                .into_iter()
                .map(|(amount_minor, reason)| Adjustment {
                    id: 0,
                    partner,
                    period: period.to_string(),
                    amount_minor,
                    reason,
                    source_period: None,
                    sale: None,
                })
                .collect(),
            prizes: self.prizes,
        }
    }
}

/// The plan versions a period was locked with, parsed.
#[derive(Default)]
struct LockedPlans(HashMap<(String, u32), plan::Plan>);

impl LockedPlans {
    async fn of_period(conn: &mut Conn, period: &str) -> store::Result<LockedPlans> {
        let mut plans = LockedPlans::default();
        for ((id, version), definition) in stored::plans_of_period(conn, period).await? {
            plans.insert(&id, version, &definition)?;
        }
        Ok(plans)
    }

    fn insert(&mut self, id: &str, version: u32, definition: &str) -> store::Result<()> {
        let plan = serde_json::from_str(definition)
            .map_err(|e| StoreError::Corrupt(format!("locked plan {id} v{version}: {e}")))?;
        self.0.insert((id.to_string(), version), plan);
        Ok(())
    }
}

/// A locked statement's document: computed again from its facts and plan version, or (locked
/// before facts were stored) parsed from the stored document.
fn locked_doc(s: &Snapshot, plans: &LockedPlans) -> store::Result<StatementDoc> {
    let corrupt = |e: String| {
        StoreError::Corrupt(format!(
            "statement snapshot {} {}: {e}",
            s.partner, s.period
        ))
    };
    if !s.document.starts_with(LOCKED_FACTS_PREFIX) {
        return serde_json::from_str(&s.document).map_err(|e| corrupt(e.to_string()));
    }
    let locked: LockedFacts =
        serde_json::from_str(&s.document).map_err(|e| corrupt(e.to_string()))?;
    let period = Period::parse(&s.period).ok_or_else(|| corrupt("bad period key".into()))?;
    let currency =
        Currency::parse(&s.currency).map_err(|_| corrupt(format!("currency {:?}", s.currency)))?;
    let chosen = match &s.plan {
        Some((id, version)) => Some(
            plans
                .0
                .get(&(id.clone(), *version))
                .ok_or_else(|| corrupt(format!("plan {id} v{version} is not stored")))?,
        ),
        None => None,
    };
    let name = locked.partner.clone();
    let facts = locked.facts(s.partner, &s.period);
    let doc = statement_doc(currency, s.partner, &name, period, chosen, &facts);
    // The stored total is what was paid out on: a build whose engine computed another amount
    // from the same facts and plan must not pass silently.
    if doc.total_minor != s.total_minor {
        tracing::error!(
            partner = %s.partner,
            period = %s.period,
            stored = s.total_minor,
            computed = doc.total_minor,
            "a locked statement computes to another total than the one locked"
        );
    }
    Ok(StatementDoc {
        locked: true,
        ..doc
    })
}

/// Rows per multi-row insert while closing: the rows in memory at once.
const CLOSE_CHUNK: usize = 1_000;

/// Locks every statement of a period that has ended. One pass over the period's sales; each
/// statement is stored as its facts and plan version ([`LockedFacts`]), in chunks as they are
/// computed, so memory holds the period's facts and not its documents.
pub async fn close_period(
    app: &App,
    period: Period,
    by: Option<MemberId>,
) -> Result<CloseReport, StatementError> {
    let now = app.now();
    let key = period.key();
    let next_start = period.next().start();
    if app.local_date(now) < next_start {
        return Err(StatementError::NotEnded {
            period: key,
            ends: (next_start - chrono::Days::new(1)).to_string(),
        });
    }
    let mut tx = app.store.begin().await?;
    if !stored::close(&mut tx, &key, by, now).await? {
        return Err(StatementError::AlreadyClosed(key));
    }
    let mut sales = stored::approved_by_partner_and_category(&mut tx, &key).await?;
    let mut last_year = stored::approved_totals(&mut tx, &period.year_earlier().key()).await?;
    let mut targets = stored::targets(&mut tx, &key).await?;
    let mut adjustments: HashMap<PartnerId, Vec<Adjustment>> = HashMap::new();
    for a in stored::adjustments_of_period(&mut tx, &key).await? {
        adjustments.entry(a.partner).or_default().push(a);
    }
    let mut prizes: HashMap<PartnerId, Vec<(String, u32, i64)>> = HashMap::new();
    for p in crate::store::contests::money_prizes_of_period(&mut tx, &key).await? {
        if let Some(minor) = p.amount_minor {
            prizes
                .entry(p.partner)
                .or_default()
                .push((p.contest_name, p.place, minor));
        }
    }
    let currency = app.config.program.currency;
    let mut report = CloseReport {
        period: key.clone(),
        statements: 0,
        total_minor: 0,
    };
    let mut used_plans: BTreeMap<(String, u32), &plan::Plan> = BTreeMap::new();
    let mut rows = Vec::with_capacity(CLOSE_CHUNK);
    for partner in partners::list(&mut tx).await? {
        let by_category = sales.remove(&partner.id).unwrap_or_default();
        let partner_adjustments = adjustments.remove(&partner.id).unwrap_or_default();
        let partner_prizes = prizes.remove(&partner.id).unwrap_or_default();
        if by_category.is_empty() && partner_adjustments.is_empty() && partner_prizes.is_empty() {
            continue;
        }
        let facts = Facts {
            by_category,
            last_year_minor: last_year.remove(&partner.id).unwrap_or(0),
            target_minor: targets.remove(&partner.id),
            adjustments: partner_adjustments,
            prizes: partner_prizes,
        };
        let chosen = plan::select_plan(&app.config.plans, &partner_facts(&partner), period.start());
        let total_minor = engine_statement(currency, partner.id, chosen, &facts)
            .total
            .to_minor()
            .unwrap_or_default();
        let plan = chosen.map(|p| {
            used_plans.insert((p.id.clone(), p.version), p);
            (p.id.clone(), p.version)
        });
        let document = serde_json::to_string(&LockedFacts::new(&partner, &facts))
            .map_err(|e| StoreError::Corrupt(format!("statement not serializable: {e}")))?;
        report.statements += 1;
        report.total_minor += total_minor;
        rows.push(Snapshot {
            partner: partner.id,
            period: key.clone(),
            plan,
            currency: currency.code().to_string(),
            total_minor,
            document,
        });
        if rows.len() == CLOSE_CHUNK {
            stored::insert_snapshots(&mut tx, &rows, now).await?;
            rows.clear();
        }
    }
    stored::insert_snapshots(&mut tx, &rows, now).await?;
    let mut definitions = Vec::with_capacity(used_plans.len());
    for ((id, version), p) in used_plans {
        let definition = serde_json::to_string(p)
            .map_err(|e| StoreError::Corrupt(format!("plan not serializable: {e}")))?;
        definitions.push((id, version, definition));
    }
    stored::insert_plans(&mut tx, &key, &definitions).await?;
    audit::record(
        &mut tx,
        by,
        AuditAction::PeriodClose,
        &format!("period {key}"),
        None,
        Some(&serde_json::json!({ "statements": report.statements, "total_minor": report.total_minor })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Every statement of a period: snapshots when closed, drafts otherwise (partners with
/// sales or adjustments in it). Holds them all: [`for_each_statement`] streams.
pub async fn statements_of_period(app: &App, period: Period) -> store::Result<Vec<StatementDoc>> {
    let mut out = Vec::new();
    for_each_statement(app, period, |doc| {
        out.push(doc);
        Ok::<(), StoreError>(())
    })
    .await?;
    Ok(out)
}

/// Partners read per page while writing the drafts of an open period.
const DRAFT_PAGE: i64 = 500;

/// Calls `each` with every statement of a period, one at a time, in partner id order: locked
/// snapshots when the period is closed (streamed from the database, each computed again as it
/// is read), else the drafts of partners with sales, adjustments or prizes in it (partners read
/// a page at a time). Memory stays flat in the number of partners, apart from the set of the
/// active partners' ids of an open period.
pub async fn for_each_statement<E>(
    app: &App,
    period: Period,
    mut each: impl FnMut(StatementDoc) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<StoreError>,
{
    use futures_util::TryStreamExt;
    let key = period.key();
    let mut conn = app.store.read().await.map_err(E::from)?;
    if stored::is_closed(&mut conn, &key).await.map_err(E::from)? {
        let plans = LockedPlans::of_period(&mut conn, &key)
            .await
            .map_err(E::from)?;
        let mut rows = stored::snapshots(&mut conn, &key);
        while let Some(snapshot) = rows.try_next().await.map_err(E::from)? {
            each(locked_doc(&snapshot, &plans).map_err(E::from)?)?;
        }
        return Ok(());
    }
    let active: std::collections::HashSet<PartnerId> = stored::approved_totals(&mut conn, &key)
        .await
        .map_err(E::from)?
        .into_keys()
        .chain(
            stored::adjustments_of_period(&mut conn, &key)
                .await
                .map_err(E::from)?
                .into_iter()
                .map(|a| a.partner),
        )
        .chain(
            crate::store::contests::money_prizes_of_period(&mut conn, &key)
                .await
                .map_err(E::from)?
                .into_iter()
                .map(|p| p.partner),
        )
        .collect();
    let mut after = PartnerId(0);
    loop {
        let page = partners::page(&mut conn, after, DRAFT_PAGE)
            .await
            .map_err(E::from)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.id;
        for partner in page {
            if active.contains(&partner.id) {
                each(
                    statement(app, &mut conn, &partner, period)
                        .await
                        .map_err(E::from)?,
                )?;
            }
        }
    }
}

/// What closing a period did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReport {
    pub period: String,
    pub statements: u64,
    pub total_minor: i64,
}

/// Books the difference a change makes to a locked period's statement as an adjustment in the
/// next open period. Does nothing if `period` is open.
pub async fn correct_locked(
    app: &App,
    conn: &mut Conn,
    partner_id: PartnerId,
    period_key: &str,
    sale: Option<SaleId>,
    now: i64,
) -> store::Result<()> {
    if !stored::is_closed(conn, period_key).await? {
        return Ok(());
    }
    let period = Period::parse(period_key)
        .ok_or_else(|| StoreError::Corrupt(format!("bad period key {period_key:?}")))?;
    let Some(partner) = partners::get(conn, partner_id).await? else {
        return Ok(());
    };
    let mut facts = statement_facts(conn, partner_id, period).await?;
    // Adjustments booked into the locked period before it closed are in the snapshot already.
    facts.adjustments = stored::adjustments(conn, partner_id, period_key).await?;
    let now_doc = compute_statement(app, &partner, period, &facts);
    let locked_total = stored::snapshot(conn, partner_id, period_key)
        .await?
        .map_or(0, |s| s.total_minor);
    let corrected = stored::corrections_for(conn, partner_id, period_key).await?;
    let difference = now_doc.total_minor - locked_total - corrected;
    if difference == 0 {
        return Ok(());
    }
    let mut target = period.next();
    while stored::is_closed(conn, &target.key()).await? {
        target = target.next();
    }
    let reason = format!("correction of locked period {period_key}");
    stored::insert_adjustment(
        conn,
        partner_id,
        &target.key(),
        difference,
        &reason,
        Some(period_key),
        sale,
        None,
        now,
    )
    .await?;
    Ok(())
}

/// One statement as the export JSON: `{ partner, period, currency, plan, lines: [{ id, kind,
/// description, base, rate, amount }], total }`, amounts as decimal strings.
pub fn export_json_one(d: &StatementDoc) -> serde_json::Value {
    serde_json::json!({
        "partner": d.partner,
        "period": d.period,
        "currency": d.currency,
        "plan": d.plan,
        "lines": d.lines.iter().map(|l| serde_json::json!({
            "id": l.id,
            "kind": l.kind,
            "description": l.description,
            "base": l.base,
            "rate": l.rate,
            "amount": l.amount,
        })).collect::<Vec<_>>(),
        "total": d.total,
    })
}

/// Statements as the export JSON: an array of [`export_json_one`].
pub fn export_json(docs: &[StatementDoc]) -> serde_json::Value {
    serde_json::Value::Array(docs.iter().map(export_json_one).collect())
}

/// The export CSV's columns.
pub const CSV_HEADER: [&str; 11] = [
    "partner",
    "period",
    "currency",
    "plan",
    "line",
    "kind",
    "description",
    "base",
    "rate",
    "amount",
    "total",
];

/// One statement's rows of the export CSV: one per line, the statement total on every row.
pub fn write_csv_rows<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    d: &StatementDoc,
) -> Result<(), csv::Error> {
    for l in &d.lines {
        writer.write_record([
            d.partner.as_str(),
            &d.period,
            &d.currency,
            d.plan.as_deref().unwrap_or(""),
            &l.id.to_string(),
            &l.kind,
            &l.description,
            &l.base,
            l.rate.as_deref().unwrap_or(""),
            &l.amount,
            &d.total,
        ])?;
    }
    Ok(())
}

/// Statements as CSV for payout: [`CSV_HEADER`], then [`write_csv_rows`] of each.
pub fn export_csv(docs: &[StatementDoc]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for d in docs {
        write_csv_rows(&mut writer, d)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

// --- throughput: streamed exports (issue 14) ---

/// Why a streamed export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes a period's statements to `out` as CSV ([`export_csv`]'s text), each as it is read:
/// memory stays flat in the number of partners.
pub async fn write_csv(
    app: &App,
    period: Period,
    out: impl std::io::Write,
) -> Result<(), ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for_each_statement(app, period, |doc| {
        write_csv_rows(&mut writer, &doc).map_err(ExportError::from)
    })
    .await?;
    writer.flush().map_err(csv::Error::from)?;
    Ok(())
}

/// Writes a period's statements to `out` as the export JSON ([`export_json`] pretty-printed),
/// each as it is read: memory stays flat in the number of partners.
pub async fn write_json(
    app: &App,
    period: Period,
    out: impl std::io::Write,
) -> Result<(), ExportError> {
    use serde::ser::{SerializeSeq, Serializer};
    let mut json = serde_json::Serializer::pretty(out);
    let mut seq = json.serialize_seq(None)?;
    for_each_statement(app, period, |doc| {
        seq.serialize_element(&export_json_one(&doc))
            .map_err(ExportError::from)
    })
    .await?;
    seq.end()?;
    Ok(())
}
