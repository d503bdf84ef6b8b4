//! Awarding points: the hooks the sales ledger, trainings, contests, kudos and stories call in
//! their own transactions. Each award is keyed by its source, so calling a hook twice for the
//! same fact (a redelivered message, a job run twice, two instances) awards once.

use std::cell::RefCell;

use crate::app::App;
use crate::engine::ids::{MemberId, PartnerId, SaleId};
use crate::engine::points::SourceKind;
use crate::engine::sale::Sale;
use crate::features::community::badges::{self, Trigger};
use crate::store::points::{self as ledger, Award};
use crate::store::{self, Conn};

/// Appends `points` for a partner from one source. `false`: the source was awarded before, nothing changed.
#[allow(clippy::too_many_arguments)]
pub async fn award(
    conn: &mut Conn,
    partner: PartnerId,
    member: Option<MemberId>,
    points: i64,
    reason: &str,
    kind: SourceKind,
    key: &str,
    now: i64,
) -> store::Result<bool> {
    let award = Award {
        partner,
        member,
        points,
        reason,
        kind,
        key,
    };
    ledger::award(&mut *conn, &award, now).await
}

tokio::task_local! {
    /// Set while a group-commit batch runs ([`deferring`]): the points and sales badges of the
    /// sales approved in it are booked once, at the end of the batch ([`book_deferred`]), with
    /// the import's multi-row statements, instead of three to four statements in each sale.
    static DEFERRED: RefCell<Vec<ApprovedSale>>;
}

/// Runs `work` (a group-commit batch, `chat::batch`) with the points and sales badges of the
/// sales it approves deferred: [`on_sale_change`] only notes them; the batch calls
/// [`book_deferred`] in its transaction before committing.
pub async fn deferring<F: Future>(work: F) -> F::Output {
    DEFERRED.scope(RefCell::new(Vec::new()), work).await
}

/// How many approved sales are deferred so far (`None` outside [`deferring`]): a message
/// rolled back to its savepoint takes its own back with [`forget_deferred_after`].
pub fn deferred_count() -> Option<usize> {
    DEFERRED.try_with(|d| d.borrow().len()).ok()
}

/// Forgets the deferred sales after the first `count` (their message was rolled back).
pub fn forget_deferred_after(count: usize) {
    let _ = DEFERRED.try_with(|d| d.borrow_mut().truncate(count));
}

/// Books what the batch deferred: the points of its approved sales ([`on_sales_approved`])
/// and its partners' sales badges, in the batch's transaction.
pub async fn book_deferred(app: &App, conn: &mut Conn, now: i64) -> store::Result<()> {
    let sales = DEFERRED
        .try_with(|d| std::mem::take(&mut *d.borrow_mut()))
        .unwrap_or_default();
    if sales.is_empty() {
        return Ok(());
    }
    on_sales_approved(app, conn, &sales, now).await?;
    let approved: Vec<(SaleId, PartnerId)> = sales.iter().map(|s| (s.id, s.partner)).collect();
    badges::check_after_new_sales(app, conn, &approved, now).await
}

/// The points of newly stored approved sales ([`on_sales_approved`]), or, inside a
/// group-commit batch ([`deferring`]), noted for the batch to book with the rest of its sales
/// and their badges ([`book_deferred`]).
pub async fn on_sales_approved_or_defer(
    app: &App,
    conn: &mut Conn,
    sales: &[ApprovedSale],
    now: i64,
) -> store::Result<()> {
    if DEFERRED
        .try_with(|d| d.borrow_mut().extend_from_slice(sales))
        .is_ok()
    {
        return Ok(());
    }
    on_sales_approved(app, conn, sales, now).await
}

