//! The HTTP API (`/api/v1`) over real HTTP on SQLite and PostgreSQL (when
//! `RALLY_TEST_POSTGRES_URL` is set): the auth matrix and scopes, revocation, sales with
//! validation and Idempotency-Key replays, batches with the CSV import's semantics, the reads,
//! the OpenAPI document covering every route, /readyz and the metrics after traffic.

use rally::features::api_keys::{self, Scope};
use rally::platforms::http;
use rally_testkit::api::ApiServer;
use rally_testkit::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn sale(partner: Value, amount: &str, external_id: Option<&str>) -> Value {
    let mut sale = json!({
        "partner": partner,
        "amount": amount,
        "currency": "CNY",
        "date": "2026-11-10",
        "customer": "Globex",
        "category": "software",
        "quantity": 2,
    });
    if let Some(id) = external_id {
        sale["external_id"] = json!(id);
    }
    sale
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

on_both_backends!(
    auth_matrix_and_scopes,
    sale_is_stored_and_read_back,
    idempotency_replays_and_refuses_another_body,
    bad_input_is_refused_and_stores_nothing,
    batch_keeps_good_sales_and_reports_bad_ones,
    readiness_and_metrics_after_traffic,
    contest_leaderboard_reads_the_contest_board,
);

async fn auth_matrix_and_scopes(db: &TestDb) {
    let server = ApiServer::start(db).await;
    let body = sale(json!("ACME Trading"), "100.00", None).to_string();
    let routes_get = [
        "/api/v1/leaderboard",
        "/api/v1/statements",
        "/api/v1/statements/1",
        "/api/v1/partners",
    ];
    // No key, a malformed one, an unknown one: 401 everywhere.
    for key in [
        None,
        Some("nonsense"),
        Some("rk_abcdefgh_0000000000000000000000000000000"),
    ] {
        for path in routes_get {
            let (status, answer) = server.get(path, key).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {key:?}");
            assert_eq!(code(&answer), "unauthorized");
        }
        for path in ["/api/v1/sales", "/api/v1/sales/batch"] {
            let (status, answer) = server.post(path, key, None, &body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {key:?}");
            assert_eq!(code(&answer), "unauthorized");
        }
    }
    // A read key reads but cannot post; a TV key does neither.
    for path in routes_get {
        assert_eq!(
            server.get(path, Some(&server.reader)).await.0,
            StatusCode::OK,
            "{path}"
        );
        let (status, answer) = server.get(path, Some(&server.tv)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(code(&answer), "forbidden");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("read")
        );
    }
    for key in [&server.reader, &server.tv] {
        let (status, answer) = server.post("/api/v1/sales", Some(key), None, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("sales:write")
        );
    }
    // The operational routes need no key.
    for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json"] {
        let status = server
            .client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("send")
            .status();
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // Revocation takes effect with the next request.
    let (status, _) = server
        .post("/api/v1/sales", Some(&server.writer), None, &body)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    api_keys::revoke(&server.app, "erp")
        .await
        .expect("revoke")
        .expect("revoked");
    let (status, answer) = server
        .post("/api/v1/sales", Some(&server.writer), None, &body)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked")
    );
    assert_eq!(server.count_sales().await, 1);
}

async fn sale_is_stored_and_read_back(db: &TestDb) {
    let server = ApiServer::start(db).await;
    let (status, stored) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            None,
            &sale(json!("王氏电子"), "12500.00", Some("INV-1")).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(stored["partner"], "王氏电子");
    assert_eq!(stored["amount"], "12500.00");
    assert_eq!(stored["currency"], "CNY");
    assert_eq!(stored["program_amount"], "12500.00");
    assert_eq!(stored["date"], "2026-11-10");
    assert_eq!(stored["period"], "2026-11");
    assert_eq!(stored["quantity"], 2);
    assert_eq!(stored["external_id"], "INV-1");
    assert_eq!(stored["status"], "approved");
    // By id, in dollars (converted at the demo's 7.1), unverified: pending.
    let mut usd = sale(json!(1), "100.50", None);
    usd["currency"] = json!("USD");
    usd["verified"] = json!(false);
    let (status, pending) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            None,
            &usd.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pending}");
    assert_eq!(pending["partner"], "ACME Trading");
    assert_eq!(pending["amount"], "100.50");
    assert_eq!(pending["program_amount"], "713.55");
    assert_eq!(pending["status"], "pending");
    // The same external_id again: the stored sale, nothing new.
    let (status, again) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            None,
            &sale(json!("王氏电子"), "12500.00", Some("INV-1")).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], stored["id"]);
    assert_eq!(server.count_sales().await, 2);

    let (status, board) = server
        .get(
            "/api/v1/leaderboard?period=2026-11&limit=5",
            Some(&server.reader),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(board["period"], "2026-11");
    assert_eq!(board["entries"][0]["rank"], 1);
    assert_eq!(board["entries"][0]["partner"], "王氏电子");
    assert_eq!(board["entries"][0]["value"], "12500.00");
    assert_eq!(
        board["entries"].as_array().map(Vec::len),
        Some(1),
        "pending sales do not rank"
    );
    // The current period is the default (the test clock says 2026-11-15).
    let (_, current) = server
        .get("/api/v1/leaderboard", Some(&server.reader))
        .await;
    assert_eq!(current["period"], "2026-11");
    let (status, contest) = server
        .get("/api/v1/leaderboard?contest=spring", Some(&server.reader))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&contest), "unknown_contest");
    let (status, bad) = server
        .get("/api/v1/leaderboard?period=2026-Q4", Some(&server.reader))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad), vec!["period"]);

    let (status, list) = server
        .get("/api/v1/statements?period=2026-11", Some(&server.reader))
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().cloned().unwrap_or_default();
    // Both partners have sales in the period (ACME's is pending, so its total is 0).
    let totals: Vec<(&str, &str)> = list
        .iter()
        .filter_map(|s| Some((s["partner"].as_str()?, s["total"].as_str()?)))
        .collect();
    assert_eq!(totals, vec![("ACME Trading", "0"), ("王氏电子", "1250.00")]);
    let list = [list[1].clone()];
    assert_eq!(list[0]["currency"], "CNY");
    let (status, one) = server
        .get(
            "/api/v1/statements/%E7%8E%8B%E6%B0%8F%E7%94%B5%E5%AD%90?period=2026-11",
            Some(&server.reader),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["partner"], "王氏电子");
    assert_eq!(one["total"], list[0]["total"]);
    let (status, unknown) = server
        .get("/api/v1/statements/Nobody", Some(&server.reader))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&unknown), "unknown_partner");

    let (status, partners) = server.get("/api/v1/partners", Some(&server.reader)).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = partners["partners"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["ACME Trading", "王氏电子"]);
}

