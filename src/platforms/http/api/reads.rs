//! The API's reads: `GET /api/v1/leaderboard`, `/statements`, `/statements/{partner}`,
//! `/partners`. Money is a decimal string in major units of the program currency.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use crate::app::App;
use crate::engine::money::Money;
use crate::engine::period::Period;
use crate::features::ranking::board::{self, BoardError, BoardRef};
use crate::features::statements::service as statements;
use crate::platforms::http::HttpState;
use crate::store::partners::{self, Lookup};

/// Most places a leaderboard request may ask for.
const MAX_LIMIT: usize = 100;

fn program_decimal(app: &App, minor: i64) -> String {
    Money::from_minor(minor, app.config.program.currency)
        .amount()
        .to_string()
}

/// `period=YYYY-MM` (or the program's own period form), defaulting to the current period.
fn period_param(app: &App, text: Option<&str>) -> Result<Period, ApiError> {
    match text {
        None => Ok(app.period_at(app.now())),
        Some(text) => Period::parse(text)
            .filter(|p| p.kind() == app.config.program.period)
            .ok_or_else(|| {
                ApiError::field(
                    "period",
                    format!(
                        "bad period {text:?}: this program's periods are {}s, written like {}",
                        app.config.program.period.as_str(),
                        app.period_at(app.now()).key()
                    ),
                )
            }),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// `YYYY-MM` (the program's period form); the current period when neither this nor
    /// `contest` is given.
    period: Option<String>,
    /// A contest's id, instead of a period.
    contest: Option<String>,
    /// Places to show, 1 to 100; 10 by default.
    limit: Option<usize>,
}

/// A leaderboard.
#[derive(Serialize, ToSchema)]
pub struct LeaderboardOutput {
    /// The period, when the board is a period's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The contest, when the board is a contest's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest: Option<String>,
    pub currency: String,
    /// `approved` (approved sales count) or `provisional` (pending ones too).
    pub basis: &'static str,
    pub entries: Vec<LeaderboardEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct LeaderboardEntry {
    pub rank: u64,
    pub partner_id: i64,
    pub partner: String,
    /// Decimal string in major units of `currency`.
    pub value: String,
}

/// The top places of a period's (or a contest's) ranking.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboard",
    tag = "reads",
    params(LeaderboardQuery),
    responses(
        (status = 200, body = LeaderboardOutput),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The key lacks the read scope", body = ErrorBody),
        (status = 404, description = "Unknown contest", body = ErrorBody),
        (status = 422, description = "Bad period or limit", body = ErrorBody),
    ),
    security(("api_key" = ["read"]))
)]
pub async fn leaderboard(
    State(state): State<HttpState>,
    Query(query): Query<LeaderboardQuery>,
) -> Result<Json<LeaderboardOutput>, ApiError> {
    let app = &state.app;
    let limit = query.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("limit must be from 1 to {MAX_LIMIT}"),
        ));
    }
    let board_ref = match (&query.contest, query.period.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "contest",
                "give either period or contest, not both",
            ));
        }
        (Some(contest), None) => BoardRef::Contest(contest.clone()),
        (None, period) => BoardRef::Period(period_param(app, period)?),
    };
    let standings = board::standings(app, &board_ref, limit)
        .await
        .map_err(board_error)?;
    Ok(Json(LeaderboardOutput {
        period: match &board_ref {
            BoardRef::Period(p) => Some(p.key()),
            BoardRef::Contest(_) => None,
        },
        contest: match &board_ref {
            BoardRef::Contest(c) => Some(c.clone()),
            BoardRef::Period(_) => None,
        },
        currency: app.config.program.currency.code().to_string(),
        basis: standings.basis,
        entries: standings
            .entries
            .iter()
            .map(|e| LeaderboardEntry {
                rank: e.rank,
                partner_id: e.partner_id,
                partner: e.partner.clone(),
                value: program_decimal(app, e.value_minor),
            })
            .collect(),
    }))
}

