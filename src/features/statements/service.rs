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
use crate::store::statements::{self as stored, Adjustment, Snapshot, SnapshotRow};
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
    let currency = app.config.program.currency;
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
    let chosen = plan::select_plan(&app.config.plans, &partner_facts(partner), period.start());
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
            tracing::error!(partner = %partner.id, error = %e, "prize not added");
        }
    }
    for adjustment in &facts.adjustments {
        let line = Line::adjustment(
            Money::from_minor(adjustment.amount_minor, currency),
            adjustment.reason.clone(),
        );
        // Same currency by construction; a failure would only be an overflow.
        if let Err(e) = statement.push(line) {
            tracing::error!(partner = %partner.id, error = %e, "adjustment not added");
        }
    }
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
        partner_id: partner.id,
        partner: partner.name.clone(),
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
            Some(s) => parse_snapshot(&s),
            None => Ok(StatementDoc {
                locked: true,
                ..crate::features::statements::service::compute_statement(
                    app,
                    partner,
                    period,
                    &Facts::default(),
                )
            }),
        };
    }
    let facts =
        crate::features::statements::service::statement_facts(conn, partner.id, period).await?;
    Ok(crate::features::statements::service::compute_statement(
        app, partner, period, &facts,
    ))
}

/// Locks every statement of a period that has ended. One pass over the period's sales.
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
    let mut rows = Vec::new();
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
        let mut doc =
            crate::features::statements::service::compute_statement(app, &partner, period, &facts);
        doc.locked = true;
        let document = serde_json::to_string(&doc)
            .map_err(|e| StoreError::Corrupt(format!("statement not serializable: {e}")))?;
        let plan = doc
            .plan
            .as_deref()
            .and_then(|p| p.rsplit_once(" v"))
            .and_then(|(id, v)| v.parse().ok().map(|v| (id.to_string(), v)));
        report.statements += 1;
        report.total_minor += doc.total_minor;
        rows.push(SnapshotRow {
            snapshot: Snapshot {
                partner: partner.id,
                period: key.clone(),
                total_minor: doc.total_minor,
                document,
            },
            plan,
        });
    }
    stored::insert_snapshots(&mut tx, &rows, currency.code(), now).await?;
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
/// sales or adjustments in it).
pub async fn statements_of_period(app: &App, period: Period) -> store::Result<Vec<StatementDoc>> {
    let key = period.key();
    let mut conn = app.store.read().await?;
    if stored::is_closed(&mut conn, &key).await? {
        return stored::snapshots(&mut conn, &key)
            .await?
            .iter()
            .map(parse_snapshot)
            .collect();
    }
    let mut out = Vec::new();
    let active: std::collections::HashSet<PartnerId> = stored::approved_totals(&mut conn, &key)
        .await?
        .into_keys()
        .chain(
            stored::adjustments_of_period(&mut conn, &key)
                .await?
                .into_iter()
                .map(|a| a.partner),
        )
        .chain(
            crate::store::contests::money_prizes_of_period(&mut conn, &key)
                .await?
                .into_iter()
                .map(|p| p.partner),
        )
        .collect();
    for partner in partners::list(&mut conn).await? {
        if active.contains(&partner.id) {
            out.push(
                crate::features::statements::service::statement(app, &mut conn, &partner, period)
                    .await?,
            );
        }
    }
    Ok(out)
}

/// What closing a period did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReport {
    pub period: String,
    pub statements: u64,
    pub total_minor: i64,
}

fn parse_snapshot(s: &Snapshot) -> store::Result<StatementDoc> {
    serde_json::from_str(&s.document).map_err(|e| {
        StoreError::Corrupt(format!(
            "statement snapshot {} {}: {e}",
            s.partner, s.period
        ))
    })
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
    let mut facts =
        crate::features::statements::service::statement_facts(conn, partner_id, period).await?;
    // Adjustments booked into the locked period before it closed are in the snapshot already.
    facts.adjustments = stored::adjustments(conn, partner_id, period_key).await?;
    let now_doc =
        crate::features::statements::service::compute_statement(app, &partner, period, &facts);
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

/// Statements as the export JSON: an array of `{ partner, period, currency, plan, lines: [{ id,
/// kind, description, base, rate, amount }], total }`, amounts as decimal strings.
pub fn export_json(docs: &[StatementDoc]) -> serde_json::Value {
    serde_json::Value::Array(
        docs.iter()
            .map(|d| {
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
            })
            .collect(),
    )
}

/// Statements as CSV for payout: one row per line, with the statement total on every row.
pub fn export_csv(docs: &[StatementDoc]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
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
    ])?;
    for d in docs {
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
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
