//! What the HTTP API stores: API keys (a hash and a lookup prefix, never the key), the
//! responses of requests sent with an `Idempotency-Key`, and the reads the API and the TV
//! page need that no other feature makes (a sale as the API shows it, the latest approved
//! sales).

use sqlx::any::AnyRow;

use super::{Conn, Result, col};

/// An API key as stored (without the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    /// Hex SHA-256 of the whole key.
    pub hash: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const KEY_COLUMNS: &str = "id, name, prefix, hash, scopes, created_at, revoked_at";

fn key_from_row(row: &AnyRow) -> Result<StoredKey> {
    Ok(StoredKey {
        id: col(row, "id")?,
        name: col(row, "name")?,
        prefix: col(row, "prefix")?,
        hash: col(row, "hash")?,
        scopes: col(row, "scopes")?,
        created_at: col(row, "created_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

/// Stores a key; `None` if a live key has this name already.
pub async fn insert_key(
    conn: &mut Conn,
    name: &str,
    prefix: &str,
    hash: &str,
    scopes: &str,
    now: i64,
) -> Result<Option<StoredKey>> {
    let row = sqlx::query(super::sql(format!(
        "INSERT INTO api_keys (name, prefix, hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING {KEY_COLUMNS}"
    )))
    .bind(name)
    .bind(prefix)
    .bind(hash)
    .bind(scopes)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// The key with this lookup prefix, live or revoked.
pub async fn key_by_prefix(conn: &mut Conn, prefix: &str) -> Result<Option<StoredKey>> {
    let row = sqlx::query(super::sql(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE prefix = $1"
    )))
    .bind(prefix)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// Every key, oldest first.
pub async fn list_keys(conn: &mut Conn) -> Result<Vec<StoredKey>> {
    let rows = sqlx::query(super::sql(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// Revokes the live key named `name`, or else the live key whose id is `name`; the revoked
/// key, or `None` if no live key matched.
pub async fn revoke_key(conn: &mut Conn, name_or_id: &str, now: i64) -> Result<Option<StoredKey>> {
    let by_name = sqlx::query(super::sql(format!(
        "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL \
         RETURNING {KEY_COLUMNS}"
    )))
    .bind(now)
    .bind(name_or_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = by_name {
        return key_from_row(&row).map(Some);
    }
    let Ok(id) = name_or_id.parse::<i64>() else {
        return Ok(None);
    };
    let by_id = sqlx::query(super::sql(format!(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
         RETURNING {KEY_COLUMNS}"
    )))
    .bind(now)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    by_id.as_ref().map(key_from_row).transpose()
}

/// A stored response to a request sent with an `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the request (method, path and canonical body) the key was first used with.
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// The response stored for (`key_id`, `idempotency_key`), if any.
pub async fn stored_response(
    conn: &mut Conn,
    key_id: i64,
    idempotency_key: &str,
) -> Result<Option<StoredResponse>> {
    let row = sqlx::query(
        "SELECT request_hash, status, body FROM api_idempotency \
         WHERE key_id = $1 AND idempotency_key = $2",
    )
    .bind(key_id)
    .bind(idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(response_from_row).transpose()
}

fn response_from_row(row: &AnyRow) -> Result<StoredResponse> {
    Ok(StoredResponse {
        request_hash: col(row, "request_hash")?,
        status: u16::try_from(col::<i64>(row, "status")?).unwrap_or(500),
        body: col(row, "body")?,
    })
}

/// [`stored_response`] for many keys of one API key at once (a group commit's requests): the
/// answers found, by idempotency key.
pub async fn stored_responses(
    conn: &mut Conn,
    key_id: i64,
    idempotency_keys: &[&str],
) -> Result<std::collections::HashMap<String, StoredResponse>> {
    let mut found = std::collections::HashMap::new();
    for chunk in idempotency_keys.chunks(500) {
        let text = format!(
            "SELECT idempotency_key, request_hash, status, body FROM api_idempotency \
             WHERE idempotency_key IN ({}) AND key_id = {}",
            super::in_list(conn, chunk.len()),
            super::placeholder(conn, chunk.len() + 1)
        );
        let mut query = sqlx::query(super::sql(text));
        for key in chunk {
            query = query.bind(*key);
        }
        for row in &query.bind(key_id).fetch_all(&mut *conn).await? {
            found.insert(col(row, "idempotency_key")?, response_from_row(row)?);
        }
    }
    Ok(found)
}

/// Stores a response; `false` if another request stored one for the key first (a concurrent
/// request with the same key: the caller rolls back and answers from the stored one).
pub async fn store_response(
    conn: &mut Conn,
    key_id: i64,
    idempotency_key: &str,
    response: &StoredResponse,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO api_idempotency (key_id, idempotency_key, request_hash, status, body, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(key_id)
    .bind(idempotency_key)
    .bind(&response.request_hash)
    .bind(i64::from(response.status))
    .bind(&response.body)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// [`store_response`] for many keys in one statement (a group commit's answers): `true` if
/// every answer was stored, `false` if any key had one already (then the caller rolls the
/// group's work back: which of them was taken is not told).
pub async fn store_responses(
    conn: &mut Conn,
    responses: &[(i64, &str, &StoredResponse)],
    now: i64,
) -> Result<bool> {
    for chunk in responses.chunks(1_000) {
        let text = format!(
            "INSERT INTO api_idempotency (key_id, idempotency_key, request_hash, status, body, \
             created_at) VALUES {} ON CONFLICT DO NOTHING",
            super::values_list(conn, chunk.len(), 6, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for (key_id, key, response) in chunk {
            query = query
                .bind(*key_id)
                .bind(*key)
                .bind(response.request_hash.as_str())
                .bind(i64::from(response.status))
                .bind(response.body.as_str())
                .bind(now);
        }
        let done = query.execute(&mut *conn).await?;
        if done.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Forgets stored responses older than `before`; how many.
pub async fn forget_responses(conn: &mut Conn, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// A sale as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRecord {
    pub id: i64,
    pub partner_id: i64,
    pub partner: String,
    pub amount_minor: i64,
    pub currency: String,
    pub program_minor: i64,
    pub customer: String,
    pub category: Option<String>,
    pub quantity: Option<i64>,
    pub sale_date: String,
    pub period: String,
    pub source: String,
    pub idempotency_key: String,
    pub status: String,
    pub reported_at: i64,
}

/// One sale with its partner's name.
const SALE_RECORD: &str = "SELECT s.id, s.partner_id, p.name AS partner, s.amount_minor, \
     s.currency, s.program_minor, s.customer, s.category, s.quantity, s.sale_date, s.period, \
     s.source, s.idempotency_key, s.status, s.reported_at \
     FROM sales s JOIN partners p ON p.id = s.partner_id";

fn sale_record_from_row(row: &AnyRow) -> Result<SaleRecord> {
    Ok(SaleRecord {
        id: col(row, "id")?,
        partner_id: col(row, "partner_id")?,
        partner: col(row, "partner")?,
        amount_minor: col(row, "amount_minor")?,
        currency: col(row, "currency")?,
        program_minor: col(row, "program_minor")?,
        customer: col(row, "customer")?,
        category: col(row, "category")?,
        quantity: col(row, "quantity")?,
        sale_date: col(row, "sale_date")?,
        period: col(row, "period")?,
        source: col(row, "source")?,
        idempotency_key: col(row, "idempotency_key")?,
        status: col(row, "status")?,
        reported_at: col(row, "reported_at")?,
    })
}

pub async fn sale_record(conn: &mut Conn, id: i64) -> Result<Option<SaleRecord>> {
    let row = sqlx::query(super::sql(format!("{SALE_RECORD} WHERE s.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(sale_record_from_row).transpose()
}

/// [`sale_record`] for many sales, in one statement per 500; sales not found are left out.
pub async fn sale_records(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, SaleRecord>> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let text = format!(
            "{SALE_RECORD} WHERE s.id IN ({})",
            super::in_list(conn, chunk.len())
        );
        let mut query = sqlx::query(super::sql(text));
        for id in chunk {
            query = query.bind(*id);
        }
        for row in &query.fetch_all(&mut *conn).await? {
            let record = sale_record_from_row(row)?;
            found.insert(record.id, record);
        }
    }
    Ok(found)
}

/// A recently approved sale, for the TV page's ticker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovedSale {
    pub id: i64,
    pub partner: String,
    pub program_minor: i64,
    pub approved_at: i64,
}

/// The latest approved sales, newest first (approved on arrival or by a manager).
pub async fn latest_approved(conn: &mut Conn, limit: i64) -> Result<Vec<ApprovedSale>> {
    let rows = sqlx::query(
        "SELECT s.id, p.name AS partner, s.program_minor, \
         COALESCE(s.decided_at, s.reported_at) AS approved_at \
         FROM sales s JOIN partners p ON p.id = s.partner_id WHERE s.status = 'approved' \
         ORDER BY COALESCE(s.decided_at, s.reported_at) DESC, s.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ApprovedSale {
                id: col(row, "id")?,
                partner: col(row, "partner")?,
                program_minor: col(row, "program_minor")?,
                approved_at: col(row, "approved_at")?,
            })
        })
        .collect()
}

/// Migration versions applied successfully, for `/readyz`.
pub async fn applied_migrations(conn: &mut Conn) -> Result<Vec<i64>> {
    let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| col(r, "version")).collect()
}