pub(crate) fn board_error(e: BoardError) -> ApiError {
    match e {
        BoardError::UnknownContest(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_contest", e.to_string())
        }
        BoardError::Store(e) => ApiError::from(e),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `YYYY-MM` (the program's period form); the current period by default.
    period: Option<String>,
}

/// One statement line, as `rally export statements` writes it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // Documents the export shape, which the handlers build as JSON.
pub struct StatementLineOutput {
    id: u32,
    kind: String,
    description: String,
    base: String,
    rate: Option<String>,
    amount: String,
}

/// A statement, as `rally export statements` writes it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // As `StatementLineOutput`.
pub struct StatementOutput {
    partner: String,
    period: String,
    currency: String,
    plan: Option<String>,
    lines: Vec<StatementLineOutput>,
    total: String,
}

/// Every statement of a period (locked snapshots when closed, else drafts), in the export's
/// JSON shape.
#[utoipa::path(
    get,
    path = "/api/v1/statements",
    tag = "reads",
    params(PeriodQuery),
    responses(
        (status = 200, body = Vec<StatementOutput>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = ["read"]))
)]
pub async fn statements_of_period(
    State(state): State<HttpState>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = &state.app;
    let period = period_param(app, query.period.as_deref())?;
    let docs = statements::statements_of_period(app, period).await?;
    Ok(Json(statements::export_json(&docs)))
}

/// One partner's statement for a period, in the export's JSON shape.
#[utoipa::path(
    get,
    path = "/api/v1/statements/{partner}",
    tag = "reads",
    params(
        ("partner" = String, Path, description = "Partner id or name"),
        PeriodQuery,
    ),
    responses(
        (status = 200, body = StatementOutput),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown partner", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = ["read"]))
)]
pub async fn partner_statement(
    State(state): State<HttpState>,
    Path(partner): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = &state.app;
    let period = period_param(app, query.period.as_deref())?;
    let mut conn = app.store.read().await?;
    let partner = match partners::find_by_name_or_id(&mut conn, &partner).await? {
        Lookup::Found(p) => p,
        Lookup::Unknown => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_partner",
                format!("no partner has the name or id {partner:?}"),
            ));
        }
        Lookup::Ambiguous { by_name, by_id } => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_partner",
                format!(
                    "partner {partner:?} is ambiguous: it is the name of partner {} and the id of {:?}",
                    by_name.id, by_id.name
                ),
            ));
        }
    };
    let doc = statements::statement(app, &mut conn, &partner, period).await?;
    let mut docs = statements::export_json(&[doc]);
    Ok(Json(
        docs.as_array_mut()
            .and_then(|a| a.pop())
            .unwrap_or_default(),
    ))
}

/// Partners.
#[derive(Serialize, ToSchema)]
pub struct PartnersOutput {
    pub partners: Vec<PartnerOutput>,
}

#[derive(Serialize, ToSchema)]
pub struct PartnerOutput {
    pub id: i64,
    pub name: String,
    /// dealer, agent, wholesaler, retailer or distributor.
    pub kind: String,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub status: String,
}

/// Every partner.
#[utoipa::path(
    get,
    path = "/api/v1/partners",
    tag = "reads",
    responses(
        (status = 200, body = PartnersOutput),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("api_key" = ["read"]))
)]
pub async fn list_partners(
    State(state): State<HttpState>,
) -> Result<Json<PartnersOutput>, ApiError> {
    let mut conn = state.app.store.read().await?;
    let list = partners::list(&mut conn).await?;
    Ok(Json(PartnersOutput {
        partners: list
            .into_iter()
            .map(|p| PartnerOutput {
                id: p.id.0,
                name: p.name,
                kind: p.kind.to_string(),
                region: p.region,
                tier: p.tier,
                status: p.status.as_str().to_string(),
            })
            .collect(),
    }))
}
