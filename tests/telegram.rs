//! Rally as a Telegram bot: the real teloxide client against a fake Bot API server on
//! 127.0.0.1, driving the real handler and store.

use std::sync::Arc;
use std::time::Duration;

use rally::config::{AdminId, AdminPlatform};
use rally::outbox::{Sender, SenderSettings};
use rally::platforms::telegram::{Telegram, TelegramTransport, build_bot};
use rally_testkit::telegram::{ChatRef, Failure, FakeTelegram, UserRef, spawn_rally_run};
use rally_testkit::{TestClock, TestDb};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);
const MANAGER: i64 = 1001;
const PARTNER: i64 = 2002;

struct Harness {
    fake: FakeTelegram,
    db: TestDb,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Harness {
    async fn start() -> Harness {
        let fake = FakeTelegram::start("RallyBot").await;
        let db = TestDb::sqlite().await;
        let clock = TestClock::new();
        let mut config = rally_testkit::test_config(&db.url);
        config.admins.push(AdminId {
            platform: AdminPlatform::Telegram,
            id: MANAGER as u64,
        });
        let mut app =
            rally::app::App::new(db.store.clone(), Arc::new(config), Box::new(clock)).expect("app");
        app.bot_username = Some("RallyBot".into());
        let app = Arc::new(app);
        let bot = build_bot(fake.token(), &format!("{}/", fake.url())).expect("bot");
        let tg = Telegram::new(bot, app.clone(), "RallyBot".into());
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let tg = tg.clone();
            let stop = stop.clone();
            async move { tg.poll(stop).await }
        });
        let outbox = Sender::new(
            app,
            Arc::new(TelegramTransport(tg)),
            SenderSettings::telegram(&Default::default()),
        );
        tokio::spawn(outbox.run(stop.clone()));
        Harness {
            fake,
            db,
            stop,
            task,
        }
    }

    fn say(&self, from: &UserRef, chat: ChatRef, text: &str) -> i64 {
        self.fake
            .push_update(FakeTelegram::text_message(chat, from.clone(), text))
    }

    /// `manager` invites `partner_name` (a deep link in private) and `partner` joins with it.
    async fn join(&self, manager: &UserRef, partner: &UserRef, partner_name: &str) {
        let invite = format!("/invite {partner_name} dealer East");
        self.say(manager, manager.private_chat(), &invite);
        let invite = self.sent(MANAGER, "t.me/RallyBot?start=").await;
        let text = invite["text"].as_str().expect("text");
        let code = rally_testkit::code_after(text, "start=");
        self.say(partner, partner.private_chat(), &format!("/start {code}"));
        self.sent(PARTNER, partner_name).await;
    }

    /// Waits for a message the bot sent to `chat` whose text contains `needle`.
    async fn sent(&self, chat: i64, needle: &str) -> Value {
        let call = self
            .fake
            .wait_for_call(
                "sendMessage",
                |c| c.params["chat_id"].as_i64() == Some(chat) && text_of(c).contains(needle),
                WAIT,
            )
            .await;
        match call {
            Some(c) => c.params,
            None => panic!(
                "no message to {chat} containing {needle:?}; sent: {:#?}",
                self.fake
                    .calls_to("sendMessage")
                    .iter()
                    .map(|c| (c.params["chat_id"].clone(), text_of(c)))
                    .collect::<Vec<_>>()
            ),
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("poller stops")
            .expect("join");
        result.expect("poller ran without error");
        drop(self.db);
    }
}

fn text_of(call: &rally_testkit::telegram::Call) -> String {
    call.params["text"]
        .as_str()
        .or(call.params["caption"].as_str())
        .unwrap_or_default()
        .to_string()
}

async fn sale_status(db: &TestDb) -> String {
    let row: (String,) = sqlx::query_as("SELECT status FROM sales ORDER BY id DESC LIMIT 1")
        .fetch_one(db.store.pool())
        .await
        .expect("status");
    row.0
}

async fn sale_count(db: &TestDb) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sales")
        .fetch_one(db.store.pool())
        .await
        .expect("count");
    row.0
}

