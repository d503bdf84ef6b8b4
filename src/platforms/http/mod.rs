//! Rally's one HTTP server: health, and the routes adapters bring (the Telegram webhook in
//! webhook mode). Metrics, the API and the TV page join it later.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

/// The router: `GET /healthz`, plus the routes platforms bring (the Telegram webhook).
pub fn router(platform_routes: impl IntoIterator<Item = Router>) -> Router {
    platform_routes.into_iter().fold(
        Router::new().route("/healthz", get(|| async { "ok" })),
        Router::merge,
    )
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
