//! Group commit of concurrent `POST /api/v1/sales` requests, over real HTTP on SQLite and
//! PostgreSQL (when `RALLY_TEST_POSTGRES_URL` is set): requests that arrive while a group is
//! held (the test keeps the partner's period totals row locked, so the leader waits in the
//! database) all join the next group, are stored once with the right totals, and each gets its
//! own answer; a request refused in the database step, or one whose Idempotency-Key another
//! request of the group holds, fails alone.

use std::time::{Duration, Instant};

use rally::store::Tx;
use rally::store::group::GroupStats;
use rally_testkit::api::ApiServer;
use rally_testkit::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

on_both_backends!(
    held_requests_share_one_commit_and_are_stored_once,
    a_bad_request_fails_alone_in_its_group,
    unheld_concurrent_requests_are_all_stored,
    a_taken_key_or_a_database_error_undoes_the_bulk_insert,
);

fn sale(partner: &str, amount: &str, external_id: Option<&str>) -> Value {
    let mut sale = json!({
        "partner": partner,
        "amount": amount,
        "currency": "CNY",
        "date": "2026-11-10",
        "customer": "Globex",
    });
    if let Some(id) = external_id {
        sale["external_id"] = json!(id);
    }
    sale
}

/// A POST on its own task: the status, whether it was a replay, and the JSON answer.
fn spawn_post(
    server: &ApiServer,
    idem: Option<String>,
    body: Value,
) -> JoinHandle<(StatusCode, bool, Value)> {
    let client = server.client.clone();
    let url = format!("{}/api/v1/sales", server.base);
    let key = server.writer.clone();
    tokio::spawn(async move {
        let mut request = client
            .post(url)
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(idem) = idem {
            request = request.header("Idempotency-Key", idem);
        }
        let response = request.send().await.expect("send");
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        (
            status,
            replayed,
            response.json().await.unwrap_or(Value::Null),
        )
    })
}

/// Locks ACME's totals row for the sales' period, so a group storing an ACME sale waits in the
/// database until [`release`] (on SQLite the write transaction holds the one write lock).
async fn hold(server: &ApiServer) -> Tx {
    let mut tx = server.app.store.begin().await.expect("begin");
    let locked = sqlx::query(
        "UPDATE period_totals SET approved_count = approved_count WHERE partner_id = 1",
    )
    .execute(&mut *tx)
    .await
    .expect("lock the totals row");
    assert_eq!(locked.rows_affected(), 1, "ACME has a totals row to lock");
    tx
}

async fn release(tx: Tx) {
    tx.rollback().await.expect("release");
}

