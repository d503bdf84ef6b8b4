//! `POST /api/v1/sales` and `POST /api/v1/sales/batch`: sales from finance and ERP systems,
//! checked and stored by the same intake as the CSV import (`features::sales::intake`), with
//! Stripe-style `Idempotency-Key` replays.
//!
//! Concurrent `POST /api/v1/sales` requests share one transaction (group commit,
//! `store::group`): each request is checked alone (body, fields, a replayed key), then joins
//! the group being gathered; the group's leader stores every sale in a savepoint of its own
//! (partner lookup, ledger insert with the period totals, the `Idempotency-Key` answer), so a
//! sale refused or failed in the database is rolled back alone, and each answer is sent only
//! after the commit that holds its sale.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, FieldError};
use crate::app::App;
use crate::engine::audit::AuditAction;
use crate::engine::ids::{PartnerId, SaleId};
use crate::engine::money::{Currency, Money};
use crate::engine::sale::{SaleSource, SaleStatus};
use crate::features::api_keys::KeyInfo;
use crate::features::community::badges;
use crate::features::sales::intake::{Intake, Problem, SaleText};
use crate::features::sales::ledger;
use crate::platforms::http::HttpState;
use crate::store::api::{self as stored, SaleRecord, StoredResponse};
use crate::store::group::{GroupQueue, Savepoints};
use crate::store::sales::{Inserted, NewSale};
use crate::store::{self, audit};

/// Most sales in one batch request.
pub const MAX_BATCH: usize = 1000;
/// Longest accepted `Idempotency-Key` (Stripe allows 255 characters).
const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest accepted `external_id`.
const MAX_EXTERNAL_ID: usize = 128;
/// The header a replayed answer carries.
const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A sale to store. Money is a decimal string in major units; the currency defaults to the
/// program's.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // The schema documents the body; the handler reads the JSON field by field.
pub struct SaleInput {
    /// The partner's id (a number) or name (a string).
    #[schema(value_type = Object, example = json!("王氏电子"))]
    partner: Value,
    /// Decimal string in major units, with at most as many decimals as the currency has.
    #[schema(example = "12500.00")]
    amount: String,
    /// ISO 4217 code; the program currency when absent. Other currencies convert at
    /// `[program.rates]`.
    #[schema(example = "CNY")]
    currency: Option<String>,
    /// The sale date, `YYYY-MM-DD`: it decides the period the sale counts in.
    #[schema(example = "2026-11-20")]
    date: String,
    customer: String,
    category: Option<String>,
    /// Units sold, a positive whole number.
    quantity: Option<i64>,
    /// The sale's id in your system: a second sale with the same one is a duplicate.
    external_id: Option<String>,
    /// Verified sales are approved on arrival (default), others wait for a manager.
    verified: Option<bool>,
}

/// A stored sale.
#[derive(Serialize, ToSchema)]
pub struct SaleOutput {
    pub id: i64,
    pub partner_id: i64,
    pub partner: String,
    /// Decimal string in major units of `currency`.
    pub amount: String,
    pub currency: String,
    /// The amount in program currency (converted at `[program.rates]`).
    pub program_amount: String,
    pub program_currency: String,
    pub date: String,
    /// The period the sale counts in.
    pub period: String,
    pub customer: String,
    pub category: Option<String>,
    pub quantity: Option<i64>,
    pub external_id: Option<String>,
    /// `approved` or `pending`.
    pub status: String,
    /// RFC 3339.
    pub reported_at: String,
}

/// A batch of sales.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // As `SaleInput`.
pub struct BatchInput {
    /// At most 1,000 sales.
    sales: Vec<SaleInput>,
}

/// What happened to each sale of a batch, in request order.
#[derive(Serialize, ToSchema)]
pub struct BatchOutput {
    pub results: Vec<BatchResult>,
}

/// One sale of a batch.
#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    /// 0-based position in `sales`.
    pub index: usize,
    /// `created`, `duplicate` (stored before, by `external_id`) or `rejected`.
    pub status: &'static str,
    /// The stored sale's id (created or duplicate).
    pub id: Option<i64>,
    /// Why it was rejected.
    pub errors: Vec<FieldError>,
}

fn decimal_string(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::from_minor(minor, c).amount().to_string(),
        Err(_) => minor.to_string(),
    }
}

