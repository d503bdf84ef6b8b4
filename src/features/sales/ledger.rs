//! The sales ledger as a service: every way a sale enters or changes (chat, import, API,
//! approvals) goes through here, so the period totals — and, once periods are locked, the
//! corrections of locked statements — always move in the same transaction as the sale.

use crate::app::App;
use crate::engine::ids::{MemberId, PartnerId, SaleId};
use crate::engine::money::Money;
use crate::engine::sale::{Sale, SaleStatus, TotalsChange, totals_change};
use crate::features::community::points;
use crate::features::contests::service as contests;
use crate::store::sales::{self, Inserted, NewSale};
use crate::store::totals::{self, PeriodTotals};
use crate::store::{Conn, Result, StoreError};

/// A sale's amount in program minor units.
pub(crate) fn program_minor(sale: &Sale) -> Result<i64> {
    sale.program_amount
        .to_minor()
        .map_err(|e| StoreError::Corrupt(format!("sale {} amount: {e}", sale.id)))
}

/// Stores a sale unless its (source, idempotency key) was stored before. A new sale moves its
/// partner's period totals; the new totals are returned with it.
pub async fn record_sale(
    app: &App,
    conn: &mut Conn,
    new: &NewSale,
    now: i64,
) -> Result<(Inserted, Option<PeriodTotals>)> {
    match sales::insert(&mut *conn, new).await? {
        Inserted::New(sale) => {
            // Counted before the caller commits: a transaction rolled back after this (rare: a
            // database error) is counted too.
            crate::telemetry::sale_reported(sale.source.as_str());
            if sale.status == SaleStatus::Approved {
                crate::telemetry::sale_approved(sale.source.as_str());
            }
            let change = totals_change(None, sale.status, program_minor(&sale)?);
            let t = totals::apply(&mut *conn, &sale.period, sale.partner_id, change, now).await?;
            if change.approved_minor != 0 {
                correct_if_locked(app, conn, &sale, now).await?;
                move_contests(app, conn, &sale, &new.sale_date, &new.customer, change, now).await?;
                points::on_sale_change(app, conn, &sale, change.approved_minor, now).await?;
            }
            Ok((Inserted::New(sale), Some(t)))
        }
        existing => Ok((existing, None)),
    }
}

/// A sale counted in a period whose statements are locked changes nothing in the locked
/// statement: the difference it makes becomes an adjustment line in the next open period.
/// Chat reports always land in the current period, which cannot be closed before it ends, so
/// the hot path skips the lookup.
async fn correct_if_locked(app: &App, conn: &mut Conn, sale: &Sale, now: i64) -> Result<()> {
    if sale.period == app.period_at(now).key() {
        return Ok(());
    }
    crate::features::statements::service::correct_locked(
        app,
        conn,
        sale.partner_id,
        &sale.period,
        Some(sale.id),
        now,
    )
    .await
}

/// Moves a sale to `to` and its partner's totals with it. `Ok(false)` if the sale was no
/// longer in the status it was read in (someone else decided first): nothing changed.
pub async fn change_status(
    app: &App,
    conn: &mut Conn,
    sale: &Sale,
    to: SaleStatus,
    by: MemberId,
    reason: Option<&str>,
    now: i64,
) -> Result<bool> {
    if !sales::set_status(&mut *conn, sale.id, sale.status, to, by, reason, now).await? {
        return Ok(false);
    }
    if to == SaleStatus::Approved {
        crate::telemetry::sale_approved(sale.source.as_str());
    }
    let change = totals_change(Some(sale.status), to, program_minor(sale)?);
    totals::apply(&mut *conn, &sale.period, sale.partner_id, change, now).await?;
    if change.approved_minor != 0 {
        correct_if_locked(app, conn, sale, now).await?;
        if !app.config.contests.is_empty() {
            let (date, customer) = sales::date_and_customer(&mut *conn, sale.id).await?;
            move_contests(app, conn, sale, &date, &customer, change, now).await?;
        }
        points::on_sale_change(app, conn, sale, change.approved_minor, now).await?;
    }
    Ok(true)
}

/// Moves the standings of the running contests a sale counts in (or is the growth base of),
/// in the sale's transaction.
async fn move_contests(
    app: &App,
    conn: &mut Conn,
    sale: &Sale,
    sale_date: &str,
    customer: &str,
    change: crate::engine::sale::TotalsChange,
    now: i64,
) -> Result<()> {
    if app.config.contests.is_empty() {
        return Ok(());
    }
    let date = chrono::NaiveDate::parse_from_str(sale_date, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("sale {} date {sale_date:?}: {e}", sale.id)))?;
    let change = contests::SaleChange {
        partner: sale.partner_id,
        date,
        customer,
        amount_minor: change.approved_minor,
        count: change.approved_count,
    };
    contests::on_sale_change(app, conn, change, now).await
}