#[tokio::test]
async fn invite_start_report_approve_by_button_rank() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    let partner = UserRef::new(PARTNER, "Zed").language("en");

    h.join(&manager, &partner, "Zeta Trading").await;

    h.say(
        &partner,
        partner.private_chat(),
        "/report 8000 <b>ACME</b> _Corp_",
    );
    h.sent(PARTNER, "A manager will approve it").await;
    let note = h.sent(MANAGER, "to approve").await;
    // User text is sent as plain text: no parse mode, so markup shows literally.
    assert!(note.get("parse_mode").is_none());
    assert!(
        note["text"]
            .as_str()
            .unwrap_or_default()
            .contains("<b>ACME</b> _Corp_")
    );
    let buttons = &note["reply_markup"]["inline_keyboard"][0];
    let approve = buttons[0]["callback_data"]
        .as_str()
        .expect("approve button")
        .to_string();
    assert!(approve.starts_with("/approve "), "{approve}");

    // The manager presses Approve under the note the bot sent.
    let held = (1..=20)
        .rev()
        .find_map(|id| {
            h.fake
                .message(MANAGER, id)
                .filter(|m| {
                    m["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("to approve")
                })
                .map(|_| id)
        })
        .expect("the bot's note is held by the fake");
    h.fake.push_update(FakeTelegram::callback_query(
        manager.clone(),
        manager.private_chat(),
        held,
        &approve,
    ));
    let edited = h
        .fake
        .wait_for_call(
            "editMessageText",
            |c| text_of(c).contains("approved by"),
            WAIT,
        )
        .await
        .expect("the note is edited to show the decision");
    assert_eq!(edited.params["chat_id"].as_i64(), Some(MANAGER));
    assert!(
        h.fake
            .wait_for_call("answerCallbackQuery", |_| true, WAIT)
            .await
            .is_some()
    );
    h.sent(PARTNER, "was approved").await;

    h.say(&partner, partner.private_chat(), "/rank");
    h.sent(PARTNER, "You: #").await;
    h.stop().await;
}

#[tokio::test]
async fn reject_button_asks_for_the_reason_with_force_reply() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    let partner = UserRef::new(PARTNER, "Zed").language("en");
    h.join(&manager, &partner, "Reason Co").await;
    h.say(&partner, partner.private_chat(), "/report 9000 ACME");
    let note = h.sent(MANAGER, "to approve").await;
    let reject = note["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
        .as_str()
        .expect("reject button")
        .to_string();
    assert!(
        reject.starts_with("/reject ") && !reject.ends_with(" -"),
        "{reject}"
    );

    h.fake.push_update(FakeTelegram::callback_query(
        manager.clone(),
        manager.private_chat(),
        1,
        &reject,
    ));
    let question = h
        .sent(MANAGER, "Reply to this message with the reason")
        .await;
    assert_eq!(
        question["reply_markup"]["force_reply"],
        json!(true),
        "{question}"
    );
    assert!(
        question["text"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&reject)
    );
    assert_eq!(
        sale_status(&h.db).await,
        "pending",
        "nothing decided before the reason"
    );

    let asked = (1..=30)
        .rev()
        .find(|id| {
            h.fake.message(MANAGER, *id).is_some_and(|m| {
                m["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Reply to this message")
            })
        })
        .expect("the question is held by the fake");
    h.fake.push_update(h.fake.reply_message(
        manager.private_chat(),
        manager.clone(),
        asked,
        "duplicate of an earlier order",
    ));
    h.sent(PARTNER, "Reason: duplicate of an earlier order")
        .await;
    assert_eq!(sale_status(&h.db).await, "rejected");
    h.stop().await;
}

#[tokio::test]
async fn groups_address_the_bot_and_keep_money_private() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    let group = ChatRef::group(-500, "Partners East");
    h.say(&manager, group.clone(), "/rank@OtherBot");
    h.say(&manager, group.clone(), "/help@rallybot");
    h.sent(-500, "commands").await;
    // Money asked in a group goes privately; the group gets a note.
    h.say(&manager, manager.private_chat(), "/invite Group Co dealer");
    let invite = h.sent(MANAGER, "start=").await;
    let code: String =
        rally_testkit::code_after(invite["text"].as_str().unwrap_or_default(), "/start ");
    let partner = UserRef::new(PARTNER, "Zed");
    h.say(&partner, partner.private_chat(), &format!("/start {code}"));
    h.sent(PARTNER, "Group Co").await;
    h.say(&partner, group.clone(), "/me");
    h.sent(PARTNER, "Approved sales").await;
    h.sent(-500, "private message").await;
    let to_group = h
        .fake
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.params["chat_id"].as_i64() == Some(-500))
        .count();
    assert_eq!(to_group, 2, "/rank@OtherBot is not for us");
    h.stop().await;
}