/// A sale's approved amount moved by `approved_minor` (positive: approved; negative: an
/// approved sale rejected or cancelled). Called by the ledger in the sale's transaction.
pub async fn on_sale_change(
    app: &App,
    conn: &mut Conn,
    sale: &Sale,
    approved_minor: i64,
    now: i64,
) -> store::Result<()> {
    let key = sale.id.0.to_string();
    if approved_minor > 0 {
        let approved = ApprovedSale {
            id: sale.id,
            partner: sale.partner_id,
            reporter: sale.reporter,
            program_minor: approved_minor,
        };
        if DEFERRED.try_with(|d| d.borrow_mut().push(approved)).is_ok() {
            return Ok(());
        }
        let points = app.config.points.sale_points(approved_minor);
        let reason = format!("sale #{}", sale.id.0);
        if points > 0 {
            award(
                conn,
                sale.partner_id,
                sale.reporter,
                points,
                &reason,
                SourceKind::Sale,
                &key,
                now,
            )
            .await?;
        }
        badges::check(app, conn, sale.partner_id, Trigger::Sale, now).await?;
    } else if approved_minor < 0 {
        // Approved earlier in the same batch: its points were never booked; forget them.
        let deferred = DEFERRED.try_with(|d| {
            let mut d = d.borrow_mut();
            let before = d.len();
            d.retain(|a| a.id != sale.id);
            before != d.len()
        });
        if deferred == Ok(true) {
            return Ok(());
        }
        let given = ledger::points_of(&mut *conn, sale.partner_id, SourceKind::Sale, &key).await?;
        if let Some(given) = given {
            let reason = format!("sale #{} taken back", sale.id.0);
            award(
                conn,
                sale.partner_id,
                sale.reporter,
                -given,
                &reason,
                SourceKind::SaleReversal,
                &key,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// A newly stored approved sale of a batch (see [`on_sales_approved`]).
#[derive(Clone, Copy, Debug)]
pub struct ApprovedSale {
    pub id: SaleId,
    pub partner: PartnerId,
    pub reporter: Option<MemberId>,
    pub program_minor: i64,
}

/// The points of [`on_sale_change`] for a batch of newly stored approved sales (an import), in
/// the batch's transaction: the same ledger rows and totals, written with multi-row
/// statements. The sales badges are not checked here: a batch's caller checks its partners
/// once, with [`badges::check_after_sales`] (the import: once per file, after its last batch).
pub async fn on_sales_approved(
    app: &App,
    conn: &mut Conn,
    sales: &[ApprovedSale],
    now: i64,
) -> store::Result<()> {
    if sales.is_empty() {
        return Ok(());
    }
    let rules = &app.config.points;
    let keyed: Vec<(&ApprovedSale, i64, String, String)> = sales
        .iter()
        .filter_map(|sale| {
            let points = rules.sale_points(sale.program_minor);
            (points > 0).then(|| {
                let id = sale.id.0;
                (sale, points, id.to_string(), format!("sale #{id}"))
            })
        })
        .collect();
    let awards: Vec<Award<'_>> = keyed
        .iter()
        .map(|(sale, points, key, reason)| Award {
            partner: sale.partner,
            member: sale.reporter,
            points: *points,
            reason,
            kind: SourceKind::Sale,
            key,
        })
        .collect();
    ledger::award_many(&mut *conn, &awards, now).await?;
    Ok(())
}

/// A member completed a training (in the completion's transaction).
pub async fn on_training_completed(
    app: &App,
    conn: &mut Conn,
    training: &str,
    member: MemberId,
    partner: Option<PartnerId>,
    now: i64,
) -> store::Result<()> {
    let Some(partner) = partner else {
        return Ok(());
    };
    let key = format!("{training}:{}", member.0);
    let reason = format!("training {training}");
    let points = app.config.points.training_completed;
    award(
        conn,
        partner,
        Some(member),
        points,
        &reason,
        SourceKind::Training,
        &key,
        now,
    )
    .await?;
    badges::check(app, conn, partner, Trigger::Any, now).await?;
    Ok(())
}

/// A finished contest's final places (in the transaction that books its prizes): the podium
/// gets points and the podium badge.
pub async fn on_contest_finished(
    app: &App,
    conn: &mut Conn,
    contest: &str,
    placed: &[(u32, PartnerId)],
    now: i64,
) -> store::Result<()> {
    let rules = &app.config.points;
    for (place, partner) in placed.iter().filter(|(place, _)| rules.on_podium(*place)) {
        let reason = format!("contest {contest}: place {place}");
        award(
            conn,
            *partner,
            None,
            rules.podium_points(*place),
            &reason,
            SourceKind::Podium,
            contest,
            now,
        )
        .await?;
        badges::check(app, conn, *partner, Trigger::Any, now).await?;
    }
    Ok(())
}