// --- community: deals ---

/// One partner's part of a sale a manager credited in a channel conflict, in minor units of the
/// sale's currency and of the program's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditPart {
    pub partner: PartnerId,
    pub amount_minor: i64,
    pub program_minor: i64,
}

/// Credits a pending sale held back by a channel conflict, approved, to `parts`: the first part
/// becomes the sale itself (its partner and amounts replaced), every further part a new
/// approved sale of the same customer, date and category (idempotency key
/// `conflict:<sale>:<n>`). The reporter's pending total loses the sale and each part's partner
/// gains its part, so period totals, rankings, statements (computed from sales) and contest
/// standings follow, all in the caller's transaction. The new sales' ids are returned;
/// `Ok(None)` if the sale was no longer pending (nothing changed).
#[allow(clippy::too_many_arguments)]
pub async fn credit_held_sale(
    app: &App,
    conn: &mut Conn,
    sale: &Sale,
    parts: &[CreditPart],
    by: MemberId,
    reason: Option<&str>,
    now: i64,
) -> Result<Option<Vec<SaleId>>> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(Some(Vec::new()));
    };
    if sale.status != SaleStatus::Pending
        || !sales::approve_reassigned(
            &mut *conn,
            sale.id,
            first.partner,
            first.amount_minor,
            first.program_minor,
            by,
            reason,
            now,
        )
        .await?
    {
        return Ok(None);
    }
    crate::telemetry::sale_approved(sale.source.as_str());
    let held = totals_change(
        Some(SaleStatus::Pending),
        SaleStatus::Cancelled,
        program_minor(sale)?,
    );
    totals::apply(&mut *conn, &sale.period, sale.partner_id, held, now).await?;
    let (date, customer_key, category) = sales::date_key_and_category(&mut *conn, sale.id).await?;
    let currency = sale.amount.currency();
    let program = sale.program_amount.currency();
    let credited = Sale {
        partner_id: first.partner,
        amount: Money::from_minor(first.amount_minor, currency),
        program_amount: Money::from_minor(first.program_minor, program),
        status: SaleStatus::Approved,
        ..sale.clone()
    };
    let change = totals_change(None, SaleStatus::Approved, first.program_minor);
    totals::apply(&mut *conn, &sale.period, first.partner, change, now).await?;
    if change.approved_minor != 0 {
        correct_if_locked(app, conn, &credited, now).await?;
        move_contests(app, conn, &credited, &date, &sale.customer, change, now).await?;
    }
    let mut added = Vec::with_capacity(rest.len());
    for (n, part) in rest.iter().enumerate() {
        let new = NewSale {
            partner_id: part.partner,
            amount: Money::from_minor(part.amount_minor, currency),
            program_amount: Money::from_minor(part.program_minor, program),
            customer: sale.customer.clone(),
            customer_key: customer_key.clone(),
            category: category.clone(),
            quantity: None,
            evidence: None,
            note: reason.map(str::to_string),
            sale_date: date.clone(),
            period: sale.period.clone(),
            source: sale.source,
            idempotency_key: format!("conflict:{}:{}", sale.id, n + 1),
            status: SaleStatus::Approved,
            reporter: None,
            reported_at: now,
        };
        if let (Inserted::New(part_sale), _) = record_sale(app, conn, &new, now).await? {
            added.push(part_sale.id);
        }
    }
    Ok(Some(added))
}

// --- throughput: batches of sales (issue 14) ---

