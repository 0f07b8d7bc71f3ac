//! The local control socket (SPEC.md §10): how `kovan` commands talk to a
//! running `kovan daemon`.
//!
//! A Unix socket in the node's home, mode 0600 (only its owner may use
//! it). One JSON object per line each way: a request
//! `{"id": n, "method": "...", "params": {...}}` gets one response
//! `{"id": n, "ok": true, "result": ...}` or
//! `{"id": n, "ok": false, "error": {"kind": "...", "message": "..."}}`.
//! `watch` answers `{"id": n, "ok": true, "result": "watching"}` and then
//! streams `{"event": {...}}` lines until the client hangs up. Lines are at
//! most [`MAX_LINE`] bytes; a longer one closes the connection.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt as _, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::node::{
    GroupChange, HistoryAt, LiveShare, NodeError, NodeErrorKind, NodeHandle, ScheduledContent,
};

/// The longest request or response line.
pub const MAX_LINE: usize = 1024 * 1024;
/// The socket's file name in the home directory.
pub const SOCKET_FILE: &str = "kovan.sock";
/// Clients served at once.
pub const MAX_CLIENTS: usize = 32;

/// The socket path for a home directory.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join(SOCKET_FILE)
}

/// Serves the control socket at `path` until the returned task is aborted.
pub fn serve(node: NodeHandle, path: &Path) -> std::io::Result<tokio::task::JoinHandle<()>> {
    if path.exists() {
        // A socket left by a daemon that died: refuse if one still answers.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("a daemon is already running on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS));
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let node = node.clone();
            tokio::spawn(async move {
                if let Err(e) = client(node, stream).await {
                    tracing::debug!(error = %e, "control client ended");
                }
                drop(permit);
            });
        }
    }))
}

async fn read_line(
    r: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    buf.clear();
    let mut limited = (&mut *r).take(MAX_LINE as u64 + 1);
    let n = limited.read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(false);
    }
    if buf.len() > MAX_LINE {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "line too long"));
    }
    Ok(true)
}

async fn client(node: NodeHandle, stream: UnixStream) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    while read_line(&mut r, &mut buf).await? {
        let req: Value = match serde_json::from_slice(&buf) {
            Ok(v) => v,
            Err(e) => {
                let resp = json!({"id": null, "ok": false,
                    "error": {"kind": "invalid_input", "message": format!("not JSON: {e}")}});
                write_line(&mut w, &resp).await?;
                continue;
            }
        };
        let id = req["id"].clone();
        let method = req["method"].as_str().unwrap_or_default().to_owned();
        let params = req.get("params").cloned().unwrap_or(Value::Null);
        if method == "watch" {
            let mut events = node.subscribe();
            write_line(&mut w, &json!({"id": id, "ok": true, "result": "watching"})).await?;
            loop {
                match events.recv().await {
                    Ok(ev) => write_line(&mut w, &json!({ "event": ev })).await?,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        write_line(&mut w, &json!({ "lagged": n })).await?
                    }
                    Err(_) => return Ok(()),
                }
            }
        }
        let resp = match dispatch(&node, &method, &params).await {
            Ok(result) => json!({"id": id, "ok": true, "result": result}),
            Err(e) => json!({"id": id, "ok": false,
                "error": {"kind": e.kind(), "message": e.to_string()}}),
        };
        write_line(&mut w, &resp).await?;
    }
    Ok(())
}

async fn write_line(w: &mut tokio::net::unix::OwnedWriteHalf, v: &Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(v).map_err(std::io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line).await
}

