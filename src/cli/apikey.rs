//! `rally apikey create|list|revoke` and `rally tvlink`: keys for the HTTP API and the TV page.

use std::process::ExitCode;

use rally::app::App;
use rally::features::api_keys::{self, Scope};

use super::args::ApikeyAction;

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

pub(crate) async fn apikey(app: &App, action: ApikeyAction) -> anyhow::Result<ExitCode> {
    match action {
        ApikeyAction::Create { name, scopes } => {
            let scopes = api_keys::parse_scopes(&scopes).map_err(anyhow::Error::msg)?;
            let created = api_keys::create(app, &name, &scopes).await?;
            eprintln!(
                "API key {} ({}) created with scopes {}. It is shown only now: store it safely.",
                created.info.id,
                created.info.name,
                scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            println!("{}", created.secret);
        }
        ApikeyAction::List => {
            let keys = api_keys::list(app).await?;
            if keys.is_empty() {
                println!("no API keys yet: `rally apikey create <name> --scopes sales:write,read`");
            }
            for key in keys {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                println!(
                    "{:>5}  {:<24} rk_{}_…  {:<22} created {}  {}",
                    key.id,
                    key.name,
                    key.prefix,
                    scopes.join(","),
                    when(key.created_at),
                    key.revoked_at
                        .map_or("live".to_string(), |at| format!("revoked {}", when(at)))
                );
            }
        }
        ApikeyAction::Revoke { key } => match api_keys::revoke(app, &key).await? {
            Some(info) => println!("API key {} ({}) revoked", info.id, info.name),
            None => {
                anyhow::bail!("no live API key has the name or id {key:?}: see `rally apikey list`")
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates a key with the `tv` scope and prints the page's URL with it.
pub(crate) async fn tvlink(
    app: &App,
    contest: Option<String>,
    name: Option<String>,
) -> anyhow::Result<ExitCode> {
    let name = name
        .unwrap_or_else(|| format!("tv {}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.3f")));
    let created = api_keys::create(app, &name, &[Scope::Tv]).await?;
    let base = app
        .config
        .http
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", app.config.http.listen));
    let path = match &contest {
        Some(id) => format!("/tv/{id}"),
        None => "/tv".to_string(),
    };
    eprintln!(
        "TV key {} ({}) created; revoke it with `rally apikey revoke {}`.",
        created.info.id, created.info.name, created.info.id
    );
    println!("{base}{path}?token={}", created.secret);
    Ok(ExitCode::SUCCESS)
}