/// Waits until `n` more requests than `before` have joined the queue.
async fn arrivals(server: &ApiServer, before: GroupStats, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.state.sales_groups().arrived < before.arrived + n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} requests reached the group queue",
            server.state.sales_groups().arrived - before.arrived
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sales stored, and ACME's approved total and count, from the sales and from the totals row.
async fn totals(server: &ApiServer) -> ((i64, i64), (i64, i64)) {
    let mut conn = server.app.store.read().await.expect("conn");
    let from_sales = sqlx::query(
        "SELECT CAST(COALESCE(SUM(program_minor), 0) AS BIGINT) AS total, COUNT(*) AS n FROM sales \
         WHERE partner_id = 1 AND status = 'approved'",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("sum");
    let row = sqlx::query(
        "SELECT approved_minor, approved_count FROM period_totals WHERE partner_id = 1",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("totals");
    use sqlx::Row;
    (
        (from_sales.get("total"), from_sales.get("n")),
        (row.get("approved_minor"), row.get("approved_count")),
    )
}

/// A first sale, so ACME has a totals row to hold.
async fn first_sale(server: &ApiServer) {
    let (status, _) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            None,
            &sale("ACME Trading", "1.00", None).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// 40 requests arriving while the first one's group waits on the database form one more group:
/// two commits for 41 sales, every sale stored once, the totals right, each answer its own.
async fn held_requests_share_one_commit_and_are_stored_once(db: &TestDb) {
    let server = ApiServer::start(db).await;
    first_sale(&server).await;
    let counted = db.count_insert_statements("sales").await;
    let before = server.state.sales_groups();
    let held = hold(&server).await;
    let leader = spawn_post(
        &server,
        Some("lead".into()),
        sale("ACME Trading", "5.00", Some("INV-LEAD")),
    );
    arrivals(&server, before, 1).await;
    let n = 40_u64;
    let followers: Vec<_> = (0..n)
        .map(|i| {
            let amount = format!("{}.00", 10 + i);
            spawn_post(
                &server,
                Some(format!("key-{i}")),
                sale("ACME Trading", &amount, Some(&format!("INV-{i}"))),
            )
        })
        .collect();
    arrivals(&server, before, n + 1).await;
    let during = server.state.sales_groups();
    assert_eq!(
        during.groups - before.groups,
        1,
        "only the leader's group started"
    );
    release(held).await;

    let (status, _, answer) = leader.await.expect("leader");
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["external_id"], "INV-LEAD");
    for (i, follower) in followers.into_iter().enumerate() {
        let (status, replayed, answer) = follower.await.expect("follower");
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        assert!(!replayed);
        assert_eq!(answer["external_id"], format!("INV-{i}"), "its own answer");
        assert_eq!(answer["amount"], format!("{}.00", 10 + i));
    }
    let after = server.state.sales_groups();
    assert_eq!(after.grouped - before.grouped, n + 1);
    assert_eq!(
        after.groups - before.groups,
        2,
        "41 requests, two commits: the held leader's and one for everyone who queued"
    );
    assert_eq!(server.count_sales().await, 1 + n as i64 + 1);
    if counted {
        assert_eq!(
            db.insert_statements("sales").await,
            2,
            "the leader's sale, then the 40 queued sales in one multi-row insert"
        );
    }
    let (from_sales, from_totals) = totals(&server).await;
    // 1.00 + 5.00 + (10 + … + 49).00, in fen.
    let expected: i64 = 100 + 500 + (10..10 + n as i64).map(|a| a * 100).sum::<i64>();
    assert_eq!(from_sales, (expected, 2 + n as i64));
    assert_eq!(from_totals, from_sales, "period totals match the sales");

    // Every answer was stored under its key: a retry replays it.
    let (status, replay) = server
        .post(
            "/api/v1/sales",
            Some(&server.writer),
            Some("key-7"),
            &sale("ACME Trading", "17.00", Some("INV-7")).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay["external_id"], "INV-7");
    assert_eq!(server.count_sales().await, 1 + n as i64 + 1);
}

/// In one group: good sales, a sale for an unknown partner (refused in the database step), two
/// requests with the same key and body (one sale, the other a replay) and two with the same key
/// and different bodies (one sale, the other a mismatch). Only the bad ones fail.
async fn a_bad_request_fails_alone_in_its_group(db: &TestDb) {
    let server = ApiServer::start(db).await;
    first_sale(&server).await;
    let before = server.state.sales_groups();
    let held = hold(&server).await;
    let leader = spawn_post(&server, None, sale("ACME Trading", "5.00", None));
    arrivals(&server, before, 1).await;
    let good: Vec<_> = (0..10)
        .map(|i| {
            spawn_post(
                &server,
                Some(format!("good-{i}")),
                sale("ACME Trading", "10.00", None),
            )
        })
        .collect();
    let unknown = spawn_post(
        &server,
        Some("unknown".into()),
        sale("Nobody Ltd", "10.00", None),
    );
    let twins: Vec<_> = (0..2)
        .map(|_| spawn_post(&server, Some("twin".into()), sale("王氏电子", "7.00", None)))
        .collect();
    let rivals: Vec<_> = ["8.00", "9.00"]
        .into_iter()
        .map(|amount| {
            spawn_post(
                &server,
                Some("rival".into()),
                sale("王氏电子", amount, None),
            )
        })
        .collect();
    arrivals(&server, before, 1 + 10 + 1 + 2 + 2).await;
    release(held).await;

    assert_eq!(leader.await.expect("leader").0, StatusCode::CREATED);
    for good in good {
        let (status, _, answer) = good.await.expect("good");
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let (status, _, answer) = unknown.await.expect("unknown");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "validation_failed");
    assert_eq!(answer["error"]["fields"][0]["field"], "partner");

    let mut twin_answers = Vec::new();
    for twin in twins {
        twin_answers.push(twin.await.expect("twin"));
    }
    assert!(
        twin_answers
            .iter()
            .all(|(s, _, _)| *s == StatusCode::CREATED),
        "{twin_answers:?}"
    );
    assert_eq!(
        twin_answers
            .iter()
            .filter(|(_, replayed, _)| *replayed)
            .count(),
        1,
        "one stored, one replayed: {twin_answers:?}"
    );
    assert_eq!(twin_answers[0].2, twin_answers[1].2, "the same answer");

    let mut rival_statuses = Vec::new();
    for rival in rivals {
        let (status, _, answer) = rival.await.expect("rival");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(answer["error"]["code"], "idempotency_mismatch");
        }
        rival_statuses.push(status);
    }
    rival_statuses.sort();
    assert_eq!(
        rival_statuses,
        vec![StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY]
    );

    let after = server.state.sales_groups();
    assert_eq!(
        after.groups - before.groups,
        2,
        "the leader's group and one more"
    );
    // The first sale, the leader, 10 good ones, one twin, one rival.
    assert_eq!(server.count_sales().await, 1 + 1 + 10 + 1 + 1);
    let (from_sales, from_totals) = totals(&server).await;
    assert_eq!(from_sales, (100 + 500 + 10 * 1000, 12));
    assert_eq!(from_totals, from_sales);
}

/// Many concurrent requests with nothing held: every one stored once, whatever the grouping,
/// and never more commits than requests.
async fn unheld_concurrent_requests_are_all_stored(db: &TestDb) {
    let server = ApiServer::start(db).await;
    first_sale(&server).await;
    let before = server.state.sales_groups();
    let n = 64_u64;
    let posts: Vec<_> = (0..n)
        .map(|i| {
            spawn_post(
                &server,
                Some(format!("k-{i}")),
                sale("ACME Trading", "3.00", Some(&format!("U-{i}"))),
            )
        })
        .collect();
    for post in posts {
        let (status, _, answer) = post.await.expect("post");
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let after = server.state.sales_groups();
    assert_eq!(after.grouped - before.grouped, n);
    assert!(after.groups - before.groups <= n);
    assert_eq!(server.count_sales().await, 1 + n as i64);
    let (from_sales, from_totals) = totals(&server).await;
    assert_eq!(from_sales, (100 + 300 * n as i64, 1 + n as i64));
    assert_eq!(from_totals, from_sales);
}

/// A group's sales are first stored with multi-row statements; if that fails — a database error
/// in one sale (a trigger refuses customer "Boom"), or an `Idempotency-Key` whose answer
/// another transaction stored meanwhile — all of it is undone and the group is stored sale by
/// sale: only the refused sale fails (500), the request with the taken key gets that key's
/// answer (here a mismatch, 422) and stores nothing, and every other sale is stored once.
async fn a_taken_key_or_a_database_error_undoes_the_bulk_insert(db: &TestDb) {
    let server = ApiServer::start(db).await;
    first_sale(&server).await;
    db.refuse_inserts("sales", "NEW.customer = 'Boom'").await;

    let mut boom = sale("ACME Trading", "20.00", Some("BOOM"));
    boom["customer"] = json!("Boom");
    let (status, answer) = group_with_good_sales(&server, "a", "boom", boom, false).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");

    let stolen = sale("ACME Trading", "30.00", Some("STOLEN"));
    let (status, answer) = group_with_good_sales(&server, "b", "stolen", stolen, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "idempotency_mismatch");

    // The first sale, and per group the leader and five good ones; not Boom's, not the stolen
    // key's.
    assert_eq!(server.count_sales().await, 1 + 2 * (1 + 5));
    let (from_sales, from_totals) = totals(&server).await;
    assert_eq!(from_sales, (100 + 2 * (500 + 5 * 1000), 13));
    assert_eq!(from_totals, from_sales);
}

/// One held group: a leader, five good sales and `odd` (with Idempotency-Key `odd_key`),
/// released once all have queued. With `steal`, the holding transaction first stores an answer
/// of another request under `odd_key`. Checks that the leader and the good ones are stored;
/// returns `odd`'s answer.
async fn group_with_good_sales(
    server: &ApiServer,
    round: &str,
    odd_key: &str,
    odd: Value,
    steal: bool,
) -> (StatusCode, Value) {
    let before = server.state.sales_groups();
    let mut held = hold(server).await;
    let leader = spawn_post(server, None, sale("ACME Trading", "5.00", None));
    arrivals(server, before, 1).await;
    let good: Vec<_> = (0..5)
        .map(|i| {
            spawn_post(
                server,
                Some(format!("{round}-fine-{i}")),
                sale("ACME Trading", "10.00", Some(&format!("{round}-F-{i}"))),
            )
        })
        .collect();
    let odd = spawn_post(server, Some(odd_key.into()), odd);
    arrivals(server, before, 1 + 5 + 1).await;
    if steal {
        sqlx::query(
            "INSERT INTO api_idempotency (key_id, idempotency_key, request_hash, status, body, \
             created_at) SELECT id, $1, 'another request', 201, '{}', 0 FROM api_keys \
             WHERE scopes LIKE '%sales:write%'",
        )
        .bind(odd_key)
        .execute(&mut *held)
        .await
        .expect("store another answer under the key");
    }
    held.commit().await.expect("commit");
    assert_eq!(leader.await.expect("leader").0, StatusCode::CREATED);
    for good in good {
        let (status, _, answer) = good.await.expect("good");
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let (status, _, answer) = odd.await.expect("odd one");
    (status, answer)
}

/// If a group's commit fails (here a deferred constraint trigger, which only PostgreSQL has,
/// refuses one sale at commit time), none of its sales is stored and each of them gets the
/// 500 answer, while a request refused inside the group keeps its own answer (422).
#[tokio::test]
async fn a_failed_commit_fails_the_sales_but_keeps_refusals_on_postgres() {
    let Some(db) = TestDb::postgres("api_commit_fails").await else {
        return;
    };
    let server = ApiServer::start(&db).await;
    first_sale(&server).await;
    for ddl in [
        "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.customer = 'Late Boom' THEN RAISE EXCEPTION 'refused at commit'; END IF; \
         RETURN NULL; END $$",
        "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON sales \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()",
    ] {
        sqlx::query(ddl)
            .execute(db.store.pool())
            .await
            .expect("trigger");
    }
    let before = server.state.sales_groups();
    let held = hold(&server).await;
    let leader = spawn_post(&server, None, sale("ACME Trading", "5.00", None));
    arrivals(&server, before, 1).await;
    let good = spawn_post(
        &server,
        Some("late-good".into()),
        sale("ACME Trading", "10.00", Some("LATE-1")),
    );
    let mut boom = sale("ACME Trading", "20.00", Some("LATE-2"));
    boom["customer"] = json!("Late Boom");
    let boom = spawn_post(&server, Some("late-boom".into()), boom);
    let unknown = spawn_post(
        &server,
        Some("late-unknown".into()),
        sale("Nobody Ltd", "10.00", None),
    );
    arrivals(&server, before, 4).await;
    release(held).await;

    assert_eq!(leader.await.expect("leader").0, StatusCode::CREATED);
    for (name, post) in [("good", good), ("boom", boom)] {
        let (status, _, answer) = post.await.expect(name);
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{name}: {answer}"
        );
    }
    let (status, _, answer) = unknown.await.expect("unknown");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["fields"][0]["field"], "partner");
    assert_eq!(
        server.count_sales().await,
        2,
        "the first sale and the leader's"
    );
    let (from_sales, from_totals) = totals(&server).await;
    assert_eq!(from_totals, from_sales);
}
