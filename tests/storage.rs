//! The storage suite: every test runs unchanged on SQLite and on PostgreSQL (when
//! `RALLY_TEST_POSTGRES_URL` is set; otherwise the PostgreSQL half says it was skipped).

use rally::engine::audit::AuditAction;
use rally::engine::ids::{MemberId, PartnerId, SaleId};
use rally::engine::invite::Invite;
use rally::engine::money::{Currency, Money};
use rally::engine::partner::{PartnerKind, Platform, Role};
use rally::engine::sale::{SaleSource, SaleStatus};
use rally::store::handled::MessageKey;
use rally::store::outbox::{self, NewOutgoing, Status};
use rally::store::partners::NewPartner;
use rally::store::rank_cache::RankCache;
use rally::store::sales::{Inserted, NewSale};
use rally::store::totals::{Delta, RankBasis};
use rally::store::{Store, audit, handled, invites, members, partners, sales, totals};
use rally_testkit::TestDb;

/// Generates `<name>::sqlite` and `<name>::postgres` tests from one async body `fn(Store)`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(db.store.clone()).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some(db) = super::TestDb::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(db.store.clone()).await;
                }
            }
        )*
    };
}

both_backends!(
    migrations_are_idempotent,
    partners_are_unique_by_name_key,
    members_roles_and_locale,
    invites_are_single_use,
    sales_are_idempotent_by_key,
    status_changes_are_conditional,
    leaderboard_orders_and_breaks_ties,
    leaderboard_gap_and_place_outside_top,
    rank_index_follows_later_and_concurrent_writes,
    audit_log_round_trips,
    handled_messages_keep_the_first_answer,
    outbox_dedupes_and_keeps_order_per_chat,
    outbox_leases_expire_and_retries_wait,
    outbox_claims_never_overlap_between_instances,
);

fn partner(name: &str) -> NewPartner {
    NewPartner {
        name: name.into(),
        kind: PartnerKind::Dealer,
        region: Some("East".into()),
        tier: None,
        potential_minor: None,
    }
}

fn new_sale(partner: PartnerId, yuan: i64, key: &str, status: SaleStatus) -> NewSale {
    let amount = Money::from_minor(yuan * 100, Currency::CNY);
    NewSale {
        partner_id: partner,
        amount,
        program_amount: amount,
        customer: "ACME".into(),
        customer_key: "acme".into(),
        category: Some("software".into()),
        quantity: None,
        evidence: None,
        note: None,
        sale_date: "2026-11-15".into(),
        period: "2026-11".into(),
        source: SaleSource::Chat,
        idempotency_key: key.into(),
        status,
        reporter: None,
        reported_at: 1_000,
    }
}

async fn migrations_are_idempotent(store: Store) {
    store.migrate().await.expect("second migrate is a no-op");
    let mut conn = store.read().await.expect("conn");
    assert!(partners::list(&mut conn).await.expect("list").is_empty());
}

async fn partners_are_unique_by_name_key(store: Store) {
    let mut tx = store.begin().await.expect("tx");
    let p = partners::insert(&mut tx, &partner("East  Trading"), 5)
        .await
        .expect("insert")
        .expect("new");
    assert_eq!(p.name, "East  Trading");
    assert_eq!(p.kind, PartnerKind::Dealer);
    let dup = partners::insert(&mut tx, &partner("east trading"), 6)
        .await
        .expect("insert dup");
    assert_eq!(dup, None, "same name key is the same partner");
    let found = partners::find_by_name(&mut tx, "ＥＡＳＴ TRADING")
        .await
        .expect("find")
        .expect("found by width/case-folded name");
    assert_eq!(found.id, p.id);
    tx.commit().await.expect("commit");
    let mut conn = store.read().await.expect("conn");
    assert_eq!(partners::list(&mut conn).await.expect("list").len(), 1);
    assert_eq!(partners::get(&mut conn, p.id).await.expect("get"), Some(p));
}