fn sale_output(record: &SaleRecord, program: Currency) -> SaleOutput {
    SaleOutput {
        id: record.id,
        partner_id: record.partner_id,
        partner: record.partner.clone(),
        amount: decimal_string(record.amount_minor, &record.currency),
        currency: record.currency.clone(),
        program_amount: decimal_string(record.program_minor, program.code()),
        program_currency: program.code().to_string(),
        date: record.sale_date.clone(),
        period: record.period.clone(),
        customer: record.customer.clone(),
        category: record.category.clone(),
        quantity: record.quantity,
        external_id: record
            .idempotency_key
            .strip_prefix("ext:")
            .map(str::to_string),
        status: record.status.clone(),
        reported_at: chrono::DateTime::from_timestamp_millis(record.reported_at)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

/// A sale's fields as text for the intake, read from its JSON object; type problems (a number
/// where text belongs, an unknown field) are reported per field, prefixed with `at`.
struct SaleJson {
    partner: String,
    amount: String,
    currency: Option<String>,
    date: String,
    customer: String,
    category: Option<String>,
    quantity: Option<String>,
    external_id: Option<String>,
    verified: Option<String>,
    /// Fields with a type problem; the intake's own findings for them are left out.
    problems: Vec<Problem>,
}

const FIELDS: [&str; 9] = [
    "partner",
    "amount",
    "currency",
    "date",
    "customer",
    "category",
    "quantity",
    "external_id",
    "verified",
];

impl SaleJson {
    fn read(value: &Value) -> Result<SaleJson, Vec<Problem>> {
        let Some(object) = value.as_object() else {
            return Err(vec![Problem {
                field: "sale",
                message: "a sale must be a JSON object".into(),
            }]);
        };
        let mut problems = Vec::new();
        for name in object.keys() {
            if !FIELDS.contains(&name.as_str()) {
                problems.push(Problem {
                    field: "sale",
                    message: format!("unknown field {name:?}; allowed: {}", FIELDS.join(", ")),
                });
            }
        }
        let mut sale = SaleJson {
            partner: partner_text(object, &mut problems),
            amount: amount_text(object, &mut problems),
            currency: optional_text(object, "currency", &mut problems),
            date: required_text(object, "date", &mut problems),
            customer: required_text(object, "customer", &mut problems),
            category: optional_text(object, "category", &mut problems),
            quantity: quantity_text(object, &mut problems),
            external_id: optional_text(object, "external_id", &mut problems),
            verified: verified_text(object, &mut problems),
            problems: Vec::new(),
        };
        if let Some(currency) = &sale.currency
            && !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            problems.push(Problem {
                field: "currency",
                message: format!(
                    "bad currency {currency:?}: expected a 3-letter ISO 4217 code such as \"CNY\""
                ),
            });
        }
        if let Some(id) = &sale.external_id
            && (id.is_empty() || id.chars().count() > MAX_EXTERNAL_ID)
        {
            problems.push(Problem {
                field: "external_id",
                message: format!("external_id must be 1 to {MAX_EXTERNAL_ID} characters"),
            });
        }
        if problems.iter().any(|p| p.field == "sale") {
            return Err(problems);
        }
        sale.problems = problems;
        Ok(sale)
    }

    fn text(&self) -> SaleText<'_> {
        SaleText {
            partner: &self.partner,
            amount: &self.amount,
            currency: self.currency.as_deref(),
            date: &self.date,
            customer: &self.customer,
            category: self.category.as_deref(),
            quantity: self.quantity.as_deref(),
            external_id: self.external_id.as_deref(),
            verified: self.verified.as_deref(),
        }
    }

    /// The type problems, plus the intake's findings for the fields that had none.
    fn all_problems(&self, intake: Vec<Problem>) -> Vec<Problem> {
        let mut all = self.problems.clone();
        for problem in intake {
            if !all.iter().any(|p| p.field == problem.field) {
                all.push(problem);
            }
        }
        all.sort_by_key(|p| FIELDS.iter().position(|f| *f == p.field));
        all
    }
}

fn problem(problems: &mut Vec<Problem>, field: &'static str, message: String) {
    problems.push(Problem { field, message });
}

