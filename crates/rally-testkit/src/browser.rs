//! A real headless Chromium driven over the DevTools protocol: open a page, evaluate
//! JavaScript in it, take a screenshot. Enough for the TV page's test, with no browser
//! automation framework: Chromium prints its DevTools websocket address, and each command is a
//! JSON message answered by one with the same id.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The Chromium binary: `RALLY_TEST_CHROMIUM`, else `chromium` (Debian's package).
pub fn chromium_binary() -> String {
    std::env::var("RALLY_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".to_string())
}

/// A headless Chromium with one page open.
pub struct Browser {
    process: Child,
    socket: Socket,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium (1280×720) and opens `url` in a page; `Err` if Chromium cannot start.
    pub async fn open(url: &str) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut process = Command::new(chromium_binary())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1280,720",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromium_binary()))?;
        let stderr = process.stderr.take().ok_or("no stderr")?;
        // Chromium prints "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>".
        let endpoint = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let found = lines.by_ref().map_while(Result::ok).find_map(|line| {
                line.split("DevTools listening on ")
                    .nth(1)
                    .map(|s| s.trim().to_string())
            });
            // Keep draining so Chromium never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            found
        });
        let endpoint = tokio::time::timeout(Duration::from_secs(30), endpoint)
            .await
            .map_err(|_| "Chromium did not print its DevTools address within 30 s".to_string())?
            .map_err(|e| e.to_string())?
            .ok_or("Chromium exited before printing its DevTools address")?;
        let (socket, _) = tokio_tungstenite::connect_async(endpoint.as_str())
            .await
            .map_err(|e| format!("DevTools websocket: {e}"))?;
        let mut browser = Browser {
            process,
            socket,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser
            .call(None, "Target.createTarget", json!({ "url": url }))
            .await?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or("no target id")?
            .to_string();
        let attached = browser
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await?;
        browser.session = attached["sessionId"]
            .as_str()
            .ok_or("no session id")?
            .to_string();
        Ok(browser)
    }

    /// Sends one command (to the page's session when `session` is given) and waits for its
    /// answer, skipping the events Chromium sends meanwhile.
    async fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| format!("{method}: {e}"))?;
        let answer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(frame) = self.socket.next().await {
                let Ok(Message::Text(text)) = frame else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if value["id"] == json!(id) {
                    return Some(value);
                }
            }
            None
        })
        .await
        .map_err(|_| format!("{method}: no answer within 30 s"))?
        .ok_or_else(|| format!("{method}: the DevTools connection closed"))?;
        if let Some(error) = answer.get("error") {
            return Err(format!("{method}: {error}"));
        }
        Ok(answer["result"].clone())
    }

    /// Evaluates `expression` in the page; its value as JSON.
    pub async fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let session = self.session.clone();
        let result = self
            .call(
                Some(&session),
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(format!("{expression}: {exception}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// A PNG of the page as shown.
    pub async fn screenshot(&mut self) -> Result<Vec<u8>, String> {
        let session = self.session.clone();
        let shot = self
            .call(
                Some(&session),
                "Page.captureScreenshot",
                json!({ "format": "png" }),
            )
            .await?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