async fn members_roles_and_locale(store: Store) {
    let mut tx = store.begin().await.expect("tx");
    let p = partners::insert(&mut tx, &partner("Acme"), 1)
        .await
        .expect("insert")
        .expect("new");
    let m = members::upsert(&mut tx, Platform::Telegram, "42", "Ann", 1)
        .await
        .expect("upsert");
    assert_eq!(m.role, None);
    let again = members::upsert(&mut tx, Platform::Telegram, "42", "Ann B", 2)
        .await
        .expect("upsert again");
    assert_eq!(again.id, m.id);
    assert_eq!(again.display_name, "Ann B");
    members::set_role(&mut tx, m.id, Some(p.id), Role::Partner)
        .await
        .expect("role");
    members::set_locale(&mut tx, m.id, "zh-CN")
        .await
        .expect("locale");
    tx.commit().await.expect("commit");
    let mut conn = store.read().await.expect("conn");
    let m = members::find(&mut conn, Platform::Telegram, "42")
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(m.role, Some(Role::Partner));
    assert_eq!(m.partner_id, Some(p.id));
    assert_eq!(m.locale.as_deref(), Some("zh-CN"));
    assert_eq!(
        members::find(&mut conn, Platform::Discord, "42")
            .await
            .expect("find"),
        None,
        "platforms are separate namespaces"
    );
}

async fn invites_are_single_use(store: Store) {
    let mut tx = store.begin().await.expect("tx");
    let m = members::upsert(&mut tx, Platform::Console, "x", "X", 1)
        .await
        .expect("member");
    let invite = Invite {
        code: "ABCDEFGH".into(),
        partner_id: None,
        role: Role::Manager,
        expires_at: 99,
        used: false,
    };
    invites::insert(&mut tx, &invite, None, 1)
        .await
        .expect("insert");
    assert_eq!(
        invites::find(&mut tx, "ABCDEFGH").await.expect("find"),
        Some(invite)
    );
    assert!(
        invites::mark_used(&mut tx, "ABCDEFGH", m.id, 2)
            .await
            .expect("use")
    );
    assert!(
        !invites::mark_used(&mut tx, "ABCDEFGH", m.id, 3)
            .await
            .expect("reuse")
    );
    assert!(
        invites::find(&mut tx, "ABCDEFGH")
            .await
            .expect("find")
            .expect("exists")
            .used
    );
    assert_eq!(
        invites::find(&mut tx, "ZZZZZZZZ").await.expect("find"),
        None
    );
    tx.commit().await.expect("commit");
}

async fn sales_are_idempotent_by_key(store: Store) {
    let mut tx = store.begin().await.expect("tx");
    let p = partners::insert(&mut tx, &partner("Acme"), 1)
        .await
        .expect("insert")
        .expect("new");
    let first = sales::insert(&mut tx, &new_sale(p.id, 1200, "k1", SaleStatus::Approved))
        .await
        .expect("insert");
    let Inserted::New(sale) = first else {
        panic!("first insert must be new: {first:?}")
    };
    assert_eq!(sale.amount, Money::from_minor(120_000, Currency::CNY));
    assert_eq!(sale.category.as_deref(), Some("software"));
    let second = sales::insert(&mut tx, &new_sale(p.id, 9999, "k1", SaleStatus::Pending))
        .await
        .expect("insert again");
    assert_eq!(
        second,
        Inserted::Existing(sale.clone()),
        "redelivery returns the stored sale"
    );
    tx.commit().await.expect("commit");
    let mut conn = store.read().await.expect("conn");
    let list = sales::recent_for_partner(&mut conn, p.id, 10, Currency::CNY)
        .await
        .expect("list");
    assert_eq!(list, vec![sale]);
}

async fn status_changes_are_conditional(store: Store) {
    let mut tx = store.begin().await.expect("tx");
    let p = partners::insert(&mut tx, &partner("Acme"), 1)
        .await
        .expect("insert")
        .expect("new");
    let m = members::upsert(&mut tx, Platform::Console, "boss", "Boss", 1)
        .await
        .expect("member");
    let Inserted::New(sale) = sales::insert(&mut tx, &new_sale(p.id, 10, "k", SaleStatus::Pending))
        .await
        .expect("insert")
    else {
        panic!("new")
    };
    let pending = sales::pending(&mut tx, 10, Currency::CNY)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1, "Acme");
    assert_eq!(sales::count_pending(&mut tx, p.id).await.expect("count"), 1);
    assert!(
        sales::set_status(
            &mut tx,
            sale.id,
            SaleStatus::Pending,
            SaleStatus::Approved,
            m.id,
            None,
            5
        )
        .await
        .expect("approve")
    );
    assert!(
        !sales::set_status(
            &mut tx,
            sale.id,
            SaleStatus::Pending,
            SaleStatus::Rejected,
            m.id,
            Some("late"),
            6
        )
        .await
        .expect("second decision"),
        "a decided sale cannot be decided again"
    );
    let stored = sales::get(&mut tx, sale.id, Currency::CNY)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.status, SaleStatus::Approved);
    assert_eq!(stored.decided_by, Some(m.id));
    assert_eq!(
        sales::get(&mut tx, SaleId(999_999), Currency::CNY)
            .await
            .expect("get"),
        None
    );
    tx.commit().await.expect("commit");
}

