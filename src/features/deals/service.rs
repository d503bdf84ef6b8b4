//! Deal registration and channel conflicts as services over `&App`: registering (or renewing)
//! a customer, the holder check a `/report` makes, opening and deciding conflicts, and the
//! reminder before a registration expires. Every change is audited in the caller's
//! transaction.

use serde_json::json;

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::engine::audit::AuditAction;
use crate::engine::customer::customer_key;
use crate::engine::deal::{self, Conflict, ConflictStatus, Deal};
use crate::engine::ids::{MemberId, PartnerId, SaleId};
use crate::engine::sale::{Sale, SaleStatus};
use crate::features::sales::ledger::{self, CreditPart};
use crate::store::deals::{self as stored, NewConflict, NewDeal};
use crate::store::{self, Conn, StoreError, audit, sales};

/// What a `/deal` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// The customer is now held for the partner.
    New(Deal),
    /// The partner held it already: renewed (the deal as it is now).
    Extended(Deal),
    /// Another partner holds it until `until`: the claim is conflict `conflict` (`opened`: new
    /// now, else this partner's earlier claim, still open).
    Claimed {
        conflict: i64,
        until: i64,
        opened: bool,
    },
}

/// A registration request.
#[derive(Clone, Copy, Debug)]
pub struct DealRequest<'a> {
    pub partner: PartnerId,
    pub member: Option<MemberId>,
    pub customer: &'a str,
    pub expected_minor: Option<i64>,
    pub note: Option<&'a str>,
}

/// Registers `request.customer` for its partner for `[deals] protection_days`, renews the
/// partner's own registration, or opens a conflict when another partner holds the customer.
/// The customer's key must not be empty (see [`customer_key`]).
pub async fn register(
    app: &App,
    conn: &mut Conn,
    request: DealRequest<'_>,
    now: i64,
) -> store::Result<Registration> {
    let key = customer_key(request.customer);
    let (expires_at, remind_at) = deal::protection(now, app.config.deals.protection_days);
    stored::expire_lapsed(&mut *conn, &key, now).await?;
    // Twice at most: an insert that lost a race to another partner's finds their row next.
    for _ in 0..2 {
        match stored::holding(&mut *conn, &key, now).await? {
            Some(held) if held.partner_id == request.partner => {
                stored::extend(
                    &mut *conn,
                    held.id,
                    expires_at,
                    remind_at,
                    request.expected_minor,
                    request.note,
                )
                .await?;
                audit::record(
                    &mut *conn,
                    request.member,
                    AuditAction::DealExtend,
                    &format!("deal {}", held.id),
                    Some(&json!({ "expires_at": held.expires_at })),
                    Some(&json!({ "expires_at": expires_at })),
                    now,
                )
                .await?;
                let renewed = stored::get(&mut *conn, held.id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("deal {} vanished", held.id)))?;
                return Ok(Registration::Extended(renewed));
            }
            Some(held) => {
                if let Some(open) = stored::open_claim(&mut *conn, &key, request.partner).await? {
                    return Ok(Registration::Claimed {
                        conflict: open.id,
                        until: held.expires_at,
                        opened: false,
                    });
                }
                let conflict = open_conflict(
                    &mut *conn,
                    &held,
                    NewClaim {
                        customer: request.customer,
                        claimant: request.partner,
                        member: request.member,
                        sale: None,
                        expected_minor: request.expected_minor,
                        note: request.note,
                    },
                    now,
                )
                .await?;
                return Ok(Registration::Claimed {
                    conflict,
                    until: held.expires_at,
                    opened: true,
                });
            }
            None => {
                let new = NewDeal {
                    partner_id: request.partner,
                    member_id: request.member,
                    customer: request.customer,
                    customer_key: &key,
                    expected_minor: request.expected_minor,
                    note: request.note,
                    registered_at: now,
                    expires_at,
                    remind_at,
                };
                if let Some(deal) = stored::insert(&mut *conn, &new).await? {
                    audit::record(
                        &mut *conn,
                        request.member,
                        AuditAction::DealRegister,
                        &format!("deal {}", deal.id),
                        None,
                        Some(&json!({
                            "partner": request.partner.0,
                            "customer": request.customer,
                            "expires_at": expires_at,
                        })),
                        now,
                    )
                    .await?;
                    return Ok(Registration::New(deal));
                }
            }
        }
    }
    Err(StoreError::Corrupt(format!(
        "customer {key:?} is neither held nor free"
    )))
}

/// The registration of another partner than `partner` holding `customer` at `now`: a sale of
/// this partner to it is a conflict.
pub async fn held_by_another(
    conn: &mut Conn,
    partner: PartnerId,
    customer: &str,
    now: i64,
) -> store::Result<Option<Deal>> {
    let key = customer_key(customer);
    if key.is_empty() {
        return Ok(None);
    }
    Ok(stored::holding(conn, &key, now)
        .await?
        .filter(|held| held.partner_id != partner))
}

