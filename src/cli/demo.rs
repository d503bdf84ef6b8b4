//! `rally demo`: embedded SQLite, the demo program and a terminal chat.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use rally::demo;
use rally::platforms::console::Console;

use super::open_app;

pub(crate) async fn demo(db: &Path, fresh: bool, identity: &str) -> anyhow::Result<ExitCode> {
    if fresh {
        remove_database(db)?;
    }
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let mut config = demo::config_with_contests(today).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.database.url = format!("sqlite://{}", db.display());
    let app = open_app(config).await?;
    demo::seed(&app).await?;
    demo::seed_contests(&app).await?;
    demo::seed_community(&app).await?;
    let interactive = std::io::stdin().is_terminal();
    let mut console = Console::new(&app, identity);
    if interactive {
        println!(
            "Rally demo — {} · you are `{}`; `/help` lists commands, `/as manager` switches \
             to the manager, `/as` lists members, Ctrl-D quits.",
            db.display(),
            console.identity()
        );
    }
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    console.run(stdin, tokio::io::stdout(), interactive).await?;
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Removes the SQLite file and its write-ahead files, if present, to start over.
fn remove_database(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.to_path_buf().into_os_string();
        path.push(suffix);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow::anyhow!("cannot remove {path:?}: {e}")),
        }
    }
    Ok(())
}