async fn add(store: &Store, partner: PartnerId, minor: i64, at: i64) {
    let mut tx = store.begin().await.expect("tx");
    totals::apply(
        &mut tx,
        "2026-11",
        partner,
        Delta {
            approved_minor: minor,
            approved_count: 1,
            provisional_minor: minor,
            pending_count: 0,
        },
        at,
    )
    .await
    .expect("apply");
    tx.commit().await.expect("commit");
}

async fn make_partners(store: &Store, n: usize) -> Vec<PartnerId> {
    let mut tx = store.begin().await.expect("tx");
    let mut ids = Vec::new();
    for i in 0..n {
        let p = partners::insert(&mut tx, &partner(&format!("P{i:02}")), 1)
            .await
            .expect("insert")
            .expect("new");
        ids.push(p.id);
    }
    tx.commit().await.expect("commit");
    ids
}

async fn leaderboard_orders_and_breaks_ties(store: Store) {
    let ids = make_partners(&store, 4).await;
    add(&store, ids[0], 500, 30).await; // same total as ids[1], reached later
    add(&store, ids[1], 500, 10).await;
    add(&store, ids[2], 900, 20).await;
    add(&store, ids[3], 100, 5).await;
    add(&store, ids[3], -100, 6).await; // back to zero: not ranked
    let cache = RankCache::new();
    let mut conn = store.read().await.expect("conn");
    let board = cache
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(ids[0]), 10)
        .await
        .expect("board");
    let order: Vec<(u64, PartnerId)> = board.top.iter().map(|(p, s)| (*p, s.partner_id)).collect();
    assert_eq!(order, vec![(1, ids[2]), (2, ids[1]), (3, ids[0])]);
    assert_eq!(board.participants, 3);
    let (place, me) = board.me.clone().expect("ranked");
    assert_eq!(place, 3);
    assert_eq!(me.total_minor, 500);
    assert_eq!(
        board.gap_to_next,
        Some(1),
        "one minor unit passes an equal, earlier total"
    );
    let t = totals::get(&mut conn, "2026-11", ids[3])
        .await
        .expect("totals");
    assert_eq!(t.approved_minor, 0);
    assert_eq!(t.approved_count, 2);
    let other = cache
        .leaderboard(&mut conn, "2026-10", RankBasis::Approved, None, 10)
        .await
        .expect("board");
    assert!(other.top.is_empty());
}

async fn leaderboard_gap_and_place_outside_top(store: Store) {
    let ids = make_partners(&store, 15).await;
    for (i, id) in ids.iter().enumerate() {
        // P00 has the most; totals fall by 1,000 minor units per place.
        add(&store, *id, 100_000 - i as i64 * 1_000, i as i64).await;
    }
    let last = *ids.last().expect("partners");
    let cache = RankCache::new();
    let mut conn = store.read().await.expect("conn");
    let board = cache
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(last), 10)
        .await
        .expect("board");
    assert_eq!(board.top.len(), 10);
    assert_eq!(board.participants, 15);
    let (place, _) = board.me.expect("ranked");
    assert_eq!(place, 15);
    assert_eq!(board.gap_to_next, Some(1_001));
    let first = cache
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(ids[0]), 10)
        .await
        .expect("board");
    assert_eq!(first.me.map(|(p, _)| p), Some(1));
    assert_eq!(first.gap_to_next, None);
}