#[tokio::test]
async fn redelivered_updates_store_nothing_twice_and_429_is_retried() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    h.say(&manager, manager.private_chat(), "/invite Twice Co dealer");
    let invite = h.sent(MANAGER, "start=").await;
    let code: String =
        rally_testkit::code_after(invite["text"].as_str().unwrap_or_default(), "/start ");
    let partner = UserRef::new(PARTNER, "Zed");
    h.say(&partner, partner.private_chat(), &format!("/start {code}"));
    h.sent(PARTNER, "Twice Co").await;

    let before = sale_count(&h.db).await;
    // The same message delivered twice (a platform redelivery has the same message id).
    let update =
        FakeTelegram::text_message(partner.private_chat(), partner.clone(), "/report 1200 ACME");
    h.fake.push_update(update.clone());
    h.fake.push_update(update);
    h.fake
        .fail_next("sendMessage", Failure::TooManyRequests { retry_after: 1 });
    let replies = h
        .fake
        .wait_for_call(
            "sendMessage",
            |c| c.status == 200 && text_of(c).contains("recorded and approved"),
            WAIT,
        )
        .await;
    assert!(replies.is_some(), "sent after the 429");
    assert!(h.fake.wait_until_confirmed(WAIT).await);
    // Let the second delivery be processed too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sale_count(&h.db).await, before + 1);
    let statuses: Vec<u16> = h
        .fake
        .calls_to("sendMessage")
        .iter()
        .map(|c| c.status)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    h.stop().await;
}

#[tokio::test]
async fn webhook_refuses_a_wrong_secret_and_processes_a_right_one() {
    let fake = FakeTelegram::start("RallyBot").await;
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = Arc::new(rally_testkit::app(&db, &clock));
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let tg = Telegram::new(bot, app.clone(), "RallyBot".into());
    let stop = CancellationToken::new();
    let router = rally::platforms::http::router(
        rally::platforms::http::HttpState::new(app.clone(), stop.clone()),
        [rally::platforms::telegram::webhook::routes(
            tg.clone(),
            "s3cret".into(),
        )],
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let worker = tokio::spawn({
        let tg = tg.clone();
        let stop = stop.clone();
        async move { tg.process_forever(stop).await }
    });
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let user = UserRef::new(7, "Guest");
    let mut update = FakeTelegram::text_message(user.private_chat(), user.clone(), "/help");
    update["update_id"] = Value::from(99);

    let wrong = client
        .post(format!("http://{addr}/telegram/webhook/s3cret"))
        .header("X-Telegram-Bot-Api-Secret-Token", "nope")
        .json(&update)
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 401);
    let elsewhere = client
        .post(format!("http://{addr}/telegram/webhook/other"))
        .header("X-Telegram-Bot-Api-Secret-Token", "s3cret")
        .json(&update)
        .send()
        .await
        .expect("post");
    assert_eq!(elsewhere.status(), 404);
    let right = client
        .post(format!("http://{addr}/telegram/webhook/s3cret"))
        .header("X-Telegram-Bot-Api-Secret-Token", "s3cret")
        .json(&update)
        .send()
        .await
        .expect("post");
    assert_eq!(right.status(), 200);
    let reply = fake
        .wait_for_call(
            "sendMessage",
            |c| c.params["chat_id"].as_i64() == Some(7),
            WAIT,
        )
        .await;
    assert!(reply.is_some(), "the stored update is processed");
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(health.status(), 200);
    stop.cancel();
    let _ = tokio::time::timeout(WAIT, worker).await;
    server.abort();
}

/// Prepares a database with one partner whose Telegram account is `PARTNER`.
async fn prepared_database(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}", dir.join("rally.db").display());
    prepare_database_at(&url).await;
    url
}

/// Migrates the database at `url` and adds one partner whose Telegram account is `PARTNER`.
async fn prepare_database_at(url: &str) {
    use rally::engine::partner::{PartnerKind, Platform, Role};
    let store = rally::store::Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut tx = store.begin().await.expect("tx");
    let partner = rally::store::partners::insert(
        &mut tx,
        &rally::store::partners::NewPartner {
            name: "Crash Test Co".into(),
            kind: PartnerKind::Dealer,
            region: None,
            tier: None,
            potential_minor: None,
        },
        1,
    )
    .await
    .expect("partner")
    .expect("new");
    let member =
        rally::store::members::upsert(&mut tx, Platform::Telegram, &PARTNER.to_string(), "Zed", 1)
            .await
            .expect("member");
    rally::store::members::set_role(&mut tx, member.id, Some(partner.id), Role::Partner)
        .await
        .expect("role");
    tx.commit().await.expect("commit");
    store.close().await;
}