fn required_text(
    object: &Map<String, Value>,
    field: &'static str,
    problems: &mut Vec<Problem>,
) -> String {
    match object.get(field) {
        Some(Value::String(s)) => s.trim().to_string(),
        None | Some(Value::Null) => {
            problem(problems, field, format!("{field} is required"));
            String::new()
        }
        Some(_) => {
            problem(problems, field, format!("{field} must be a string"));
            String::new()
        }
    }
}

fn optional_text(
    object: &Map<String, Value>,
    field: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(_) => {
            problem(problems, field, format!("{field} must be a string"));
            None
        }
    }
}

fn partner_text(object: &Map<String, Value>, problems: &mut Vec<Problem>) -> String {
    match object.get("partner") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|id| id > 0) => n.to_string(),
        Some(Value::String(_)) => required_text(object, "partner", problems),
        None | Some(Value::Null) => required_text(object, "partner", problems),
        Some(_) => {
            problem(
                problems,
                "partner",
                "partner must be a partner id (a positive whole number) or a partner name (a string)"
                    .into(),
            );
            String::new()
        }
    }
}

/// Amounts are decimal strings (`"12500.00"`): a JSON number could lose digits on the way.
fn amount_text(object: &Map<String, Value>, problems: &mut Vec<Problem>) -> String {
    if let Some(Value::Number(n)) = object.get("amount") {
        problem(
            problems,
            "amount",
            format!("amount must be a decimal string such as \"{n}\", not a JSON number"),
        );
        return String::new();
    }
    let text = required_text(object, "amount", problems);
    let (int, frac) = text.split_once('.').unwrap_or((&text, "0"));
    let plain = !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !text.is_empty() && !plain {
        problem(
            problems,
            "amount",
            format!(
                "bad amount {text:?}: expected a decimal string in major units such as \"12500.00\""
            ),
        );
    }
    text
}

fn quantity_text(object: &Map<String, Value>, problems: &mut Vec<Problem>) -> Option<String> {
    match object.get("quantity") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => Some(n.to_string()),
        Some(_) => {
            problem(
                problems,
                "quantity",
                "quantity must be a positive whole number".into(),
            );
            None
        }
    }
}

fn verified_text(object: &Map<String, Value>, problems: &mut Vec<Problem>) -> Option<String> {
    match object.get("verified") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(_) => {
            problem(
                problems,
                "verified",
                "verified must be true or false".into(),
            );
            None
        }
    }
}

fn field_errors(problems: &[Problem], prefix: &str) -> Vec<FieldError> {
    problems
        .iter()
        .map(|p| FieldError {
            field: if p.field == "sale" {
                if prefix.is_empty() {
                    "body".to_string()
                } else {
                    prefix.trim_end_matches('.').to_string()
                }
            } else {
                format!("{prefix}{}", p.field)
            },
            message: p.message.clone(),
        })
        .collect()
}

/// The `Idempotency-Key` of a request, with the hash of what it was sent with.
#[derive(Clone)]
pub struct Idempotency {
    key_id: i64,
    key: String,
    request_hash: String,
}

impl Idempotency {
    fn from_request(
        headers: &HeaderMap,
        caller: &KeyInfo,
        route: &str,
        body: &Value,
    ) -> Result<Option<Idempotency>, ApiError> {
        let Some(raw) = headers.get("idempotency-key") else {
            return Ok(None);
        };
        let key = raw
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_idempotency_key",
                    format!(
                        "the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
                    ),
                )
            })?;
        // serde_json's maps are ordered by key, so equal bodies hash equally whatever the
        // order or spacing they were written in.
        let canonical = format!("{route}\n{body}");
        let digest = Sha256::digest(canonical.as_bytes());
        Ok(Some(Idempotency {
            key_id: caller.id,
            key: key.to_string(),
            request_hash: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }))
    }

    /// The answer `status` / `body` to store under this key.
    fn response(&self, status: StatusCode, body: &str) -> StoredResponse {
        StoredResponse {
            request_hash: self.request_hash.clone(),
            status: status.as_u16(),
            body: body.to_string(),
        }
    }

    /// The answer stored under this key, if any (a read of its own).
    async fn stored_answer(&self, app: &App) -> store::Result<Option<StoredResponse>> {
        let mut conn = app.store.read().await?;
        stored::stored_response(&mut conn, self.key_id, &self.key).await
    }

    /// The stored answer replayed, or the mismatch error.
    fn answer(&self, stored: StoredResponse) -> Response {
        if stored.request_hash != self.request_hash {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_mismatch",
                "this Idempotency-Key was used with a different request; use a new key for a new request",
            )
            .into_response();
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        let mut response = json_response(status, stored.body);
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        response
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// The body as JSON, or the 400 / 413 answer.
fn read_json(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::malformed_json(&e))
}

