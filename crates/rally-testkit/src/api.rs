//! Rally's HTTP server (API, metrics, TV page) in the test's process on a free port, on a
//! test database with two partners and an API key of each kind.

use std::sync::Arc;

use rally::app::App;
use rally::config::Config;
use rally::engine::partner::PartnerKind;
use rally::features::api_keys::{self, Scope};
use rally::platforms::http::{self, HttpState};
use rally::store::partners::{self, NewPartner};
use reqwest::StatusCode;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{TestClock, TestDb};

/// Rally's HTTP server on a free port, with keys of each kind.
pub struct ApiServer {
    pub base: String,
    pub app: Arc<App>,
    pub client: reqwest::Client,
    /// sales:write + read.
    pub writer: String,
    /// read only.
    pub reader: String,
    /// tv only.
    pub tv: String,
    pub stop: CancellationToken,
    /// The server's state (its group commit statistics: [`HttpState::sales_groups`]).
    pub state: HttpState,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl ApiServer {
    /// Starts the server on `db` (the test clock at 2026-11-15) with partners "ACME Trading"
    /// (id 1) and "王氏电子" (id 2).
    pub async fn start(db: &TestDb) -> ApiServer {
        ApiServer::start_with(db, |_| {}).await
    }

    /// [`ApiServer::start`] with the test configuration changed by `adjust`.
    pub async fn start_with(db: &TestDb, adjust: impl FnOnce(&mut Config)) -> ApiServer {
        let mut config = crate::test_config(&db.url);
        adjust(&mut config);
        let app = App::new(
            db.store.clone(),
            Arc::new(config),
            Box::new(TestClock::new()),
        )
        .expect("app");
        let app = Arc::new(app);
        let mut tx = app.store.begin().await.expect("begin");
        for name in ["ACME Trading", "王氏电子"] {
            let new = NewPartner {
                name: name.into(),
                kind: PartnerKind::Dealer,
                region: Some("East".into()),
                tier: None,
                potential_minor: None,
            };
            partners::insert(&mut tx, &new, 0)
                .await
                .expect("insert")
                .expect("new partner");
        }
        tx.commit().await.expect("commit");
        let key = async |name: &str, scopes: &[Scope]| {
            api_keys::create(&app, name, scopes)
                .await
                .expect("key")
                .secret
        };
        let writer = key("erp", &[Scope::SalesWrite, Scope::Read]).await;
        let reader = key("bi", &[Scope::Read]).await;
        let tv = key("lobby", &[Scope::Tv]).await;
        let stop = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = HttpState::new(app.clone(), stop.clone());
        let router = http::router(state.clone(), []);
        tokio::spawn(http::serve_on(listener, router, stop.clone()));
        ApiServer {
            base,
            app,
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            writer,
            reader,
            tv,
            stop,
            state,
        }
    }

    /// POSTs `body` as JSON; the status and the JSON answer (`Null` if not JSON).
    pub async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        idem: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(idem) = idem {
            request = request.header("Idempotency-Key", idem);
        }
        let response = request.send().await.expect("send");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path`; the status and the JSON answer.
    pub async fn get(&self, path: &str, key: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("send");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sales stored.
    pub async fn count_sales(&self) -> i64 {
        let mut conn = self.app.store.read().await.expect("conn");
        let row = sqlx::query("SELECT COUNT(*) AS n FROM sales")
            .fetch_one(&mut *conn)
            .await
            .expect("count");
        sqlx::Row::get(&row, "n")
    }
}
