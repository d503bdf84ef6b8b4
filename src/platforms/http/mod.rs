//! Rally's one HTTP server: health, and the Telegram webhook in webhook mode. (Metrics, the API
//! and the TV page join it later.)

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::platforms::telegram::Telegram;

/// The header Telegram sends the webhook secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
struct WebhookState {
    telegram: Telegram,
    secret: String,
}

/// The router: `GET /healthz`, and `POST /telegram/webhook/<secret>` when `webhook` is given.
pub fn router(webhook: Option<(Telegram, String)>) -> Router {
    let router = Router::new().route("/healthz", get(|| async { "ok" }));
    match webhook {
        Some((telegram, secret)) => router.merge(
            Router::new()
                .route(
                    &format!("/telegram/webhook/{secret}"),
                    post(telegram_update),
                )
                .with_state(WebhookState { telegram, secret }),
        ),
        None => router,
    }
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

/// Serves `router` on `listen` until `shutdown`.
pub async fn serve(
    listen: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(%listen, "HTTP server listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}