/// For many customers at once (a group-commit batch's reports): the partner whose registration
/// holds each held one at `now`, by [`customer_key`]. A report's customer is held by another
/// partner ([`held_by_another`]) when its key is here with a different partner.
pub async fn holders(
    conn: &mut Conn,
    customers: &[&str],
    now: i64,
) -> store::Result<std::collections::HashMap<String, PartnerId>> {
    let mut keys: Vec<String> = customers
        .iter()
        .map(|c| customer_key(c))
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    Ok(stored::holding_many(conn, &keys, now)
        .await?
        .into_iter()
        .map(|deal| (deal.customer_key, deal.partner_id))
        .collect())
}

/// A claim on a held customer.
#[derive(Clone, Copy, Debug)]
pub struct NewClaim<'a> {
    /// As the claimant wrote it.
    pub customer: &'a str,
    pub claimant: PartnerId,
    pub member: Option<MemberId>,
    /// The reported sale waiting for the decision (`None`: a registration claim).
    pub sale: Option<SaleId>,
    pub expected_minor: Option<i64>,
    pub note: Option<&'a str>,
}

/// Opens a conflict between `held` and a claim, audited; returns its number.
pub async fn open_conflict(
    conn: &mut Conn,
    held: &Deal,
    claim: NewClaim<'_>,
    now: i64,
) -> store::Result<i64> {
    let key = customer_key(claim.customer);
    let id = stored::open_conflict(
        &mut *conn,
        &NewConflict {
            customer: claim.customer,
            customer_key: &key,
            deal: held,
            claimant: claim.claimant,
            claimant_member: claim.member,
            sale_id: claim.sale,
            claim_expected_minor: claim.expected_minor,
            claim_note: claim.note,
            opened_at: now,
        },
    )
    .await?;
    audit::record(
        &mut *conn,
        claim.member,
        AuditAction::ConflictOpen,
        &format!("conflict {id}"),
        None,
        Some(&json!({
            "customer": claim.customer,
            "holder": held.partner_id.0,
            "deal": held.id,
            "claimant": claim.claimant.0,
            "sale": claim.sale.map(|s| s.0),
        })),
        now,
    )
    .await?;
    Ok(id)
}

/// A manager's decision on a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The customer (and the sale, if any) goes to this partner, one of the two sides.
    Award(PartnerId),
    /// The sale's credit is split: this percent to the claimant, the rest to the holder.
    Split(u8),
}

/// Why a decision was refused; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveRefusal {
    NotFound,
    /// Decided already (or withdrawn).
    Closed(ConflictStatus),
    /// A split of a conflict between two registrations, which has no sale.
    NoSaleToSplit,
    /// An award to a partner that is neither side.
    NotASide,
}

/// What a decision did.
#[derive(Clone, Debug)]
pub struct Resolution {
    /// The conflict as it was before the decision.
    pub conflict: Conflict,
    pub decision: Decision,
    /// The sale it was about, as it was before the decision.
    pub sale: Option<Sale>,
    /// Who was credited how much of the sale (the claimant's part first on a split).
    pub parts: Vec<CreditPart>,
    /// The holder's registration (who registered it, until when).
    pub held: Option<Deal>,
    /// The registration the claimant got by winning.
    pub won: Option<Deal>,
}

