//! The sales ledger as a service: every way a sale enters or changes (chat, import, API,
//! approvals) goes through here, so the period totals — and, once periods are locked, the
//! corrections of locked statements — always move in the same transaction as the sale.

use crate::app::App;
use crate::engine::ids::MemberId;
use crate::engine::sale::{Sale, SaleStatus, totals_change};
use crate::features::community::points;
use crate::features::contests::service as contests;
use crate::store::sales::{self, Inserted, NewSale};
use crate::store::totals::{self, PeriodTotals};
use crate::store::{Conn, Result, StoreError};

fn program_minor(sale: &Sale) -> Result<i64> {
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