async fn audit_log_round_trips(store: Store) {
    let mut tx = store.begin().await.expect("tx");
    let m = members::upsert(&mut tx, Platform::Console, "boss", "Boss", 1)
        .await
        .expect("member");
    let before = serde_json::json!({ "status": "pending" });
    let after = serde_json::json!({ "status": "approved" });
    audit::record(
        &mut tx,
        Some(m.id),
        AuditAction::Sale(SaleStatus::Approved),
        "sale 1",
        Some(&before),
        Some(&after),
        7,
    )
    .await
    .expect("record");
    audit::record(
        &mut tx,
        None,
        AuditAction::PartnerCreate,
        "partner 1",
        None,
        None,
        8,
    )
    .await
    .expect("record");
    tx.commit().await.expect("commit");
    let mut conn = store.read().await.expect("conn");
    let entries = audit::recent(&mut conn, 10).await.expect("recent");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, AuditAction::PartnerCreate);
    assert_eq!(entries[0].actor, None);
    assert_eq!(entries[1].actor, Some(m.id));
    assert_eq!(entries[1].actor_name.as_deref(), Some("Boss"));
    assert_eq!(
        entries[1].after.as_deref(),
        Some(after.to_string().as_str())
    );
}

async fn handled_messages_keep_the_first_answer(store: Store) {
    let key = MessageKey {
        platform: Platform::Telegram,
        chat_id: "-100".into(),
        message_id: "7".into(),
    };
    let mut conn = store.read().await.expect("conn");
    assert_eq!(handled::find(&mut conn, &key).await.expect("find"), None);
    drop(conn);
    let mut tx = store.begin().await.expect("tx");
    handled::record(&mut tx, &key, None::<MemberId>, "[1]", 1)
        .await
        .expect("record");
    handled::record(&mut tx, &key, None, "[2]", 2)
        .await
        .expect("record dup");
    tx.commit().await.expect("commit");
    let mut conn = store.read().await.expect("conn");
    assert_eq!(
        handled::find(&mut conn, &key)
            .await
            .expect("find")
            .as_deref(),
        Some("[1]")
    );
    assert_eq!(key.idempotency_key(), "telegram:-100:7");
}

async fn rank_index_follows_later_and_concurrent_writes(store: Store) {
    let ids = make_partners(&store, 3).await;
    let cache = RankCache::new();
    add(&store, ids[0], 300, 1).await;
    let place = |board: &rally::engine::ranking::Leaderboard| board.me.as_ref().map(|(p, _)| *p);
    let mut conn = store.read().await.expect("conn");
    let board = cache
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(ids[1]), 10)
        .await
        .expect("board");
    assert_eq!(board.participants, 1);
    assert_eq!(place(&board), None);

    // A writer that is still open while the index syncs, then commits: the next sync must
    // see it, however the stamps of concurrent writers interleave.
    let mut open = store.begin().await.expect("tx");
    totals::apply(
        &mut open,
        "2026-11",
        ids[1],
        Delta {
            approved_minor: 500,
            approved_count: 1,
            provisional_minor: 500,
            pending_count: 0,
        },
        2,
    )
    .await
    .expect("apply");
    let during = cache
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(ids[1]), 10)
        .await
        .expect("board");
    assert_eq!(place(&during), None, "uncommitted totals are not ranked");
    open.commit().await.expect("commit");
    add(&store, ids[2], 100, 3).await;
    add(&store, ids[0], -300, 4).await; // leaves the board

    let after = cache
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(ids[1]), 10)
        .await
        .expect("board");
    assert_eq!(after.participants, 2);
    assert_eq!(place(&after), Some(1));
    let order: Vec<PartnerId> = after.top.iter().map(|(_, s)| s.partner_id).collect();
    assert_eq!(order, vec![ids[1], ids[2]]);
    assert_eq!(after.top[0].1.name, "P01");

    // A second process (a fresh index) agrees.
    let fresh = RankCache::new()
        .leaderboard(&mut conn, "2026-11", RankBasis::Approved, Some(ids[2]), 10)
        .await
        .expect("board");
    assert_eq!(place(&fresh), Some(2));
    assert_eq!(fresh.gap_to_next, Some(401));
}

fn outgoing(target: &str, key: &str) -> NewOutgoing {
    NewOutgoing {
        platform: "telegram".into(),
        target: target.into(),
        member_id: None,
        dedupe_key: key.into(),
        reply_json: format!("{{\"text\":\"{key}\"}}"),
        locale: "en".into(),
        broadcast_id: None,
    }
}