/// Whether [`prepare`] looks up the answer stored under the request's `Idempotency-Key`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StoredAnswer {
    /// Now, one read per request (`POST /api/v1/sales/batch`).
    Check,
    /// Not here: the group commit reads its requests' answers at once ([`try_group`]).
    InGroup,
}

/// A request's body and idempotency, or the answer it already has (a replay, a mismatch, a
/// problem with the body).
async fn prepare(
    state: &HttpState,
    caller: &KeyInfo,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    route: &str,
    stored_answer: StoredAnswer,
) -> Result<(Value, Option<Idempotency>), Response> {
    let value = read_json(body).map_err(IntoResponse::into_response)?;
    let idempotency = Idempotency::from_request(headers, caller, route, &value)
        .map_err(IntoResponse::into_response)?;
    if stored_answer == StoredAnswer::Check
        && let Some(idem) = &idempotency
    {
        let found = idem
            .stored_answer(&state.app)
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        if let Some(found) = found {
            return Err(idem.answer(found));
        }
    }
    Ok((value, idempotency))
}

/// The answer to a request whose Idempotency-Key another request stored an answer under first
/// (a concurrent request with the same key): a replay of (or a mismatch with) that answer, or
/// 409 while it is not committed yet.
async fn key_taken(app: &App, idem: &Idempotency) -> Response {
    match idem.stored_answer(app).await {
        Ok(Some(found)) => idem.answer(found),
        Ok(None) => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "another request with this Idempotency-Key is in progress; retry shortly",
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Stores the answer under the idempotency key (in `tx`, with the change) and commits.
async fn finish(
    state: &HttpState,
    mut tx: store::Tx,
    idempotency: Option<Idempotency>,
    status: StatusCode,
    body: String,
) -> Response {
    if let Some(idem) = &idempotency {
        let response = idem.response(status, &body);
        match stored::store_response(&mut tx, idem.key_id, &idem.key, &response, state.app.now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                // A concurrent request with the same key committed first: ours rolls back and
                // answers as a replay of (or a mismatch with) that one.
                drop(tx);
                return key_taken(&state.app, idem).await;
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if let Err(e) = tx.commit().await {
        return ApiError::internal(e).into_response();
    }
    json_response(status, body)
}

/// The sale's key in the ledger: its `external_id` when given (a second sale with it is a
/// duplicate), else one derived from the request's Idempotency-Key, else a fresh random one.
fn ledger_key(
    external_id: Option<&str>,
    idempotency: Option<&Idempotency>,
    index: Option<usize>,
) -> String {
    match (external_id, idempotency) {
        (Some(id), _) => format!("ext:{id}"),
        (None, Some(idem)) => match index {
            Some(i) => format!("key:{}:{}:{i}", idem.key_id, idem.key),
            None => format!("key:{}:{}", idem.key_id, idem.key),
        },
        (None, None) => format!("req:{:032x}", rand::random::<u128>()),
    }
}

/// Stores one sale.
#[utoipa::path(
    post,
    path = "/api/v1/sales",
    tag = "sales",
    request_body = SaleInput,
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Any unique string up to 255 characters (a UUID): a retry with the same key and body gets the first answer again; with another body, 422 idempotency_mismatch. Kept at least 24 hours."),
    ),
    responses(
        (status = 201, description = "Stored", body = SaleOutput),
        (status = 200, description = "A sale with this external_id was stored before; nothing changed", body = SaleOutput),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No API key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the sales:write scope", body = ErrorBody),
        (status = 409, description = "A request with the same Idempotency-Key is in progress", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named), or idempotency_mismatch", body = ErrorBody),
    ),
    security(("api_key" = ["sales:write"]))
)]
pub async fn create_sale(
    State(state): State<HttpState>,
    Extension(caller): Extension<KeyInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (value, idempotency) = match prepare(
        &state,
        &caller,
        &headers,
        body,
        "POST /api/v1/sales",
        StoredAnswer::InGroup,
    )
    .await
    {
        Ok(prepared) => prepared,
        Err(answer) => return answer,
    };
    let app = &state.app;
    let intake = Intake::new(app, SaleSource::Api);
    let sale_json = match SaleJson::read(&value) {
        Ok(s) => s,
        Err(problems) => return invalid(app, idempotency.as_ref(), &problems).await,
    };
    let checked = intake.check(&sale_json.text());
    let problems = match &checked {
        Ok(_) => sale_json.all_problems(Vec::new()),
        Err(found) => sale_json.all_problems(found.clone()),
    };
    let checked = match checked {
        Ok(c) if problems.is_empty() => c,
        _ => return invalid(app, idempotency.as_ref(), &problems).await,
    };
    let key = ledger_key(checked.external_id, idempotency.as_ref(), None);
    let pending = PendingSale {
        partner: checked.partner.to_string(),
        // The partner is looked up in the group's transaction.
        new: intake.new_sale(&checked, PartnerId(0), key),
        idempotency,
    };
    // The group runs in a task of its own: a client that hangs up while its request leads a
    // group must not cancel the other requests' sales half-way.
    let group = state.sales.clone();
    let app = state.app.clone();
    let joined = tokio::spawn(async move {
        let alone = pending.clone();
        match group
            .join(pending, async |sales: Vec<PendingSale>| {
                store_group(&app, &sales).await
            })
            .await
        {
            Some(answer) => answer,
            // The leader that took this sale went away before answering (it panicked): what
            // it did was rolled back or committed as a whole, and the sale's key makes storing
            // it again safe.
            None => store_group(&app, std::slice::from_ref(&alone))
                .await
                .pop()
                .unwrap_or_else(|| ApiError::internal("a group gave no answer").into_response()),
        }
    })
    .await;
    joined.unwrap_or_else(|e| ApiError::internal(e).into_response())
}

/// The answer to an invalid `POST /api/v1/sales` body: the validation error (422), unless its
/// `Idempotency-Key` has an answer stored — then that answer's replay or the mismatch, as for a
/// valid body (whose stored answer the group commit reads).
async fn invalid(app: &App, idempotency: Option<&Idempotency>, problems: &[Problem]) -> Response {
    if let Some(idem) = idempotency {
        match idem.stored_answer(app).await {
            Ok(Some(found)) => return idem.answer(found),
            Ok(None) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    ApiError::validation(field_errors(problems, "")).into_response()
}

/// The queue of `POST /api/v1/sales` requests waiting for the running group commit.
pub type SalesQueue = GroupQueue<PendingSale, Response>;

/// A sale on its way into a group commit: checked, its partner still to be looked up.
#[derive(Clone)]
pub struct PendingSale {
    /// The partner's name or id, as sent.
    partner: String,
    /// The sale, with a placeholder partner id.
    new: NewSale,
    idempotency: Option<Idempotency>,
}

/// What became of one sale of a group before the commit.
enum Stored {
    /// In the transaction: this answer once it commits.
    Sale { status: StatusCode, body: String },
    /// Rolled back (a problem found in the database, or a database error): this answer.
    Refused(Response),
    /// Rolled back: another request stored an answer under its Idempotency-Key first (a sale
    /// earlier in this group, or a concurrent transaction); answered after the commit.
    KeyTaken(Idempotency),
    /// Nothing done: a retry, answered with what is stored under its Idempotency-Key (a
    /// replay, or the mismatch).
    Answered(Response),
}

/// Stores `sales` in one transaction, each in a savepoint; one answer per sale, in order, after
/// the commit. If the transaction cannot begin, every sale gets the internal error; if it cannot
/// commit, every sale it would have stored does, and refusals and replays keep their answers.
async fn store_group(app: &App, sales: &[PendingSale]) -> Vec<Response> {
    crate::features::contests::service::prepare_before_group(app, "api").await;
    let stored = match try_group(app, sales).await {
        Ok(stored) => stored,
        Err(e) => {
            let e = e.to_string();
            return sales
                .iter()
                .map(|_| ApiError::internal(&e).into_response())
                .collect();
        }
    };
    let mut answers = Vec::with_capacity(stored.len());
    for one in stored {
        answers.push(match one {
            Stored::Sale { status, body } => json_response(status, body),
            Stored::Refused(answer) | Stored::Answered(answer) => answer,
            Stored::KeyTaken(idem) => key_taken(app, &idem).await,
        });
    }
    answers
}

/// The group's transaction. `Err`: it could not begin, set a savepoint or commit (nothing of
/// it is stored).
///
/// A group of several sales first tries the bulk path ([`try_bulk`]) in one savepoint; the
/// sales it leaves, or all of them if it is undone, are stored one by one, each in a savepoint
/// of its own.
async fn try_group(app: &App, sales: &[PendingSale]) -> store::Result<Vec<Stored>> {
    let mut tx = app.store.begin().await?;
    let mut intake = Intake::new(app, SaleSource::Api);
    let mut savepoints = Savepoints::default();
    let mut stored = answered_before(&mut tx, sales).await?;
    if sales.len() > 1 {
        savepoints.set(&mut tx).await?;
        let decided: Vec<bool> = stored.iter().map(Option::is_some).collect();
        match try_bulk(app, &mut intake, &mut tx, sales, &decided).await {
            Ok(Some(done)) => {
                savepoints.keep();
                for (slot, one) in stored.iter_mut().zip(done) {
                    if one.is_some() {
                        *slot = one;
                    }
                }
            }
            undone => {
                if let Err(e) = undone {
                    tracing::warn!(error = %e, sales = sales.len(), "API group's bulk insert failed; storing its sales one by one");
                }
                savepoints.undo(&mut tx).await?;
            }
        }
    }
    for (sale, slot) in sales.iter().zip(stored.iter_mut()) {
        if slot.is_some() {
            continue;
        }
        savepoints.set(&mut tx).await?;
        let one = match store_one(app, &mut intake, &mut tx, sale).await {
            Ok(one) => one,
            Err(e) => Stored::Refused(ApiError::from(e).into_response()),
        };
        if matches!(one, Stored::Sale { .. }) {
            savepoints.keep();
        } else {
            savepoints.undo(&mut tx).await?;
        }
        *slot = Some(one);
    }
    let committed = tx.commit().await;
    Ok(stored
        .into_iter()
        .map(|one| match (one, &committed) {
            // Refusals and replays stand whatever became of the commit; a sale (or a key
            // this group took) did not happen if the commit failed.
            (Some(Stored::Sale { .. } | Stored::KeyTaken(_)), Err(e)) => {
                Stored::Refused(ApiError::internal(e).into_response())
            }
            (Some(one), _) => one,
            (None, _) => Stored::Refused(
                ApiError::internal("a sale of the group was left unstored").into_response(),
            ),
        })
        .collect())
}

/// The requests of the group whose `Idempotency-Key` has a stored answer (a retry): that
/// answer replayed, or the mismatch (422) when the key came with another request; they store
/// nothing. One read per API key in the group, instead of one per request before it joins.
async fn answered_before(
    tx: &mut store::Conn,
    sales: &[PendingSale],
) -> store::Result<Vec<Option<Stored>>> {
    let mut by_api_key: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
    for idem in sales.iter().filter_map(|s| s.idempotency.as_ref()) {
        by_api_key
            .entry(idem.key_id)
            .or_default()
            .push(idem.key.as_str());
    }
    let mut found = std::collections::HashMap::new();
    for (key_id, keys) in by_api_key {
        for (key, answer) in stored::stored_responses(&mut *tx, key_id, &keys).await? {
            found.insert((key_id, key), answer);
        }
    }
    Ok(sales
        .iter()
        .map(|sale| {
            let idem = sale.idempotency.as_ref()?;
            let answer = found.get(&(idem.key_id, idem.key.clone()))?;
            Some(Stored::Answered(idem.answer(answer.clone())))
        })
        .collect())
}

/// The group's sales with multi-row statements: partners looked up once each, the new sales
/// through the ledger's [`ledger::record_sales`] (one insert, one totals upsert per partner),
/// read back in one statement, and their `Idempotency-Key` answers stored in one. Returns one
/// slot per sale: `None` for those `decided` already ([`answered_before`]) and for those left
/// to [`store_one`] (a sale whose key was stored before, or a request repeating an earlier
/// request's `Idempotency-Key`, which finds it taken there).
/// `Ok(None)`: another transaction stored one of the answers first, or an answer could not be
/// written: the caller undoes all of it and stores the group one by one.
async fn try_bulk(
    app: &App,
    intake: &mut Intake<'_>,
    tx: &mut store::Conn,
    sales: &[PendingSale],
    decided: &[bool],
) -> store::Result<Option<Vec<Option<Stored>>>> {
    let mut done: Vec<Option<Stored>> = (0..sales.len()).map(|_| None).collect();
    let mut keys = std::collections::HashSet::new();
    let mut news = Vec::with_capacity(sales.len());
    let mut indexes = Vec::with_capacity(sales.len());
    for (index, sale) in sales.iter().enumerate() {
        if decided[index] {
            continue;
        }
        if let Some(idem) = &sale.idempotency
            && !keys.insert((idem.key_id, idem.key.as_str()))
        {
            continue;
        }
        match intake.partner(&mut *tx, &sale.partner).await? {
            Ok(partner) => {
                let mut new = sale.new.clone();
                new.partner_id = partner;
                news.push(new);
                indexes.push(index);
            }
            Err(problem) => {
                let refused = ApiError::validation(field_errors(&[problem], ""));
                done[index] = Some(Stored::Refused(refused.into_response()));
            }
        }
    }
    let now = app.now();
    let ids = ledger::record_sales(app, &mut *tx, &news, now).await?;
    // `record_sales` booked the points; the sales badges are the caller's to check, once for
    // the partners of the group's new approved sales.
    let approved: Vec<(SaleId, PartnerId)> = news
        .iter()
        .zip(&ids)
        .filter_map(|(new, id)| match id {
            Some(id) if new.status == SaleStatus::Approved => Some((*id, new.partner_id)),
            _ => None,
        })
        .collect();
    badges::check_after_new_sales(app, &mut *tx, &approved, now).await?;
    let new_ids: Vec<i64> = ids.iter().flatten().map(|id| id.0).collect();
    let records = stored::sale_records(&mut *tx, &new_ids).await?;
    let mut answers: Vec<(i64, &str, StoredResponse)> = Vec::new();
    for (index, id) in indexes.into_iter().zip(ids) {
        let Some(id) = id else {
            continue;
        };
        let record = records
            .get(&id.0)
            .ok_or_else(|| store::StoreError::Corrupt(format!("sale {id} vanished")))?;
        let Ok(body) = serde_json::to_string(&sale_output(record, app.config.program.currency))
        else {
            return Ok(None);
        };
        if let Some(idem) = &sales[index].idempotency {
            answers.push((
                idem.key_id,
                idem.key.as_str(),
                idem.response(StatusCode::CREATED, &body),
            ));
        }
        done[index] = Some(Stored::Sale {
            status: StatusCode::CREATED,
            body,
        });
    }
    let keyed: Vec<(i64, &str, &StoredResponse)> = answers
        .iter()
        .map(|(key_id, key, response)| (*key_id, *key, response))
        .collect();
    if !stored::store_responses(&mut *tx, &keyed, now).await? {
        return Ok(None);
    }
    Ok(Some(done))
}

/// One sale of a group, on the group's transaction (inside its savepoint).
async fn store_one(
    app: &App,
    intake: &mut Intake<'_>,
    tx: &mut store::Conn,
    sale: &PendingSale,
) -> store::Result<Stored> {
    let partner = match intake.partner(&mut *tx, &sale.partner).await? {
        Ok(id) => id,
        Err(problem) => {
            let refused = ApiError::validation(field_errors(&[problem], ""));
            return Ok(Stored::Refused(refused.into_response()));
        }
    };
    let mut new = sale.new.clone();
    new.partner_id = partner;
    let (status, id) = match intake.record(&mut *tx, &new).await? {
        Inserted::New(sale) => (StatusCode::CREATED, sale.id.0),
        Inserted::Existing(sale) => (StatusCode::OK, sale.id.0),
    };
    let record = stored::sale_record(&mut *tx, id)
        .await?
        .ok_or_else(|| store::StoreError::Corrupt(format!("sale {id} vanished")))?;
    let output = sale_output(&record, app.config.program.currency);
    let body = match serde_json::to_string(&output) {
        Ok(b) => b,
        Err(e) => return Ok(Stored::Refused(ApiError::internal(e).into_response())),
    };
    if let Some(idem) = &sale.idempotency {
        let response = idem.response(status, &body);
        if !stored::store_response(&mut *tx, idem.key_id, &idem.key, &response, app.now()).await? {
            return Ok(Stored::KeyTaken(idem.clone()));
        }
    }
    Ok(Stored::Sale { status, body })
}

/// Stores up to 1,000 sales as the CSV import does: good ones are kept, bad ones reported.
#[utoipa::path(
    post,
    path = "/api/v1/sales/batch",
    tag = "sales",
    request_body = BatchInput,
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "As for POST /api/v1/sales: a retry with the same key and body gets the first answer again."),
    ),
    responses(
        (status = 200, description = "Each sale's result, in request order", body = BatchOutput),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No API key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks the sales:write scope", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "`sales` missing, not a list or over 1,000; or idempotency_mismatch", body = ErrorBody),
    ),
    security(("api_key" = ["sales:write"]))
)]
pub async fn create_batch(
    State(state): State<HttpState>,
    Extension(caller): Extension<KeyInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (value, idempotency) = match prepare(
        &state,
        &caller,
        &headers,
        body,
        "POST /api/v1/sales/batch",
        StoredAnswer::Check,
    )
    .await
    {
        Ok(prepared) => prepared,
        Err(answer) => return answer,
    };
    let sales = match value.get("sales") {
        Some(Value::Array(sales)) if sales.len() <= MAX_BATCH => sales,
        Some(Value::Array(sales)) => {
            return ApiError::field(
                "sales",
                format!(
                    "{} sales given; at most {MAX_BATCH} per request",
                    sales.len()
                ),
            )
            .into_response();
        }
        Some(_) => return ApiError::field("sales", "sales must be a list").into_response(),
        None => return ApiError::field("sales", "sales is required").into_response(),
    };
    if let Some(other) = value
        .as_object()
        .and_then(|o| o.keys().find(|k| k.as_str() != "sales"))
    {
        return ApiError::field("body", format!("unknown field {other:?}; allowed: sales"))
            .into_response();
    }
    let app = &state.app;
    let mut tx = match app.store.begin().await {
        Ok(tx) => tx,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let results = async {
        let mut intake = Intake::new(app, SaleSource::Api);
        let mut results = Vec::with_capacity(sales.len());
        let (mut created, mut duplicates, mut rejected) = (0u64, 0u64, 0u64);
        for (index, value) in sales.iter().enumerate() {
            let prefix = format!("sales[{index}].");
            let reject = |problems: &[Problem]| BatchResult {
                index,
                status: "rejected",
                id: None,
                errors: field_errors(problems, &prefix),
            };
            let sale_json = match SaleJson::read(value) {
                Ok(s) => s,
                Err(problems) => {
                    rejected += 1;
                    results.push(reject(&problems));
                    continue;
                }
            };
            let checked = intake.check(&sale_json.text());
            let problems = match &checked {
                Ok(_) => sale_json.all_problems(Vec::new()),
                Err(found) => sale_json.all_problems(found.clone()),
            };
            let checked = match checked {
                Ok(c) if problems.is_empty() => c,
                _ => {
                    rejected += 1;
                    results.push(reject(&problems));
                    continue;
                }
            };
            let partner = match intake.partner(&mut tx, checked.partner).await? {
                Ok(id) => id,
                Err(problem) => {
                    rejected += 1;
                    results.push(reject(&[problem]));
                    continue;
                }
            };
            let key = ledger_key(checked.external_id, idempotency.as_ref(), Some(index));
            let new = intake.new_sale(&checked, partner, key);
            let (status, id) = match intake.record(&mut tx, &new).await? {
                Inserted::New(sale) => {
                    created += 1;
                    ("created", sale.id.0)
                }
                Inserted::Existing(sale) => {
                    duplicates += 1;
                    ("duplicate", sale.id.0)
                }
            };
            results.push(BatchResult {
                index,
                status,
                id: Some(id),
                errors: Vec::new(),
            });
        }
        audit::record(
            &mut tx,
            None,
            AuditAction::SalesImport,
            &format!("API key {}", caller.name),
            None,
            Some(&serde_json::json!({
                "imported": created,
                "duplicates": duplicates,
                "rejected": rejected,
                "source": "api",
            })),
            intake.now(),
        )
        .await?;
        Ok::<_, store::StoreError>(results)
    }
    .await;
    let results = match results {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = match serde_json::to_string(&BatchOutput { results }) {
        Ok(b) => b,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    finish(&state, tx, idempotency, StatusCode::OK, body).await
}