/// A position parameter: `lat`, `lon` in degrees, `accuracy_m`.
fn point(p: &Value) -> Result<kovan_spec::Point, NodeError> {
    let (Some(lat), Some(lon)) = (p["lat"].as_f64(), p["lon"].as_f64()) else {
        return Err(NodeError::Invalid("\"lat\" and \"lon\" are degrees".into()));
    };
    let accuracy = u32::try_from(p["accuracy_m"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
    kovan_spec::Point::from_degrees(lat, lon, accuracy).map_err(NodeError::Invalid)
}

/// A scheduled message's content parameter (null: none given).
fn scheduled_content(v: &Value) -> Result<Option<ScheduledContent>, NodeError> {
    if v.is_null() {
        return Ok(None);
    }
    serde_json::from_value(v.clone())
        .map(Some)
        .map_err(|e| NodeError::Invalid(format!("\"content\": {e}")))
}

/// A list of strings parameter.
fn strings(p: &Value, key: &str) -> Result<Vec<String>, NodeError> {
    p[key]
        .as_array()
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| NodeError::Invalid(format!("\"{key}\" must be a list of strings")))
}

fn s<'a>(p: &'a Value, key: &str) -> Result<&'a str, NodeError> {
    p[key].as_str().ok_or_else(|| NodeError::Invalid(format!("missing parameter {key:?}")))
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, NodeError> {
    serde_json::to_value(v).map_err(|e| NodeError::Invalid(e.to_string()))
}