/// Stores many sales (an import batch) in the caller's transaction, with the same outcome as
/// [`record_sale`] for each in turn (totals, points), at a fraction of the round trips — except
/// the sales badges of the bulk part, which the caller checks once for the partners of all its
/// batches ([`crate::features::community::badges::check_after_sales`]; the import does so after
/// its last batch):
/// returns, per sale in order, its id if it was stored now (`None`: its key was stored before,
/// or repeats an earlier sale of the batch). Inside a group-commit batch
/// ([`points::deferring`]) the points are noted for the batch to book with its other sales'.
///
/// Sales in an open period are inserted with multi-row statements and their totals added with
/// one upsert per (period, partner) for the whole batch; their points likewise. An approved
/// sale a running contest counts moves the contest's standings one sale at a time after the
/// bulk insert — when every running contest's standings are built already in this process
/// (a group commit builds them first, `contests::prepare_before_group`) and no sale of the
/// batch dates from before a running contest's start (chat reports never do); otherwise, and
/// for a sale in a locked period (which books a correction), the sale takes [`record_sale`]
/// one at a time, after the bulk part: building standings, or a partner's first standing,
/// reads the sales stored so far, so no sale of the batch may be stored before it and then
/// moved again.
pub async fn record_sales(
    app: &App,
    conn: &mut Conn,
    news: &[NewSale],
    now: i64,
) -> Result<Vec<Option<SaleId>>> {
    use std::collections::{HashMap, HashSet};

    let closed: HashSet<String> = crate::store::statements::closed_periods(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let today = app.local_date(now);
    let running: Vec<&crate::engine::contest::Contest> = contests::running(app, today).collect();
    // Contest-counted sales may be inserted with the others and move the standings after,
    // only if the standings are built (building counts the sales present) and no sale of the
    // batch dates from before a running contest's start: a partner's first standing reads its
    // sales of the growth base and its earlier customers, which must not include a sale the
    // batch moves again afterwards.
    let earliest_start = running.iter().map(|c| c.start).min();
    let contests_after_insert = running.iter().all(|c| app.contests.is_built(&c.id))
        && news.iter().all(|new| {
            chrono::NaiveDate::parse_from_str(&new.sale_date, "%Y-%m-%d")
                .is_ok_and(|date| earliest_start.is_none_or(|start| date >= start))
        });
    let moves_contest = |new: &NewSale| {
        new.status == SaleStatus::Approved
            && !running.is_empty()
            && chrono::NaiveDate::parse_from_str(&new.sale_date, "%Y-%m-%d")
                .map(|date| running.iter().any(|c| c.counts(date) || c.in_base(date)))
                // A date the ledger cannot read takes the one-by-one path, which reports it.
                .unwrap_or(true)
    };

    let mut keys: HashSet<&str> = HashSet::with_capacity(news.len());
    let mut bulk: Vec<(usize, &NewSale)> = Vec::with_capacity(news.len());
    let mut one_by_one: Vec<usize> = Vec::new();
    for (i, new) in news.iter().enumerate() {
        // A key repeated within the batch is a duplicate of its first sale, as it would be
        // one row later.
        if !keys.insert(new.idempotency_key.as_str()) {
            continue;
        }
        if closed.contains(&new.period) || (moves_contest(new) && !contests_after_insert) {
            one_by_one.push(i);
        } else {
            bulk.push((i, new));
        }
    }

    let mut stored: Vec<Option<SaleId>> = vec![None; news.len()];
    let refs: Vec<&NewSale> = bulk.iter().map(|(_, n)| *n).collect();
    let inserted = sales::insert_many(&mut *conn, &refs).await?;
    let mut changes: HashMap<(&str, crate::engine::ids::PartnerId), TotalsChange> = HashMap::new();
    let mut approved: Vec<points::ApprovedSale> = Vec::new();
    let mut contest_moves: Vec<(SaleId, &NewSale, TotalsChange)> = Vec::new();
    for ((i, new), id) in bulk.iter().zip(inserted) {
        let Some(id) = id else {
            continue;
        };
        stored[*i] = Some(id);
        crate::telemetry::sale_reported(new.source.as_str());
        if new.status == SaleStatus::Approved {
            crate::telemetry::sale_approved(new.source.as_str());
        }
        let minor = new.program_amount.to_minor().map_err(|e| {
            StoreError::Corrupt(format!("sale {} amount: {e}", new.idempotency_key))
        })?;
        let change = totals_change(None, new.status, minor);
        if moves_contest(new) {
            contest_moves.push((id, new, change));
        }
        if change.approved_minor > 0 {
            approved.push(points::ApprovedSale {
                id,
                partner: new.partner_id,
                reporter: new.reporter,
                program_minor: change.approved_minor,
            });
        }
        let sum = changes
            .entry((new.period.as_str(), new.partner_id))
            .or_default();
        sum.approved_minor += change.approved_minor;
        sum.approved_count += change.approved_count;
        sum.provisional_minor += change.provisional_minor;
        sum.pending_count += change.pending_count;
    }
    let mut changes: Vec<(String, crate::engine::ids::PartnerId, TotalsChange)> = changes
        .into_iter()
        .map(|((period, partner), change)| (period.to_string(), partner, change))
        .collect();
    // A stable order: concurrent writers on PostgreSQL lock the rows in the same order.
    changes.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    totals::apply_many(&mut *conn, &changes, now).await?;
    points::on_sales_approved_or_defer(app, conn, &approved, now).await?;
    for (id, new, change) in contest_moves {
        let sale = new.stored_as(id);
        move_contests(app, conn, &sale, &new.sale_date, &new.customer, change, now).await?;
    }

    for i in one_by_one {
        if let (Inserted::New(sale), _) = record_sale(app, conn, &news[i], now).await? {
            stored[i] = Some(sale.id);
        }
    }
    Ok(stored)
}