/// Ends the polling lease, as its expiry would.
async fn expire_polling_lease(url: &str) {
    let store = rally::store::Store::connect(url).await.expect("connect");
    sqlx::query("DELETE FROM leases WHERE name = 'telegram-polling'")
        .execute(store.pool())
        .await
        .expect("expire lease");
    store.close().await;
}

async fn count_sales(url: &str) -> i64 {
    let store = rally::store::Store::connect(url).await.expect("connect");
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sales")
        .fetch_one(store.pool())
        .await
        .expect("count");
    store.close().await;
    row.0
}

/// Reports streamed in while `rally run` is killed with -9 again and again.
const STREAMED_REPORTS: usize = 2_000;
/// How many times the process is killed while they stream in.
const KILLS: usize = 10;

#[tokio::test]
async fn kill_9_mid_stream_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = prepared_database(dir.path()).await;
    kill_9_while_reports_stream_in(&url).await;
}

#[tokio::test]
async fn kill_9_mid_stream_loses_nothing_and_doubles_nothing_on_postgres() {
    let Some(db) = TestDb::postgres("kill_9_mid_stream").await else {
        return;
    };
    prepare_database_at(&db.url).await;
    kill_9_while_reports_stream_in(&db.url).await;
    drop(db);
}

/// [`STREAMED_REPORTS`] `/report`s are pushed to the fake Bot API in small groups while
/// `rally run` is killed with -9 [`KILLS`] times (each time after a few more answers, so the
/// kills land in different places: between a batch's commit and its answers, mid-batch, while
/// polling); a last process finishes. Every report is stored exactly once, the period total
/// counts each once, every report was answered, and nothing is left unanswered in the inbox.
async fn kill_9_while_reports_stream_in(url: &str) {
    let started = std::time::Instant::now();
    let fake = FakeTelegram::start("RallyBot").await;
    let partner = UserRef::new(PARTNER, "Zed");
    let customer = |i: usize| format!("Customer{i:05}");
    let streaming = {
        let (fake, partner) = (fake.clone(), partner.clone());
        tokio::spawn(async move {
            for chunk in (0..STREAMED_REPORTS).collect::<Vec<_>>().chunks(25) {
                for &i in chunk {
                    fake.push_update(FakeTelegram::text_message(
                        partner.private_chat(),
                        partner.clone(),
                        &format!("/report {} Customer{i:05}", 100 + i),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    for kill in 0..KILLS {
        let answered = fake.calls_to("sendMessage").len();
        let mut process = spawn_rally_run(env!("CARGO_BIN_EXE_rally"), &fake, url, None);
        // More answers each time (10, 35, 60, …), so the kills land at different points.
        let more = 10 + kill * 25;
        let some = fake
            .wait_for_calls("sendMessage", answered + more, Duration::from_secs(30))
            .await;
        process.kill().expect("kill -9");
        let _ = process.wait();
        assert!(
            some.is_some(),
            "process {kill} answered {more} more reports"
        );
        // The dead process's polling lease would keep the next one waiting for 15 s (the
        // takeover is tested in `tests/instances.rs`); let it expire now.
        expire_polling_lease(url).await;
    }
    streaming.await.expect("streaming task");

    let mut last = spawn_rally_run(env!("CARGO_BIN_EXE_rally"), &fake, url, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count_sales(url).await < STREAMED_REPORTS as i64 && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(fake.wait_until_confirmed(WAIT).await);
    // Every report answered at least once (a kill between a commit and its answers answers
    // again after the restart, from the stored sale).
    let answered = |fake: &FakeTelegram| -> std::collections::HashSet<String> {
        fake.calls_to("sendMessage")
            .iter()
            .filter_map(|c| {
                let text = text_of(c);
                let at = text.find("Customer")?;
                text.get(at..at + "Customer".len() + 5).map(str::to_string)
            })
            .collect()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while answered(&fake).len() < STREAMED_REPORTS && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answered = answered(&fake);
    let missing: Vec<String> = (0..STREAMED_REPORTS)
        .map(customer)
        .filter(|c| !answered.contains(c))
        .collect();
    assert!(missing.is_empty(), "reports never answered: {missing:?}");

    let store = rally::store::Store::connect(url).await.expect("connect");
    let (sales, customers): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT customer) FROM sales")
            .fetch_one(store.pool())
            .await
            .expect("count");
    assert_eq!(
        sales, STREAMED_REPORTS as i64,
        "every report stored exactly once"
    );
    assert_eq!(
        customers, STREAMED_REPORTS as i64,
        "no report lost, none doubled"
    );
    let (counted,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(approved_count + pending_count), 0) AS BIGINT) \
         FROM period_totals",
    )
    .fetch_one(store.pool())
    .await
    .expect("totals");
    assert_eq!(
        counted, STREAMED_REPORTS as i64,
        "each sale counted once in the totals"
    );
    // The answer sender marks what it sent; give it its group commit.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (open,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL OR answered_at IS NULL",
        )
        .fetch_one(store.pool())
        .await
        .expect("inbox");
        if open == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} inbox updates left unprocessed or unanswered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.close().await;

    // SIGTERM stops the service cleanly.
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(last.id().to_string())
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = last.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rally run did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "{exit:?}");
    eprintln!(
        "{STREAMED_REPORTS} reports, {KILLS} kills: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn photo_evidence_locale_and_command_menus() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    h.say(&manager, manager.private_chat(), "/invite Photo Co dealer");
    let invite = h.sent(MANAGER, "start=").await;
    let code: String =
        rally_testkit::code_after(invite["text"].as_str().unwrap_or_default(), "/start ");
    // A Chinese-speaking partner: answers come in Chinese until /lang says otherwise.
    let partner = UserRef::new(PARTNER, "Zed").language("zh-hans");
    h.say(&partner, partner.private_chat(), &format!("/start {code}"));
    h.sent(PARTNER, "加入成功").await;

    h.fake.push_update(FakeTelegram::photo_message(
        partner.private_chat(),
        partner.clone(),
        "/report 9000 Photo Customer",
        "PHOTO-FILE-1",
    ));
    h.sent(PARTNER, "等待经理审批").await;
    let photo = h
        .fake
        .wait_for_call(
            "sendPhoto",
            |c| c.params["chat_id"].as_i64() == Some(MANAGER),
            WAIT,
        )
        .await
        .expect("the manager sees the evidence with the sale");
    assert_eq!(photo.params["photo"].as_str(), Some("PHOTO-FILE-1"));
    assert!(text_of(&photo).contains("Photo Customer"));
    let evidence: (Option<String>,) =
        sqlx::query_as("SELECT evidence FROM sales WHERE customer = 'Photo Customer'")
            .fetch_one(h.db.store.pool())
            .await
            .expect("sale");
    assert_eq!(evidence.0.as_deref(), Some("PHOTO-FILE-1"));
    h.stop().await;
}

#[tokio::test]
async fn command_menus_in_both_languages_and_for_managers() {
    let fake = FakeTelegram::start("RallyBot").await;
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = Arc::new(rally_testkit::app(&db, &clock));
    assert!(rally::demo::seed(&app).await.expect("seed"));
    // Make the demo manager a Telegram account so it gets a chat-scoped menu.
    sqlx::query("UPDATE members SET platform = 'telegram', platform_user_id = '1001' WHERE platform_user_id = 'manager'")
        .execute(db.store.pool())
        .await
        .expect("update");
    let tg = Telegram::new(
        build_bot(fake.token(), &fake.url()).expect("bot"),
        app,
        "RallyBot".into(),
    );
    tg.register_commands().await.expect("menus");
    let calls = fake.calls_to("setMyCommands");
    let names = |c: &rally_testkit::telegram::Call| -> Vec<String> {
        c.params["commands"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["command"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let english = calls
        .iter()
        .find(|c| c.params.get("language_code").is_none() && c.params.get("scope").is_none())
        .expect("default menu");
    assert!(names(english).contains(&"report".to_string()));
    assert!(
        !names(english).contains(&"approve".to_string()),
        "manager commands stay hidden"
    );
    let chinese = calls
        .iter()
        .find(|c| c.params["language_code"].as_str() == Some("zh"))
        .expect("Chinese menu");
    assert!(chinese.params["commands"].to_string().contains("报单"));
    let manager = calls
        .iter()
        .find(|c| c.params["scope"]["chat_id"].as_i64() == Some(1001))
        .expect("manager menu");
    assert!(names(manager).contains(&"approve".to_string()));
}

#[tokio::test]
async fn private_answer_refused_tells_the_group_how_to_start_the_bot() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    let group = ChatRef::group(-700, "Partners West");
    // The manager never opened a private chat: Telegram refuses the private answer.
    h.fake
        .fail_next("sendMessage", Failure::CantInitiateConversation);
    h.say(&manager, group.clone(), "/audit");
    h.sent(-700, "t.me/RallyBot").await;
    let failures: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM delivery_failures")
        .fetch_one(h.db.store.pool())
        .await
        .expect("count");
    assert_eq!(failures.0, 1, "the refusal is recorded");
    h.stop().await;
}

#[tokio::test]
async fn announcements_reach_program_chats_and_members_with_a_delivery_report() {
    let h = Harness::start().await;
    let manager = UserRef::new(MANAGER, "Mei");
    let partner = UserRef::new(PARTNER, "Zed").language("en");
    h.join(&manager, &partner, "Broadcast Co").await;
    let group = ChatRef::group(-700, "Partners East");
    h.say(&manager, group.clone(), "/bindchat East");
    h.sent(-700, "program chat for region East").await;
    // Private chats cannot be bound; bad filters and empty texts are refused; nothing is sent.
    h.say(&manager, manager.private_chat(), "/bindchat");
    h.sent(MANAGER, "works in a group or channel").await;
    h.say(&manager, manager.private_chat(), "/announce regoin=East hi");
    h.sent(MANAGER, "Unknown filter “regoin”").await;
    h.say(&manager, manager.private_chat(), "/announce to=all");
    h.sent(MANAGER, "Usage: /announce").await;
    h.say(&partner, partner.private_chat(), "/announce hello");
    h.sent(PARTNER, "Only managers").await;

    // The partner has blocked the bot: their copy fails, and the report says so.
    h.fake.block(PARTNER);
    h.say(
        &manager,
        manager.private_chat(),
        "/announce to=all region=East Big news",
    );
    h.sent(MANAGER, "is on its way to 1 chats and 1 members")
        .await;
    h.sent(-700, "Big news").await;
    let report = h.sent(MANAGER, "Announcement #1: sent").await;
    let text = report["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("sent 1, failed 1 (blocked the bot: 1)"),
        "{text}"
    );
    h.say(&manager, manager.private_chat(), "/broadcasts");
    h.sent(MANAGER, "#1").await;
    h.stop().await;
}

/// Two instances in webhook mode on one database: each stores what its webhook receives, one
/// processes the inbox; an update Telegram redelivers to the other instance is answered once,
/// and an update only the standby received is answered by the leader.
#[tokio::test]
async fn webhook_instances_share_one_inbox_and_answer_each_update_once() {
    let fake = FakeTelegram::start("RallyBot").await;
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let stop = CancellationToken::new();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut addresses = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let app = Arc::new(rally_testkit::app(&db, &clock));
        let bot = build_bot(fake.token(), &fake.url()).expect("bot");
        let tg = Telegram::new(bot, app.clone(), "RallyBot".into());
        let router = rally::platforms::http::router(
            rally::platforms::http::HttpState::new(app, stop.clone()),
            [rally::platforms::telegram::webhook::routes(
                tg.clone(),
                "s3cret".into(),
            )],
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        addresses.push(listener.local_addr().expect("addr"));
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move { tg.process_forever(stop).await }));
    }
    let post = |addr: std::net::SocketAddr, update: Value| {
        let client = client.clone();
        async move {
            let answer = client
                .post(format!("http://{addr}/telegram/webhook/s3cret"))
                .header("X-Telegram-Bot-Api-Secret-Token", "s3cret")
                .json(&update)
                .send()
                .await
                .expect("post");
            assert_eq!(answer.status(), 200);
        }
    };
    let update = |id: i64, user: i64| {
        let user = UserRef::new(user, "Guest");
        let mut update = FakeTelegram::text_message(user.private_chat(), user.clone(), "/help");
        update["update_id"] = Value::from(id);
        update
    };
    post(addresses[0], update(100, 7)).await;
    post(addresses[1], update(101, 8)).await;
    // Telegram redelivers update 100 to the other instance.
    post(addresses[1], update(100, 7)).await;
    for chat in [7, 8] {
        fake.wait_for_call(
            "sendMessage",
            |c| c.params["chat_id"].as_i64() == Some(chat),
            WAIT,
        )
        .await
        .expect("answered");
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for chat in [7, 8] {
        let answers = fake
            .calls_to("sendMessage")
            .iter()
            .filter(|c| c.params["chat_id"].as_i64() == Some(chat))
            .count();
        assert_eq!(answers, 1, "chat {chat} answered once");
    }
    stop.cancel();
    for task in tasks {
        task.abort();
    }
}