/// Decides an open conflict, in the caller's transaction:
/// - awarded to the **claimant**: a sale is approved and credited to the claimant; the holder's
///   registration is released and the customer registered for the claimant for
///   `[deals] protection_days` (a `/deal` claim keeps its expected amount and note);
/// - awarded to the **holder**: a sale is approved and credited to the holder (it was their
///   protected customer: the sale counts for them, not for the reporter); the registration
///   stays; a `/deal` claim is turned down;
/// - **split** `p`: the sale is approved, the claimant credited `round(amount × p / 100)` and
///   the holder the rest (as a new approved sale), in the sale's currency and in the program
///   currency alike; the registration stays.
pub async fn resolve(
    app: &App,
    conn: &mut Conn,
    id: i64,
    decision: Decision,
    by: MemberId,
    now: i64,
) -> store::Result<Result<Resolution, ResolveRefusal>> {
    let Some(conflict) = stored::conflict(&mut *conn, id).await? else {
        return Ok(Err(ResolveRefusal::NotFound));
    };
    if conflict.status != ConflictStatus::Open {
        return Ok(Err(ResolveRefusal::Closed(conflict.status)));
    }
    match decision {
        Decision::Split(_) if conflict.sale_id.is_none() => {
            return Ok(Err(ResolveRefusal::NoSaleToSplit));
        }
        Decision::Award(p) if p != conflict.claimant && p != conflict.holder => {
            return Ok(Err(ResolveRefusal::NotASide));
        }
        _ => {}
    }
    let (status, winner, percent) = match decision {
        Decision::Award(p) => (ConflictStatus::Awarded, Some(p), None),
        Decision::Split(p) => (ConflictStatus::Split, None, Some(p)),
    };
    if !stored::close_conflict(&mut *conn, id, status, winner, percent, Some(by), now).await? {
        // Another manager decided a moment ago.
        let now_status = stored::conflict(&mut *conn, id)
            .await?
            .map_or(ConflictStatus::Withdrawn, |c| c.status);
        return Ok(Err(ResolveRefusal::Closed(now_status)));
    }
    let held = stored::get(&mut *conn, conflict.deal_id).await?;
    let program = app.config.program.currency;
    let sale = match conflict.sale_id {
        Some(s) => sales::get(&mut *conn, s, program).await?,
        None => None,
    };
    let mut parts = Vec::new();
    if let Some(sale) = &sale {
        let minor = |m: &crate::engine::money::Money| {
            m.to_minor()
                .map_err(|e| StoreError::Corrupt(format!("sale {} amount: {e}", sale.id)))
        };
        let (amount, program_minor) = (minor(&sale.amount)?, minor(&sale.program_amount)?);
        parts = match decision {
            Decision::Award(p) => vec![CreditPart {
                partner: p,
                amount_minor: amount,
                program_minor,
            }],
            Decision::Split(p) => {
                let (a_claimant, a_holder) = deal::split_minor(amount, p);
                let (p_claimant, p_holder) = deal::split_minor(program_minor, p);
                let mut parts = vec![CreditPart {
                    partner: conflict.claimant,
                    amount_minor: a_claimant,
                    program_minor: p_claimant,
                }];
                if a_holder != 0 || p_holder != 0 {
                    parts.push(CreditPart {
                        partner: conflict.holder,
                        amount_minor: a_holder,
                        program_minor: p_holder,
                    });
                }
                parts
            }
        };
        let reason = format!("conflict {id}");
        if sale.status != SaleStatus::Pending
            || ledger::credit_held_sale(app, conn, sale, &parts, by, Some(&reason), now)
                .await?
                .is_none()
        {
            return Err(StoreError::Corrupt(format!(
                "sale {} of open conflict {id} is not pending",
                sale.id
            )));
        }
    }
    let mut won = None;
    if decision == Decision::Award(conflict.claimant) {
        if let Some(held) = &held {
            stored::release(&mut *conn, held.id).await?;
        }
        let (expires_at, remind_at) = deal::protection(now, app.config.deals.protection_days);
        won = stored::insert(
            &mut *conn,
            &NewDeal {
                partner_id: conflict.claimant,
                member_id: conflict.claimant_member,
                customer: &conflict.customer,
                customer_key: &conflict.customer_key,
                expected_minor: conflict.claim_expected_minor,
                note: conflict.claim_note.as_deref(),
                registered_at: now,
                expires_at,
                remind_at,
            },
        )
        .await?;
    }
    audit::record(
        &mut *conn,
        Some(by),
        AuditAction::ConflictResolve,
        &format!("conflict {id}"),
        Some(&json!({ "status": "open" })),
        Some(&json!({
            "status": status.as_str(),
            "winner": winner.map(|p| p.0),
            "split_percent": percent,
            "sale": conflict.sale_id.map(|s| s.0),
            "credited": parts.iter().map(|p| json!({
                "partner": p.partner.0,
                "program_minor": p.program_minor,
            })).collect::<Vec<_>>(),
            "registered": won.as_ref().map(|d| d.id),
        })),
        now,
    )
    .await?;
    Ok(Ok(Resolution {
        conflict,
        decision,
        sale,
        parts,
        held,
        won,
    }))
}

/// The reporter cancelled a sale that waited for a conflict: the conflict is withdrawn.
pub async fn withdraw_for_sale(
    conn: &mut Conn,
    sale: SaleId,
    by: MemberId,
    now: i64,
) -> store::Result<()> {
    let Some(open) = stored::open_for_sale(&mut *conn, sale).await? else {
        return Ok(());
    };
    if stored::close_conflict(
        &mut *conn,
        open.id,
        ConflictStatus::Withdrawn,
        None,
        None,
        Some(by),
        now,
    )
    .await?
    {
        audit::record(
            &mut *conn,
            Some(by),
            AuditAction::ConflictWithdraw,
            &format!("conflict {}", open.id),
            Some(&json!({ "status": "open" })),
            Some(&json!({ "status": "withdrawn", "sale": sale.0 })),
            now,
        )
        .await?;
    }
    Ok(())
}

/// How many reminders one round claims at most (the rest go in the next round, a second later).
const REMINDERS_PER_ROUND: i64 = 100;

/// The scheduler's round: reminds the member who registered each deal whose reminder is due
/// (seven days before it expires), once. The claim of the rows and the outbox notices commit
/// together, so two instances never both remind, and a crash reminds nobody twice.
pub async fn send_reminders(app: &App) -> store::Result<usize> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let due = stored::claim_reminders(&mut tx, now, REMINDERS_PER_ROUND).await?;
    if due.is_empty() {
        return Ok(0);
    }
    for held in &due {
        let Some(member) = held.member_id else {
            continue;
        };
        let reply = Reply::here(
            Msg::new("deal-reminder")
                .text("customer", &held.customer)
                .text("until", app.local_date(held.expires_at).to_string()),
        );
        let key = format!("deal:{}:reminder:{}", held.id, held.expires_at);
        crate::outbox::enqueue_notice(app, &mut tx, member, reply, key, now).await?;
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    tracing::info!(deals = due.len(), "deal expiry reminders sent");
    Ok(due.len())
}