async fn enqueue_all(store: &Store, rows: &[(&str, &str)]) {
    let mut tx = store.begin().await.expect("begin");
    for (target, key) in rows {
        outbox::enqueue(&mut tx, &outgoing(target, key), 1_000)
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
}

async fn claim(store: &Store, owner: &str, now: i64, limit: i64) -> Vec<outbox::Outgoing> {
    let mut conn = store.read().await.expect("conn");
    outbox::claim(&mut conn, "telegram", owner, now, now + 30_000, limit)
        .await
        .expect("claim")
}

async fn outbox_dedupes_and_keeps_order_per_chat(store: Store) {
    enqueue_all(
        &store,
        &[("chat-a", "a1"), ("chat-a", "a2"), ("chat-b", "b1")],
    )
    .await;
    // A redelivered change enqueues the same key again: still one row.
    let mut conn = store.read().await.expect("conn");
    assert!(
        !outbox::enqueue(&mut conn, &outgoing("chat-a", "a1"), 2_000)
            .await
            .expect("again")
    );
    drop(conn);

    // Only the head of each chat: a1 and b1, not a2.
    let first = claim(&store, "one", 5_000, 10).await;
    let keys: Vec<&str> = first.iter().map(|o| o.reply_json.as_str()).collect();
    assert_eq!(keys, ["{\"text\":\"a1\"}", "{\"text\":\"b1\"}"]);
    assert!(first.iter().all(|o| o.attempts == 1));
    // While a1 is in flight nothing else of chat-a is handed out.
    assert!(claim(&store, "two", 5_001, 10).await.is_empty());

    let mut conn = store.read().await.expect("conn");
    outbox::mark_sent(&mut conn, first[0].id, "one", 5_100)
        .await
        .expect("sent");
    drop(conn);
    let next = claim(&store, "two", 5_200, 10).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].reply_json, "{\"text\":\"a2\"}");
    let mut conn = store.read().await.expect("conn");
    assert_eq!(
        outbox::count(&mut conn, "telegram", Status::Sent)
            .await
            .expect("n"),
        1
    );
    // Only the lease holder can finish a row.
    outbox::mark_sent(&mut conn, next[0].id, "somebody-else", 5_300)
        .await
        .expect("noop");
    let (status, _, _) = outbox::state(&mut conn, next[0].id).await.expect("state");
    assert_eq!(status, Status::Pending);
}

async fn outbox_leases_expire_and_retries_wait(store: Store) {
    enqueue_all(&store, &[("chat-a", "a1")]).await;
    let first = claim(&store, "dead", 5_000, 10).await;
    assert_eq!(first.len(), 1);
    // The instance died: its lease runs out and another sender takes the row over.
    assert!(claim(&store, "alive", 34_999, 10).await.is_empty());
    let again = claim(&store, "alive", 35_000, 10).await;
    assert_eq!((again[0].id, again[0].attempts), (first[0].id, 2));

    let mut conn = store.read().await.expect("conn");
    // 429: wait, and the attempt is given back.
    outbox::retry_later(&mut conn, again[0].id, "alive", 40_000, "429", false)
        .await
        .expect("retry");
    drop(conn);
    assert!(claim(&store, "alive", 39_999, 10).await.is_empty());
    let third = claim(&store, "alive", 40_000, 10).await;
    assert_eq!(third[0].attempts, 2);
    let mut conn = store.read().await.expect("conn");
    outbox::mark_failed(&mut conn, third[0].id, "alive", "403: blocked", 41_000)
        .await
        .expect("failed");
    let (status, attempts, error) = outbox::state(&mut conn, third[0].id).await.expect("state");
    assert_eq!(
        (status, attempts, error.as_deref()),
        (Status::Failed, 2, Some("403: blocked"))
    );
}

async fn outbox_claims_never_overlap_between_instances(store: Store) {
    let rows: Vec<(String, String)> = (0..200)
        .map(|i| (format!("chat-{i}"), format!("k{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = rows.iter().map(|(t, k)| (t.as_str(), k.as_str())).collect();
    enqueue_all(&store, &refs).await;
    let claimers = (0..4).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = claim(&store, &format!("instance-{n}"), 5_000, 7).await;
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|o| o.id));
            }
        })
    });
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.expect("join"));
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (total, all.len()),
        (200, 200),
        "each row claimed exactly once"
    );
}
