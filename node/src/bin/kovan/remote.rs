//! Talking to the running daemon over its control socket (JSON lines,
//! SPEC.md §10): one call, a call printed through the output layer, the
//! event stream, and a file download followed to its end.

use kovan_node::control::{Client, ClientError};
use kovan_node::home::Home;
use serde_json::{Value, json};

use crate::{Context, output};

/// A runtime for one command's socket calls.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Calls one method of the daemon and returns its answer.
pub fn call(home: &Home, method: &str, params: Value) -> anyhow::Result<Value> {
    runtime()?.block_on(async {
        let mut client = Client::connect(home.root()).await?;
        Ok(client.call(method, params).await?)
    })
}

/// Calls one method of the daemon and prints its answer: as it came with
/// `--json`, else as `text` writes it.
pub fn run(
    ctx: &Context,
    method: &str,
    params: Value,
    text: impl FnOnce(&Value),
) -> anyhow::Result<()> {
    let v = call(&ctx.home, method, params)?;
    output::print_value(ctx.json, &v, text);
    Ok(())
}

/// A connection subscribed to the daemon's events (`watch`).
async fn events(home: &Home) -> anyhow::Result<Client> {
    let mut client = Client::connect(home.root()).await?;
    client.call("watch", json!({})).await?;
    Ok(client)
}

/// Hands every line the daemon sends after `watch` to `each`, until the
/// daemon stops (then it says so) or the connection fails.
pub fn watch(home: &Home, mut each: impl FnMut(&Value)) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let mut client = events(home).await?;
        loop {
            match client.next().await {
                Ok(line) => each(&line),
                Err(ClientError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    anyhow::bail!("the daemon stopped")
                }
                Err(e) => return Err(e.into()),
            }
        }
    })
}

/// Starts a download (`fetch_file` with `params`) and follows the file's
/// events until it is complete, failed or cancelled — subscribed first, so
/// the end cannot be missed. `each` sees every state on the way; the last
/// is returned.
pub fn fetch_file_and_wait(
    home: &Home,
    params: Value,
    mut each: impl FnMut(&Value),
) -> anyhow::Result<Value> {
    let id = params["id"].as_str().unwrap_or_default().to_owned();
    runtime()?.block_on(async {
        let mut watch = events(home).await?;
        let mut client = Client::connect(home.root()).await?;
        let mut last = client.call("fetch_file", params).await?;
        while !matches!(last["state"].as_str(), Some("complete" | "failed" | "cancelled")) {
            let line = watch.next().await?;
            let f = &line["event"]["file"];
            if line["event"]["type"] == "file" && f["id"] == id.as_str() {
                each(f);
                last = f.clone();
            }
        }
        Ok(last)
    })
}
