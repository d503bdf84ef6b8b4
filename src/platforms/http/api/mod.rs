//! The HTTP API under `/api/v1` for finance and ERP systems: Bearer API keys with scopes
//! (`features::api_keys`), JSON in and out, errors as [`error::ErrorBody`], bodies up to
//! [`MAX_BODY_BYTES`].

pub mod error;
pub mod reads;
pub mod sales;

use axum::extract::{DefaultBodyLimit, Extension, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::ApiError;
use super::HttpState;
use crate::features::api_keys::{self, KeyInfo, Scope};

/// Largest request body: 1 MiB (a batch of 1,000 sales fits in about a quarter of it).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The `/api/v1` routes, documented as they are registered.
pub fn routes() -> OpenApiRouter<HttpState> {
    let writes = OpenApiRouter::new()
        .routes(routes!(sales::create_sale))
        .routes(routes!(sales::create_batch))
        .route_layer(middleware::from_fn(async |req: Request, next: Next| {
            require(Scope::SalesWrite, req, next).await
        }));
    let reads = OpenApiRouter::new()
        .routes(routes!(reads::leaderboard))
        .routes(routes!(reads::statements_of_period))
        .routes(routes!(reads::partner_statement))
        .routes(routes!(reads::list_partners))
        .route_layer(middleware::from_fn(async |req: Request, next: Next| {
            require(Scope::Read, req, next).await
        }));
    writes
        .merge(reads)
        .route_layer(middleware::from_fn(authenticate))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The key in `Authorization: Bearer <key>`, checked against the database on every request.
async fn authenticate(
    Extension(state): Extension<HttpState>,
    mut req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let Some(presented) = presented else {
        return ApiError::unauthorized(
            "no API key: send it as `Authorization: Bearer <key>` (create one with `rally apikey create`)",
        )
        .into_response();
    };
    let Some(key) = presented
        .strip_prefix("Bearer ")
        .or_else(|| presented.strip_prefix("bearer "))
    else {
        return ApiError::unauthorized("the Authorization header must read `Bearer <key>`")
            .into_response();
    };
    let found = async {
        let mut conn = state.app.store.read().await?;
        api_keys::authenticate(&mut conn, key.trim()).await
    }
    .await;
    match found {
        Ok(Some(info)) => {
            req.extensions_mut().insert(info);
            next.run(req).await
        }
        Ok(None) => ApiError::unauthorized("the API key is unknown or revoked").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// 403 unless the authenticated key has `scope`.
async fn require(scope: Scope, req: Request, next: Next) -> Response {
    let allowed = req
        .extensions()
        .get::<KeyInfo>()
        .is_some_and(|key| key.allows(scope));
    if !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key lacks the {scope} scope"),
        )
        .into_response();
    }
    next.run(req).await
}
