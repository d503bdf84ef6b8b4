//! The role matrix, generated from the command registry: every command × every role (stranger,
//! partner, manager, admin) × private and group chat, with valid and junk arguments. Never a
//! panic or an internal error; a command above the member's role is refused with the localized
//! sentence; no reply in a group carries money owed to a partner (anyone's), and nothing but the
//! public leaderboard shows another partner's sales.

use rally::app::App;
use rally::chat::handler::{Incoming, Outcome};
use rally::chat::registry::{self, Audience};
use rally::chat::reply::Destination;
use rally::config::{AdminId, AdminPlatform};
use rally::engine::partner::Platform;
use rally_testkit::{TestClock, TestDb, say, test_config, text};
use std::sync::Arc;

/// The other partner's sale: an amount no demo total can show by chance.
const SECRET_AMOUNT: &str = "98765.43";
const SECRET_SHOWN: [&str; 2] = ["98,765.43", "98765.43"];
const ADMIN_ID: u64 = 4242;
/// Message families that carry money owed to a partner (statements, explanations, what-if,
/// fund shares, the scorecard, sales lists): private chats only.
const PRIVATE_FAMILIES: [&str; 8] = [
    "statement-",
    "line-",
    "why-",
    "whatif-",
    "funds-",
    "me-",
    "sales-",
    "your-",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Stranger,
    Partner,
    Manager,
    Admin,
}

impl Role {
    fn sender(self) -> (Platform, &'static str) {
        match self {
            Role::Stranger => (Platform::Console, "stranger"),
            Role::Partner => (Platform::Console, "wang"),
            Role::Manager => (Platform::Console, "manager"),
            Role::Admin => (Platform::Telegram, "4242"),
        }
    }

    fn is_manager(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }
}

fn junk_arguments() -> Vec<String> {
    vec![
        "☃☃☃".into(),
        "\"unclosed".into(),
        "-1".into(),
        "0".into(),
        "99999999999999999999999".into(),
        "# -- #".into(),
        "@everyone <b>x</b>".into(),
        "１２５００ 「引号」".into(),
        "x".repeat(300),
    ]
}

/// The demo program, an admin from the configuration, and a second partner (`zeta`) whose
/// approved sale of ¥98,765.43 must never show in a group.
async fn matrix_app(db: &TestDb, clock: &TestClock) -> App {
    let mut config = test_config(&db.url);
    config.admins.push(AdminId {
        platform: AdminPlatform::Telegram,
        id: ADMIN_ID,
    });
    let app = App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app");
    assert!(rally::demo::seed(&app).await.expect("seed"));
    let invited = say(&app, "manager", 1, "/invite \"Zeta Trading\" dealer North").await;
    let code = rally_testkit::first_text_arg(&invited, "code");
    say(&app, "zeta", 2, &format!("/start {code}")).await;
    let reported = say(
        &app,
        "zeta",
        3,
        &format!("/report {SECRET_AMOUNT} Hidden Corp"),
    )
    .await;
    let sale = rally_testkit::first_int_arg(&reported, "sale");
    let approved = say(&app, "manager", 4, &format!("/approve {sale}")).await;
    assert!(
        !rally_testkit::keys(&approved)
            .iter()
            .any(|k| k.starts_with("error")),
        "{:?}",
        rally_testkit::keys(&approved)
    );
    app
}

async fn send(app: &App, role: Role, private: bool, id: u64, text: &str) -> Outcome {
    let (platform, sender) = role.sender();
    app.handle(&Incoming {
        platform,
        chat_id: if private {
            sender.into()
        } else {
            "group".into()
        },
        private_chat: private,
        sender_id: sender.into(),
        sender_name: sender.into(),
        message_id: format!("m{id}"),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    })
    .await
}

#[tokio::test]
async fn every_command_for_every_role_in_every_chat() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = matrix_app(&db, &clock).await;
    let roles = [Role::Stranger, Role::Partner, Role::Manager, Role::Admin];
    let mut id = 100;
    let mut checked = 0;
    for spec in registry::all() {
        let mut arguments = vec![spec.example.to_string(), String::new()];
        arguments.extend(junk_arguments());
        for role in roles {
            for private in [true, false] {
                for args in &arguments {
                    id += 1;
                    let message = format!("/{} {args}", spec.name);
                    let outcome = send(&app, role, private, id, &message).await;
                    let keys: Vec<&str> = outcome
                        .replies
                        .iter()
                        .flat_map(|r| r.lines.iter().map(|m| m.key.as_str()))
                        .collect();
                    let context = format!("{role:?} private={private} {message:?} → {keys:?}");
                    assert!(!keys.contains(&"error-internal"), "{context}");
                    assert!(!outcome.replies.is_empty(), "no answer: {context}");
                    if !private {
                        for reply in outcome.replies.iter().filter(|r| r.to == Destination::Here) {
                            for line in &reply.lines {
                                assert!(
                                    !PRIVATE_FAMILIES.iter().any(|f| line.key.starts_with(f)),
                                    "money in a group: {context}"
                                );
                                // The leaderboard is public by design: sales totals, not money
                                // owed. Nothing else may show the other partner's sale.
                                if line.key.starts_with("rank-") {
                                    continue;
                                }
                                let shown = app.i18n.render(outcome.locale, line);
                                for secret in SECRET_SHOWN {
                                    assert!(!shown.contains(secret), "{context}: {shown}");
                                }
                            }
                        }
                    }
                    let parsed = rally::chat::command::parse(&message, None);
                    if matches!(parsed, Ok(Some(_))) {
                        let first = keys.first().copied().unwrap_or_default();
                        let refused = matches!(first, "error-forbidden" | "error-not-registered");
                        match (spec.audience, role) {
                            (Audience::Manager, r) if !r.is_manager() => {
                                assert!(refused, "not refused: {context}")
                            }
                            (Audience::Partner, Role::Stranger) => {
                                assert_eq!(first, "error-not-registered", "{context}")
                            }
                            // Joining and linking need no role; the rest of these say how to join.
                            (Audience::Everyone, Role::Stranger) => {}
                            _ => assert!(!refused, "wrongly refused: {context}"),
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    let expected = registry::all().count() * 4 * 2 * (2 + junk_arguments().len());
    assert_eq!(checked, expected);
}

#[tokio::test]
async fn refusals_are_localized() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = matrix_app(&db, &clock).await;
    say(&app, "wang", 10, "/lang zh-CN").await;
    for (id, spec) in registry::all()
        .filter(|s| s.audience == Audience::Manager)
        .enumerate()
    {
        let message = format!("/{} {}", spec.name, spec.example);
        let outcome = send(&app, Role::Partner, true, 20 + id as u64, &message).await;
        let shown = text(&app, &outcome);
        assert_eq!(outcome.locale, rally::config::Locale::ZhCn, "{message}");
        assert!(
            !shown.is_ascii() && !shown.contains("error-"),
            "{message}: {shown}"
        );
    }
}
