//! Telegram's webhook: `POST /telegram/webhook/<secret>`, checked against the secret header,
//! stored in the inbox before Telegram gets its 200.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::Telegram;

/// The header Telegram sends the webhook secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
struct WebhookState {
    telegram: Telegram,
    secret: String,
}

/// The webhook route for Rally's HTTP server.
pub fn routes(telegram: Telegram, secret: String) -> Router {
    Router::new()
        .route(
            &format!("/telegram/webhook/{secret}"),
            post(telegram_update),
        )
        .with_state(WebhookState { telegram, secret })
}

/// Stores the update before answering 200, so Telegram redelivers anything not stored.
async fn telegram_update(
    State(state): State<WebhookState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let given = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
    if given != Some(state.secret.as_str()) {
        tracing::warn!("webhook call with a wrong or missing secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: teloxide::types::Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            // Telegram would redeliver forever; an update we cannot read is logged and dropped.
            tracing::warn!(error = %e, "unreadable webhook update ignored");
            return StatusCode::OK;
        }
    };
    match state.telegram.accept(&update).await {
        Ok(_) => {
            state.telegram.wake();
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook update not stored; Telegram will redeliver");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
