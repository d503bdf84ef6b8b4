//! Scorecard facts and incentive records: feedback, disputes, certifications, coverage,
//! trailing sales, tier events and fund allocations.

use std::collections::{BTreeSet, HashMap};

use super::{Conn, Result, col, sql};
use crate::engine::ids::{AllocationRunId, DisputeId, MemberId, PartnerId};

/// Distinct normalised customers with approved sales in a period (market coverage).
pub async fn coverage(conn: &mut Conn, partner: PartnerId, period: &str) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(DISTINCT customer_key) AS n FROM sales \
         WHERE partner_id = $1 AND period = $2 AND status = 'approved'",
    )
    .bind(partner.0)
    .bind(period)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "n")
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Approved sales of one partner over the given periods (e.g. the trailing 12 months).
pub async fn approved_over(conn: &mut Conn, partner: PartnerId, periods: &[String]) -> Result<i64> {
    if periods.is_empty() {
        return Ok(0);
    }
    let mut query = sqlx::query(sql(format!(
        "SELECT CAST(COALESCE(SUM(approved_minor), 0) AS BIGINT) AS total FROM period_totals \
         WHERE partner_id = $1 AND period IN ({})",
        placeholders(2, periods.len())
    )))
    .bind(partner.0);
    for p in periods {
        query = query.bind(p.as_str());
    }
    col(&query.fetch_one(&mut *conn).await?, "total")
}

/// The same for every partner.
pub async fn approved_over_all(
    conn: &mut Conn,
    periods: &[String],
) -> Result<HashMap<PartnerId, i64>> {
    if periods.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = sqlx::query(sql(format!(
        "SELECT partner_id, CAST(SUM(approved_minor) AS BIGINT) AS total FROM period_totals \
         WHERE period IN ({}) GROUP BY partner_id",
        placeholders(1, periods.len())
    )));
    for p in periods {
        query = query.bind(p.as_str());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((PartnerId(col(r, "partner_id")?), col(r, "total")?)))
        .collect()
}

pub async fn certifications(conn: &mut Conn, partner: PartnerId) -> Result<BTreeSet<String>> {
    let rows = sqlx::query("SELECT certification FROM certifications WHERE partner_id = $1")
        .bind(partner.0)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| col(r, "certification")).collect()
}

pub async fn all_certifications(conn: &mut Conn) -> Result<HashMap<PartnerId, BTreeSet<String>>> {
    let rows = sqlx::query("SELECT partner_id, certification FROM certifications")
        .fetch_all(&mut *conn)
        .await?;
    let mut out: HashMap<PartnerId, BTreeSet<String>> = HashMap::new();
    for r in &rows {
        out.entry(PartnerId(col(r, "partner_id")?))
            .or_default()
            .insert(col(r, "certification")?);
    }
    Ok(out)
}

pub async fn add_feedback(
    conn: &mut Conn,
    partner: PartnerId,
    score: u8,
    comment: Option<&str>,
    by: MemberId,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO feedback (partner_id, score, comment, given_by, given_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(partner.0)
    .bind(i64::from(score))
    .bind(comment)
    .bind(by.0)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sum and count of feedback scores since an instant (the average is computed exactly by the
/// caller).
pub async fn feedback_since(conn: &mut Conn, partner: PartnerId, since: i64) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(score), 0) AS BIGINT) AS total, COUNT(*) AS n FROM feedback \
         WHERE partner_id = $1 AND given_at >= $2",
    )
    .bind(partner.0)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    Ok((col(&row, "total")?, col(&row, "n")?))
}

/// A dispute about a statement line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispute {
    pub id: DisputeId,
    pub partner: PartnerId,
    pub period: String,
    pub line: i64,
    pub reason: String,
    pub status: String,
    pub opened_by: Option<MemberId>,
    pub answer: Option<String>,
}

pub async fn open_dispute(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
    line: u32,
    reason: &str,
    by: MemberId,
    now: i64,
) -> Result<DisputeId> {
    let row = sqlx::query(
        "INSERT INTO disputes (partner_id, period, line_no, reason, status, opened_by, opened_at) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id",
    )
    .bind(partner.0)
    .bind(period)
    .bind(i64::from(line))
    .bind(reason)
    .bind(by.0)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(DisputeId(col(&row, "id")?))
}