/// Runs one request against the node.
pub async fn dispatch(node: &NodeHandle, method: &str, p: &Value) -> Result<Value, NodeError> {
    match method {
        "status" => to_value(node.status().await?),
        "register" => {
            node.register(s(p, "username")?, s(p, "password")?).await?;
            Ok(json!({"registered": s(p, "username")?}))
        }
        "login" => {
            node.login(s(p, "username")?, s(p, "password")?).await?;
            Ok(json!({"logged_in": s(p, "username")?}))
        }
        "logout" => {
            node.logout().await?;
            Ok(json!({"logged_out": true}))
        }
        "search" => to_value(node.search(s(p, "query")?).await?),
        "settings" => match p.get("set") {
            Some(patch) => node.update_settings(patch).await,
            None => node.settings().await,
        },
        "sessions" => node.sessions().await,
        "revoke_session" => {
            node.revoke_session(s(p, "id")?).await?;
            Ok(json!({"revoked": s(p, "id")?}))
        }
        "change_password" => {
            node.change_password(s(p, "old_password")?, s(p, "new_password")?).await?;
            Ok(json!({"changed": true}))
        }
        "avatar" => {
            let image = match p["image"].as_str() {
                Some(b64) => Some(
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                        .map_err(|e| NodeError::Invalid(format!("image is not base64: {e}")))?,
                ),
                None => None,
            };
            let set = image.is_some();
            node.set_avatar(image).await?;
            Ok(json!({"avatar": set}))
        }
        "delete_account" => {
            node.delete_account(s(p, "password")?).await?;
            Ok(json!({"deleted": true}))
        }
        "friend_request" => {
            to_value(node.friend_request(s(p, "target")?, p["note"].as_str().unwrap_or("")).await?)
        }
        "friend_accept" => to_value(node.friend_accept(s(p, "who")?).await?),
        "friend_decline" => to_value(node.friend_decline(s(p, "who")?).await?),
        "friend_remove" => to_value(node.friend_remove(s(p, "who")?).await?),
        "block" => to_value(node.block(s(p, "who")?).await?),
        "unblock" => to_value(node.unblock(s(p, "who")?).await?),
        "contacts" => to_value(node.contacts().await?),
        "conversations" => to_value(node.conversations().await?),
        "group_create" => to_value(
            node.group_create(
                s(p, "name")?,
                p["description"].as_str().unwrap_or(""),
                p["members_invite"].as_bool().unwrap_or(false),
            )
            .await?,
        ),
        "groups" => to_value(node.groups().await?),
        "group" => to_value(node.group(s(p, "group")?).await?),
        "group_invite" => to_value(node.group_invite(s(p, "group")?, s(p, "who")?).await?),
        "group_invitations" => to_value(node.group_invitations().await?),
        "group_answer" => to_value(
            node.group_answer(s(p, "invitation")?, p["accept"].as_bool().unwrap_or(false)).await?,
        ),
        "group_change" => {
            let value = || s(p, "value").map(str::to_owned);
            let change = match s(p, "change")? {
                "rename" => GroupChange::Rename(value()?),
                "describe" => GroupChange::Describe(value()?),
                "admin" => GroupChange::Admin(value()?, true),
                "unadmin" => GroupChange::Admin(value()?, false),
                "members_invite" => GroupChange::MembersInvite(p["on"].as_bool().unwrap_or(false)),
                "remove" => GroupChange::Remove(value()?),
                "ban" => GroupChange::Ban(value()?),
                "unban" => GroupChange::Unban(value()?),
                "delete" => GroupChange::Delete,
                other => return Err(NodeError::Invalid(format!("unknown group change {other:?}"))),
            };
            to_value(node.group_change(s(p, "group")?, change).await?)
        }
        "group_leave" => to_value(node.group_leave(s(p, "group")?).await?),
        "group_mute" => to_value(
            node.group_mute(s(p, "group")?, s(p, "who")?, p["on"].as_bool().unwrap_or(true))
                .await?,
        ),
        "send" => {
            to_value(node.send_text(s(p, "to")?, s(p, "text")?, p["reply_to"].as_str()).await?)
        }
        "send_file" => to_value(
            node.send_file(
                s(p, "to")?,
                std::path::Path::new(s(p, "path")?),
                p["caption"].as_str().unwrap_or(""),
                p["reply_to"].as_str(),
            )
            .await?,
        ),
        "send_image" => to_value(
            node.send_image(
                s(p, "to")?,
                std::path::Path::new(s(p, "path")?),
                p["caption"].as_str().unwrap_or(""),
                p["reply_to"].as_str(),
            )
            .await?,
        ),
        "send_voice" => {
            let source = match (p["wav"].as_str(), p["tone_hz"].as_f64()) {
                (Some(wav), None) => crate::node::VoiceSource::Wav(wav.into()),
                (None, Some(hz)) => crate::node::VoiceSource::Tone {
                    hz: hz as f32,
                    ms: p["ms"].as_u64().unwrap_or(3000).min(3_600_000) as u32,
                },
                _ => return Err(NodeError::Invalid("send_voice needs `wav` or `tone_hz`".into())),
            };
            to_value(
                node.send_voice(
                    s(p, "to")?,
                    source,
                    p["caption"].as_str().unwrap_or(""),
                    p["reply_to"].as_str(),
                )
                .await?,
            )
        }
        "files" => to_value(
            node.files(p["with"].as_str(), p["limit"].as_u64().unwrap_or(50).min(1000) as usize)
                .await?,
        ),
        "file" => to_value(node.file(s(p, "id")?).await?),
        "fetch_file" => to_value(node.fetch_file(s(p, "id")?).await?),
        "cancel_file" => to_value(node.cancel_file(s(p, "id")?).await?),
        "history" => {
            let who = s(p, "with")?;
            let limit = p["limit"].as_u64().unwrap_or(50) as usize;
            let at = match (p["after"].as_i64(), p["around"].as_str()) {
                (Some(after), None) => HistoryAt::After(after),
                (None, Some(id)) => HistoryAt::Around(crate::node::views::parse_message_id(id)?),
                (None, None) => HistoryAt::Before(p["before"].as_i64()),
                _ => return Err(NodeError::Invalid("give one of before, after, around".into())),
            };
            let page = node.history_at(who, at, limit).await?;
            if p["mark_read"].as_bool().unwrap_or(true) {
                node.mark_read(who).await?;
            }
            to_value(page)
        }
        "react" => to_value(
            node.react(
                s(p, "with")?,
                s(p, "message")?,
                s(p, "emoji")?,
                p["remove"].as_bool().unwrap_or(false),
            )
            .await?,
        ),
        "edit" => to_value(node.edit(s(p, "with")?, s(p, "message")?, s(p, "text")?).await?),
        "poll_create" => {
            let options = strings(p, "options")?;
            let multiple = p["multiple"].as_bool().unwrap_or(false);
            to_value(node.poll_create(s(p, "to")?, s(p, "question")?, options, multiple).await?)
        }
        "poll_vote" => {
            let choices = p["choices"]
                .as_array()
                .map(|a| a.iter().map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok())).collect())
                .unwrap_or(Some(Vec::new()))
                .ok_or_else(|| NodeError::Invalid("\"choices\" are option numbers".into()))?;
            to_value(node.poll_vote(s(p, "with")?, s(p, "poll")?, choices).await?)
        }
        "poll_close" => to_value(node.poll_close(s(p, "with")?, s(p, "poll")?).await?),
        "schedule" => {
            let content = scheduled_content(&p["content"])?
                .ok_or_else(|| NodeError::Invalid("missing \"content\"".into()))?;
            let due = p["due_at"]
                .as_i64()
                .ok_or_else(|| NodeError::Invalid("\"due_at\" is ms since the epoch".into()))?;
            to_value(node.schedule(s(p, "to")?, content, due).await?)
        }
        "scheduled" => to_value(node.scheduled(p["with"].as_str()).await?),
        "schedule_edit" => {
            let content = scheduled_content(&p["content"])?;
            to_value(node.schedule_edit(s(p, "id")?, content, p["due_at"].as_i64()).await?)
        }
        "schedule_cancel" => to_value(node.schedule_cancel(s(p, "id")?).await?),
        "share_location" => {
            let at = point(p)?;
            let live = match p["live_secs"].as_u64() {
                None => None,
                Some(secs) => Some(LiveShare {
                    duration: std::time::Duration::from_secs(secs),
                    every: std::time::Duration::from_secs(p["every_secs"].as_u64().unwrap_or(30)),
                    track: p["track"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(point)
                        .collect::<Result<_, _>>()?,
                }),
            };
            let label = p["label"].as_str().unwrap_or("");
            to_value(node.share_location(s(p, "to")?, at, label, live).await?)
        }
        "location_update" => {
            to_value(node.location_update(s(p, "with")?, s(p, "id")?, point(p)?).await?)
        }
        "location_stop" => to_value(node.location_stop(s(p, "with")?, s(p, "id")?).await?),
        "delete" => {
            node.delete(s(p, "with")?, s(p, "message")?).await?;
            Ok(json!({"deleted": s(p, "message")?}))
        }
        "safety_number" => Ok(json!({"safety_number": node.safety_number(s(p, "who")?).await?})),
        "verify" => to_value(node.verify(s(p, "who")?, p["digits"].as_str()).await?),
        "connect" => {
            let addr = s(p, "addr")?
                .parse()
                .map_err(|e| NodeError::Invalid(format!("not a multiaddr: {e}")))?;
            node.connect(&addr).await?;
            Ok(json!({"connected": true}))
        }
        "read_receipts" => {
            let on =
                p["on"].as_bool().ok_or_else(|| NodeError::Invalid("missing \"on\"".into()))?;
            node.set_read_receipts(on).await?;
            Ok(json!({"read_receipts": on}))
        }
        other => Err(NodeError::Invalid(format!("unknown method {other:?}"))),
    }
}

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon listens on the socket.
    #[error("no kovan daemon is running for {0} (start one with `kovan daemon`)")]
    NoDaemon(PathBuf),
    /// The daemon answered with an error.
    #[error("{message}")]
    Failed {
        /// The error kind (see [`NodeErrorKind`]).
        kind: String,
        /// In plain words.
        message: String,
    },
    /// The connection failed midway.
    #[error("control socket: {0}")]
    Io(#[from] std::io::Error),
}