async fn idempotency_replays_and_refuses_another_body(db: &TestDb) {
    let server = ApiServer::start(db).await;
    let body = sale(json!("ACME Trading"), "250.00", None);
    let (status, first) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            Some("order-77"),
            &body.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // The same key and body, written differently (keys reordered, spaces): the first answer.
    let reordered = "{ \"quantity\": 2, \"category\": \"software\", \"customer\": \"Globex\", \
         \"date\": \"2026-11-10\", \"currency\": \"CNY\", \"amount\": \"250.00\", \
         \"partner\": \"ACME Trading\" }";
    let response = server
        .client
        .post(format!("{}/api/v1/sales", server.base))
        .bearer_auth(&server.writer)
        .header("Idempotency-Key", "order-77")
        .header("content-type", "application/json")
        .body(reordered)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let replay: Value = response.json().await.expect("json");
    assert_eq!(replay, first);
    assert_eq!(server.count_sales().await, 1);
    // The same key with another body.
    let other = sale(json!("ACME Trading"), "260.00", None);
    let (status, mismatch) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            Some("order-77"),
            &other.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&mismatch), "idempotency_mismatch");
    // The same key with an invalid body: the mismatch too, not the body's validation error.
    let invalid = sale(json!("ACME Trading"), "not money", None);
    let (status, mismatch) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            Some("order-77"),
            &invalid.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&mismatch), "idempotency_mismatch");
    // ... and on the other route.
    let batch = json!({ "sales": [body] }).to_string();
    let (status, mismatch) = server
        .post(
            "/api/v1/sales/batch",
            Some(&server.writer),
            Some("order-77"),
            &batch,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&mismatch), "idempotency_mismatch");
    assert_eq!(server.count_sales().await, 1);
    // Keys belong to their API key: another caller's "order-77" is its own.
    let second = api_keys::create(&server.app, "erp-2", &[Scope::SalesWrite])
        .await
        .expect("key")
        .secret;
    let (status, _) = server
        .post(
            "/api/v1/sales",
            Some(&second),
            Some("order-77"),
            &other.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A batch replays too.
    let batch = json!({ "sales": [sale(json!("ACME Trading"), "1.00", None), sale(json!("Nobody"), "1.00", None)] })
        .to_string();
    let (status, first) = server
        .post(
            "/api/v1/sales/batch",
            Some(&server.writer),
            Some("batch-1"),
            &batch,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, replay) = server
        .post(
            "/api/v1/sales/batch",
            Some(&server.writer),
            Some("batch-1"),
            &batch,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay, first);
    assert_eq!(server.count_sales().await, 3);
    // Validation failures are not stored under the key: a corrected retry goes through.
    let bad = sale(json!("ACME Trading"), "1.234", None).to_string();
    let (status, _) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            Some("retry-me"),
            &bad,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            Some("retry-me"),
            &bad,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn bad_input_is_refused_and_stores_nothing(db: &TestDb) {
    let server = ApiServer::start(db).await;
    let key = Some(server.writer.as_str());
    // Malformed JSON.
    let (status, answer) = server
        .post("/api/v1/sales", key, None, "{\"partner\": ")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&answer), "malformed_json");
    // Wrong types and missing fields, each named.
    let wrong = json!({ "partner": true, "amount": 12500, "date": 20261110, "quantity": "two", "verified": "yes" });
    let (status, answer) = server
        .post("/api/v1/sales", key, None, &wrong.to_string())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&answer), "validation_failed");
    assert_eq!(
        fields(&answer),
        vec![
            "partner", "amount", "date", "customer", "quantity", "verified"
        ]
    );
    // More decimals than the currency has, a future date, an unknown currency.
    let mut precise = sale(json!("ACME Trading"), "12500.001", None);
    precise["date"] = json!("2026-12-01");
    let (status, answer) = server
        .post("/api/v1/sales", key, None, &precise.to_string())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&answer), vec!["amount", "date"]);
    let message = answer["error"]["fields"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("at most 2"), "{message}");
    let mut yen = sale(json!("ACME Trading"), "100.5", None);
    yen["currency"] = json!("JPY");
    let (_, answer) = server
        .post("/api/v1/sales", key, None, &yen.to_string())
        .await;
    assert_eq!(fields(&answer), vec!["amount"], "{answer}");
    // Not a plain decimal string.
    for amount in ["1.2万", "12,500", "-5", ""] {
        let (status, answer) = server
            .post(
                "/api/v1/sales",
                key,
                None,
                &sale(json!(1), amount, None).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
        assert_eq!(fields(&answer), vec!["amount"], "{amount}: {answer}");
    }
    // Unknown partner, unknown field.
    let (status, answer) = server
        .post(
            "/api/v1/sales",
            key,
            None,
            &sale(json!("Nobody"), "1.00", None).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&answer), vec!["partner"]);
    let mut typo = sale(json!(1), "1.00", None);
    typo["amout"] = json!("1.00");
    let (_, answer) = server
        .post("/api/v1/sales", key, None, &typo.to_string())
        .await;
    assert_eq!(fields(&answer), vec!["body"]);
    // Over 1 MiB.
    let huge = format!("{{\"customer\": \"{}\"}}", "x".repeat(1_100_000));
    let (status, answer) = server.post("/api/v1/sales", key, None, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&answer), "payload_too_large");
    // Over 1,000 sales in a batch.
    let many = json!({ "sales": vec![sale(json!(1), "1.00", None); 1001] }).to_string();
    let (status, answer) = server.post("/api/v1/sales/batch", key, None, &many).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&answer), vec!["sales"]);
    assert_eq!(server.count_sales().await, 0);
}

