//! `rally run`: the chat platforms whose token is set (none: HTTP only), and the HTTP server,
//! until a signal.

use std::process::ExitCode;
use std::sync::Arc;

use rally::app::{App, SystemClock};
use rally::config::{Config, TelegramMode};
use rally::outbox::{Sender, SenderSettings};
use rally::platforms::discord;
use rally::platforms::http;
use rally::platforms::telegram::{self, Telegram};
use rally::store::Store;
use teloxide::payloads::SetWebhookSetters;
use teloxide::prelude::Requester;
use tokio_util::sync::CancellationToken;

/// Cancels `token` on SIGINT or SIGTERM (what service managers send).
fn stop_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = tokio::signal::ctrl_c().await;
                        token.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping");
        token.cancel();
    });
}

/// `rally run`: the platforms whose token is set, and the HTTP server, until a signal.
pub(crate) async fn run_service(config: Config) -> anyhow::Result<ExitCode> {
    let shutdown = CancellationToken::new();
    stop_on_signals(shutdown.clone());
    if config.telegram.token.is_none() && config.discord.token.is_none() {
        // An API-only deployment (issue 13): finance systems feed sales in, screens watch.
        tracing::info!(
            "no chat platform configured (TELEGRAM_BOT_TOKEN, DISCORD_TOKEN): serving HTTP only"
        );
    }
    let store = Store::connect(&config.database.url).await?;
    store.migrate().await?;
    let mut app = App::new(store, Arc::new(config.clone()), Box::new(SystemClock))?;
    // Contest standings are built once per contest definition; do it before taking traffic.
    rally::features::contests::service::prepare(&app).await?;

    let mut telegram = None;
    if let Some(token) = &config.telegram.token {
        let bot = telegram::build_bot(token, config.telegram.api_base())?;
        let me = tokio::select! {
            _ = shutdown.cancelled() => return Ok(ExitCode::SUCCESS),
            me = bot.get_me() => me.map_err(|e| anyhow::anyhow!("Telegram getMe failed: {e}"))?,
        };
        let username = me.username().to_string();
        tracing::info!(bot = %username, "connected to Telegram");
        app.bot_username = Some(username.clone());
        telegram = Some((bot, username));
    }
    let app = Arc::new(app);
    let telegram = telegram.map(|(bot, username)| Telegram::new(bot, app.clone(), username));

    let mut webhook = None;
    if let Some(tg) = &telegram {
        if let Err(e) = tg.register_commands().await {
            tracing::warn!(error = %e, "command menus not registered");
        }
        if config.telegram.mode == TelegramMode::Webhook {
            let (Some(base), Some(secret)) = (
                &config.telegram.webhook_url,
                &config.telegram.webhook_secret,
            ) else {
                anyhow::bail!(
                    "webhook mode needs telegram.webhook_url and RALLY_TELEGRAM_WEBHOOK_SECRET"
                );
            };
            let url = reqwest::Url::parse(&format!("{base}/telegram/webhook/{secret}"))?;
            tg.bot()
                .set_webhook(url)
                .secret_token(secret.clone())
                .await?;
            webhook = Some((tg.clone(), secret.clone()));
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    // HTTP: health, metrics, the API, the TV page (issue 13), and the Telegram webhook.
    let http_state = http::HttpState::new(app.clone(), shutdown.clone());
    tasks.spawn(http::serve(
        config.http.listen,
        http::router(
            http_state,
            webhook
                .clone()
                .map(|(tg, secret)| telegram::webhook::routes(tg, secret)),
        ),
        shutdown.clone(),
    ));
    let sweep = http::sweep_idempotency(app.clone(), shutdown.clone());
    tasks.spawn(async move {
        sweep.await;
        Ok(())
    });
    if let Some(token) = &config.discord.token {
        let http = discord::build_http(token, config.discord.api_url.as_deref())?;
        let handler = discord::Discord::new(app.clone(), config.discord.guild_ids.clone());
        let mut client = serenity::all::ClientBuilder::new_with_http(http, discord::intents())
            .event_handler(handler)
            .await
            .map_err(|e| anyhow::anyhow!("Discord client: {e}"))?;
        let shards = client.shard_manager.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            shards.shutdown_all().await;
        });
        let shards = config.discord.shards;
        tasks.spawn(async move {
            let started = match shards {
                // serenity's range end is the last shard itself (`4..7` runs 4, 5, 6 and 7).
                Some(s) => {
                    tracing::info!(shards = %s, "Discord gateway: connecting these shards");
                    client.start_shard_range(s.first..s.last, s.total).await
                }
                None => client.start().await,
            };
            started.map_err(|e| anyhow::anyhow!("Discord gateway: {e}"))
        });
    }
    // The scheduler: configured jobs at their due times, once each across instances.
    let synced = rally::features::training::service::sync_config(&app).await?;
    if synced > 0 {
        tracing::info!(trainings = synced, "configured trainings synced");
    }
    let scheduler = rally::scheduler::Scheduler::new(app.clone());
    let stop = shutdown.clone();
    tasks.spawn(async move {
        scheduler.run(stop).await;
        Ok(())
    });
    // One outbox sender per platform: notices for members, in order, at the platform's pace.
    if let Some(token) = &config.discord.token {
        let transport =
            discord::DiscordTransport::new(app.clone(), token, config.discord.api_url.as_deref())?;
        let sender = Sender::new(
            app.clone(),
            Arc::new(transport),
            SenderSettings::discord(&config.outbox),
        );
        let stop = shutdown.clone();
        tasks.spawn(async move {
            sender.run(stop).await;
            Ok(())
        });
    }
    if let Some(tg) = &telegram {
        let transport = telegram::TelegramTransport(tg.clone());
        let sender = Sender::new(
            app.clone(),
            Arc::new(transport),
            SenderSettings::telegram(&config.outbox),
        );
        let stop = shutdown.clone();
        tasks.spawn(async move {
            sender.run(stop).await;
            Ok(())
        });
    }
    if let Some(tg) = telegram {
        let stop = shutdown.clone();
        if webhook.is_some() {
            tasks.spawn(async move {
                tg.process_forever(stop).await;
                Ok(())
            });
        } else {
            tasks.spawn(async move { tg.poll(stop).await });
        }
    }
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        let result = done.map_err(anyhow::Error::from).and_then(|r| r);
        if let Err(e) = result {
            tracing::error!(error = %format!("{e:#}"), "a service task failed; stopping");
            failure.get_or_insert(e);
            shutdown.cancel();
        } else if !shutdown.is_cancelled() {
            // A loop ended on its own: stop the rest too.
            shutdown.cancel();
        }
    }
    app.store.close().await;
    match failure {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}
