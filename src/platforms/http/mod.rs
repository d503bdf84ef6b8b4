//! Rally's one HTTP server: liveness and readiness, Prometheus metrics, the API for finance
//! and ERP systems (`/api/v1`, documented at `/api/openapi.json`), the TV page, and the routes
//! platform adapters bring (the Telegram webhook in webhook mode).
//!
//! Every route but the adapters' is registered through `utoipa_axum`, so the OpenAPI document
//! is generated from the same registrations that serve the requests.

pub mod api;
pub mod tv;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Extension, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;

/// How long stored `Idempotency-Key` answers are kept: at least 24 h, as Stripe does.
pub const IDEMPOTENCY_KEEP: Duration = Duration::from_secs(24 * 3600);
/// How often expired idempotency answers are deleted.
const IDEMPOTENCY_SWEEP: Duration = Duration::from_secs(3600);

/// What every handler shares.
#[derive(Clone)]
pub struct HttpState {
    pub app: Arc<App>,
    /// Cancelled when the service stops: open event streams end on it.
    pub shutdown: CancellationToken,
    metrics: Option<PrometheusHandle>,
    tv: Arc<tv::TvHub>,
    /// `POST /api/v1/sales` requests waiting for the running group commit.
    sales: Arc<api::sales::SalesQueue>,
}

impl HttpState {
    /// The state for `app`; installs the process's metrics recorder (once per process).
    pub fn new(app: Arc<App>, shutdown: CancellationToken) -> HttpState {
        HttpState {
            app,
            shutdown,
            metrics: crate::telemetry::install(),
            tv: Arc::new(tv::TvHub::default()),
            sales: Arc::new(api::sales::SalesQueue::new("api")),
        }
    }

    /// How the `POST /api/v1/sales` requests were grouped into commits so far.
    pub fn sales_groups(&self) -> crate::store::group::GroupStats {
        self.sales.stats()
    }
}

/// The documented routes, without state.
fn documented() -> OpenApiRouter<HttpState> {
    OpenApiRouter::with_openapi(base_document())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(tv::tv_period))
        .routes(routes!(tv::tv_contest))
        .merge(api::routes())
}

fn base_document() -> OpenApi {
    let mut doc = OpenApi::default();
    doc.info = InfoBuilder::new()
        .title("Rally")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Channel-partner incentives: sales in, leaderboards and statements out. \
             Money is a decimal string in major units plus a currency code.",
        ))
        .build();
    SecuritySchemes.modify(&mut doc);
    doc
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `rally apikey create`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "tv_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("token"))),
        );
    }
}

/// The OpenAPI 3.1 document of every route (built once).
pub fn openapi() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| documented().into_openapi())
}

/// The router: Rally's routes plus the routes platforms bring (the Telegram webhook).
pub fn router(state: HttpState, platform_routes: impl IntoIterator<Item = Router>) -> Router {
    let (routes, _) = documented().split_for_parts();
    let rally = routes
        .layer(Extension(state.clone()))
        .with_state(state)
        .layer(middleware::from_fn(count_request));
    platform_routes.into_iter().fold(rally, Router::merge)
}

/// Counts every request by its route pattern and status, and how long it took.
async fn count_request(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    crate::telemetry::http_request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and has every migration this build knows.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = String),
        (status = 503, description = "Database unreachable or migrations missing", body = String),
    ))]
async fn readyz(State(state): State<HttpState>) -> (StatusCode, String) {
    let check =
        tokio::time::timeout(Duration::from_secs(5), state.app.store.migrations_current()).await;
    match check {
        Ok(Ok(true)) => (StatusCode::OK, "ready".into()),
        Ok(Ok(false)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database migrations are not current: run `rally migrate`".into(),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable".into(),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database did not answer within 5 s".into(),
        ),
    }
}

/// Prometheus metrics, text format; every name starts with `rally_`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<HttpState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            crate::telemetry::render(handle, &state.app.store),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not available in this process",
        )
            .into_response(),
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> Response {
    match openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => api::error::ApiError::internal(e).into_response(),
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
    serve_on(listener, router, shutdown).await
}

/// Serves `router` on a bound listener until `shutdown` (tests bind port 0 themselves).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let listen = listener.local_addr()?;
    tracing::info!(%listen, "HTTP server listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

/// Deletes stored idempotency answers older than [`IDEMPOTENCY_KEEP`], hourly, until
/// `shutdown`. Safe in several instances at once (each delete is idempotent).
pub async fn sweep_idempotency(app: Arc<App>, shutdown: CancellationToken) {
    loop {
        let before = app.now() - i64::try_from(IDEMPOTENCY_KEEP.as_millis()).unwrap_or(i64::MAX);
        let swept = async {
            let mut tx = app.store.begin().await?;
            let n = crate::store::api::forget_responses(&mut tx, before).await?;
            tx.commit().await?;
            Ok::<_, crate::store::StoreError>(n)
        }
        .await;
        match swept {
            Ok(n) if n > 0 => tracing::info!(n, "expired idempotency keys forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expired idempotency keys not swept"),
        }
        tokio::select! {
            _ = tokio::time::sleep(IDEMPOTENCY_SWEEP) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}