async fn batch_keeps_good_sales_and_reports_bad_ones(db: &TestDb) {
    let server = ApiServer::start(db).await;
    let batch = json!({ "sales": [
        sale(json!("ACME Trading"), "100.00", Some("A-1")),
        sale(json!("Nobody"), "100.00", None),
        sale(json!(2), "99.999", None),
        sale(json!("王氏电子"), "300.00", Some("A-1")),
        "not a sale",
        sale(json!(2), "50.00", None),
    ]});
    let (status, answer) = server
        .post(
            "/api/v1/sales/batch",
            Some(&server.writer),
            None,
            &batch.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let results = answer["results"].as_array().cloned().unwrap_or_default();
    let statuses: Vec<&str> = results
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        vec![
            "created",
            "rejected",
            "rejected",
            "duplicate",
            "rejected",
            "created"
        ]
    );
    assert_eq!(
        results[3]["id"], results[0]["id"],
        "the same external_id is one sale"
    );
    assert_eq!(results[1]["errors"][0]["field"], "sales[1].partner");
    assert_eq!(results[2]["errors"][0]["field"], "sales[2].amount");
    assert_eq!(results[4]["errors"][0]["field"], "sales[4]");
    assert_eq!(server.count_sales().await, 2);
    // Sending it again stores nothing new for sales with an external_id.
    let (_, again) = server
        .post(
            "/api/v1/sales/batch",
            Some(&server.writer),
            None,
            &json!({ "sales": [sale(json!(1), "100.00", Some("A-1"))] }).to_string(),
        )
        .await;
    assert_eq!(again["results"][0]["status"], "duplicate");
    assert_eq!(server.count_sales().await, 2);
    // A full batch of 1,000 in one request.
    let full: Vec<Value> = (0..1000)
        .map(|i| sale(json!(1), "10.00", Some(&format!("F-{i}"))))
        .collect();
    let (status, answer) = server
        .post(
            "/api/v1/sales/batch",
            Some(&server.writer),
            None,
            &json!({ "sales": full }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["results"].as_array().map(Vec::len), Some(1000));
    assert_eq!(server.count_sales().await, 1002);
}

async fn readiness_and_metrics_after_traffic(db: &TestDb) {
    let server = ApiServer::start(db).await;
    let (status, _) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            None,
            &sale(json!(1), "5.00", None).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let _ = server.get("/api/v1/partners", None).await;
    let ready = server
        .client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    let text = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for expected in [
        "rally_http_requests_total{route=\"/api/v1/sales\",status=\"201\"}",
        "rally_http_requests_total{route=\"/api/v1/partners\",status=\"401\"}",
        "rally_http_request_duration_seconds_bucket{route=\"/api/v1/sales\"",
        "rally_sales_reported_total{source=\"api\"}",
        "rally_sales_approved_total{source=\"api\"}",
        "rally_db_pool_connections",
        "rally_db_pool_max_connections",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(line.starts_with("rally_"), "{line}");
    }
    // A migration this build does not know of is missing: not ready.
    let mut conn = server.app.store.read().await.expect("conn");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 20")
        .execute(&mut *conn)
        .await
        .expect("forget a migration");
    drop(conn);
    let ready = server
        .client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// Every route the server answers is in the OpenAPI document, and every documented path is
/// served (a request to it is not a 404 of the router).
#[tokio::test]
async fn openapi_documents_every_route() {
    let doc = serde_json::to_value(http::openapi()).expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .map(|p| {
            p.iter()
                .flat_map(|(path, item)| {
                    item.as_object()
                        .into_iter()
                        .flat_map(|m| m.keys())
                        .map(move |method| format!("{} {path}", method.to_uppercase()))
                })
                .collect()
        })
        .unwrap_or_default();
    let served = [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /api/openapi.json",
        "POST /api/v1/sales",
        "POST /api/v1/sales/batch",
        "GET /api/v1/leaderboard",
        "GET /api/v1/statements",
        "GET /api/v1/statements/{partner}",
        "GET /api/v1/partners",
        "GET /tv",
        "GET /tv/{contest}",
    ];
    let served: std::collections::BTreeSet<String> = served.iter().map(|s| s.to_string()).collect();
    assert_eq!(documented, served);
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    // Each documented route answers (with something other than the router's 404 / 405).
    let db = TestDb::sqlite().await;
    let server = ApiServer::start(&db).await;
    for route in &documented {
        let (method, path) = route.split_once(' ').expect("method and path");
        let path = path
            .replace("{partner}", "1")
            .replace("{contest}", "spring");
        let url = format!("{}{path}?token={}", server.base, server.tv);
        let request = match method {
            "POST" => server.client.post(&url).body("{}"),
            _ => server.client.get(&url),
        };
        let response = request
            .bearer_auth(&server.writer)
            .send()
            .await
            .expect("send");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let router_miss = (status == StatusCode::NOT_FOUND && body.is_empty())
            || status == StatusCode::METHOD_NOT_ALLOWED;
        assert!(
            !router_miss,
            "{route} is documented but not served: {status}"
        );
    }
}

/// `rally apikey`: a bad scope is refused before anything is stored; revocation by id; an
/// unknown key to revoke is an error; the revoked key is shown as such.
#[tokio::test]
async fn apikey_command_line() {
    let db = TestDb::sqlite().await;
    let binary = env!("CARGO_BIN_EXE_rally");
    let run = |args: &[&str]| {
        rally_testkit::process::rally(binary, &db.url)
            .args(args)
            .output()
            .expect("run rally")
    };
    let bad = run(&["apikey", "create", "erp", "--scopes", "sales:delete"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("unknown scope \"sales:delete\""),
        "{stderr}"
    );
    let made = run(&["apikey", "create", "erp", "--scopes", "sales:write,read"]);
    assert!(made.status.success());
    let key = String::from_utf8_lossy(&made.stdout).trim().to_string();
    assert!(key.starts_with("rk_") && key.len() > 40, "{key}");
    let again = run(&["apikey", "create", "erp"]);
    assert!(!again.status.success(), "a live key has this name");
    let mut conn = db.store.read().await.expect("conn");
    let found = api_keys::authenticate(&mut conn, &key)
        .await
        .expect("lookup")
        .expect("the printed key works");
    assert!(found.allows(Scope::SalesWrite) && found.allows(Scope::Read));
    drop(conn);
    let revoked = run(&["apikey", "revoke", &found.id.to_string()]);
    assert!(revoked.status.success());
    let unknown = run(&["apikey", "revoke", "nobody"]);
    assert!(!unknown.status.success());
    let listed = String::from_utf8_lossy(&run(&["apikey", "list"]).stdout).to_string();
    assert!(
        listed.contains("erp") && listed.contains("revoked"),
        "{listed}"
    );
    let mut conn = db.store.read().await.expect("conn");
    assert!(
        api_keys::authenticate(&mut conn, &key)
            .await
            .expect("lookup")
            .is_none()
    );
    // The name is free again.
    assert!(run(&["apikey", "create", "erp"]).status.success());
}

/// A configured contest's leaderboard comes from its board (the demo's growth cup).
async fn contest_leaderboard_reads_the_contest_board(db: &TestDb) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    let server = ApiServer::start_with(db, |config| {
        config.contests = rally::demo::config_with_contests(today)
            .expect("demo contests")
            .contests;
    })
    .await;
    let (status, cup) = server
        .get(
            "/api/v1/leaderboard?contest=growth-cup",
            Some(&server.reader),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cup}");
    assert_eq!(cup["contest"], "growth-cup");
    assert!(cup["entries"].is_array(), "{cup}");
}