pub async fn dispute(conn: &mut Conn, id: DisputeId) -> Result<Option<Dispute>> {
    let row = sqlx::query(
        "SELECT id, partner_id, period, line_no, reason, status, opened_by, answer \
         FROM disputes WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Dispute {
            id: DisputeId(col(&r, "id")?),
            partner: PartnerId(col(&r, "partner_id")?),
            period: col(&r, "period")?,
            line: col(&r, "line_no")?,
            reason: col(&r, "reason")?,
            status: col(&r, "status")?,
            opened_by: col::<Option<i64>>(&r, "opened_by")?.map(MemberId),
            answer: col(&r, "answer")?,
        })
    })
    .transpose()
}

/// Answers an open dispute; `false` if it was answered already.
pub async fn answer_dispute(
    conn: &mut Conn,
    id: DisputeId,
    text: &str,
    by: MemberId,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE disputes SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 \
         WHERE id = $4 AND status = 'open'",
    )
    .bind(text)
    .bind(by.0)
    .bind(now)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a partner's tier and records the change as an event for announcements.
pub async fn record_tier_change(
    conn: &mut Conn,
    partner: PartnerId,
    from: Option<&str>,
    to: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE partners SET tier = $1 WHERE id = $2")
        .bind(to)
        .bind(partner.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO tier_events (partner_id, from_tier, to_tier, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(partner.0)
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks a partner's tier events announced (the recognition post is in the outbox).
pub async fn mark_tier_events_announced(conn: &mut Conn, partner: PartnerId) -> Result<()> {
    sqlx::query("UPDATE tier_events SET announced = 1 WHERE partner_id = $1 AND announced = 0")
        .bind(partner.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Partner potential (minor units), for allocation.
pub async fn potentials(conn: &mut Conn) -> Result<HashMap<PartnerId, i64>> {
    let rows =
        sqlx::query("SELECT id, potential_minor FROM partners WHERE potential_minor IS NOT NULL")
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| Ok((PartnerId(col(r, "id")?), col(r, "potential_minor")?)))
        .collect()
}

pub async fn insert_allocation_run(
    conn: &mut Conn,
    budget_minor: i64,
    currency: &str,
    weights_json: &str,
    by: MemberId,
    now: i64,
) -> Result<AllocationRunId> {
    let row = sqlx::query(
        "INSERT INTO allocation_runs (budget_minor, currency, weights, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(budget_minor)
    .bind(currency)
    .bind(weights_json)
    .bind(by.0)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(AllocationRunId(col(&row, "id")?))
}

pub async fn insert_allocation_share(
    conn: &mut Conn,
    run: AllocationRunId,
    partner: PartnerId,
    amount_minor: i64,
    inputs_json: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO allocation_shares (run_id, partner_id, amount_minor, inputs) VALUES ($1, $2, $3, $4)",
    )
    .bind(run.0)
    .bind(partner.0)
    .bind(amount_minor)
    .bind(inputs_json)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A partner's share in an allocation run, with what explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredShare {
    pub run: AllocationRunId,
    pub budget_minor: i64,
    pub amount_minor: i64,
    /// The partner's inputs and component shares, as JSON.
    pub inputs_json: String,
    /// The weights the run used (serialized `AllocationWeights`): a later config change must
    /// not change how an earlier run is explained.
    pub weights_json: String,
}

/// The partner's share in the latest allocation run.
pub async fn latest_share(conn: &mut Conn, partner: PartnerId) -> Result<Option<StoredShare>> {
    let row = sqlx::query(
        "SELECT r.id, r.budget_minor, r.weights, s.amount_minor, s.inputs FROM allocation_runs r \
         JOIN allocation_shares s ON s.run_id = r.id AND s.partner_id = $1 \
         WHERE r.id = (SELECT MAX(id) FROM allocation_runs)",
    )
    .bind(partner.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(StoredShare {
            run: AllocationRunId(col(&r, "id")?),
            budget_minor: col(&r, "budget_minor")?,
            amount_minor: col(&r, "amount_minor")?,
            inputs_json: col(&r, "inputs")?,
            weights_json: col(&r, "weights")?,
        })
    })
    .transpose()
}