/// A connection to a running daemon.
pub struct Client {
    reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::net::unix::OwnedWriteHalf,
    next_id: u64,
    buf: Vec<u8>,
}

impl Client {
    /// Connects to the daemon of the home at `home`.
    pub async fn connect(home: &Path) -> Result<Self, ClientError> {
        let path = socket_path(home);
        let stream = UnixStream::connect(&path).await.map_err(|_| ClientError::NoDaemon(path))?;
        let (r, w) = stream.into_split();
        Ok(Self { reader: BufReader::new(r), writer: w, next_id: 1, buf: Vec::new() })
    }

    /// Calls `method` and returns its result.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        write_line(&mut self.writer, &json!({"id": id, "method": method, "params": params}))
            .await?;
        let v = self.next().await?;
        if v["ok"].as_bool() == Some(true) {
            Ok(v["result"].clone())
        } else {
            Err(ClientError::Failed {
                kind: v["error"]["kind"].as_str().unwrap_or("internal").to_owned(),
                message: v["error"]["message"].as_str().unwrap_or("unknown error").to_owned(),
            })
        }
    }

    /// The next line from the daemon (events after `watch`).
    pub async fn next(&mut self) -> Result<Value, ClientError> {
        if !read_line(&mut self.reader, &mut self.buf).await? {
            return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        serde_json::from_slice(&self.buf)
            .map_err(|e| ClientError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

/// The kind names used on the socket.
pub fn kind_name(kind: NodeErrorKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
