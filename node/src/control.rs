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

use crate::node::{NodeError, NodeErrorKind, NodeHandle, ScheduledContent};

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
pub(crate) fn point(p: &Value) -> Result<kovan_spec::Point, NodeError> {
    let (Some(lat), Some(lon)) = (p["lat"].as_f64(), p["lon"].as_f64()) else {
        return Err(NodeError::Invalid("\"lat\" and \"lon\" are degrees".into()));
    };
    let accuracy = u32::try_from(p["accuracy_m"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
    kovan_spec::Point::from_degrees(lat, lon, accuracy).map_err(NodeError::Invalid)
}

/// A scheduled message's content parameter (null: none given).
pub(crate) fn scheduled_content(v: &Value) -> Result<Option<ScheduledContent>, NodeError> {
    if v.is_null() {
        return Ok(None);
    }
    serde_json::from_value(v.clone())
        .map(Some)
        .map_err(|e| NodeError::Invalid(format!("\"content\": {e}")))
}

/// A list of strings parameter.
pub(crate) fn strings(p: &Value, key: &str) -> Result<Vec<String>, NodeError> {
    p[key]
        .as_array()
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| NodeError::Invalid(format!("\"{key}\" must be a list of strings")))
}

pub(crate) fn s<'a>(p: &'a Value, key: &str) -> Result<&'a str, NodeError> {
    p[key].as_str().ok_or_else(|| NodeError::Invalid(format!("missing parameter {key:?}")))
}

/// The parameters of a file-sending method: `to`, `path`, `caption`,
/// `reply_to` (`send_file`, `send_image`).
pub(crate) fn file_params(p: &Value) -> Result<(&str, &Path, &str, Option<&str>), NodeError> {
    let caption = p["caption"].as_str().unwrap_or("");
    Ok((s(p, "to")?, Path::new(s(p, "path")?), caption, p["reply_to"].as_str()))
}

pub(crate) fn to_value<T: serde::Serialize>(v: T) -> Result<Value, NodeError> {
    serde_json::to_value(v).map_err(|e| NodeError::Invalid(e.to_string()))
}

/// Defines a feature's `control` function (SPEC.md §10): the method names
/// it answers, each with the expression that answers it (a `NodeResult`
/// of a JSON value); any other method is left to the next feature.
///
/// ```text
/// control_methods!(node, p => {
///     "status" => to_value(node.status().await?),
/// });
/// ```
macro_rules! control_methods {
    ($node:ident, $p:ident => { $($arms:tt)* }) => {
        /// Runs a control-socket request if its method is one of this feature's.
        pub(super) async fn control(
            $node: &crate::node::NodeHandle,
            method: &str,
            $p: &serde_json::Value,
        ) -> crate::node::NodeResult<Option<serde_json::Value>> {
            let answer = match method {
                $($arms)*
                _ => return Ok(None),
            };
            answer.map(Some)
        }
    };
}
pub(crate) use control_methods;

/// Runs one request against the node (each feature of the node answers
/// its own methods).
pub async fn dispatch(node: &NodeHandle, method: &str, p: &Value) -> Result<Value, NodeError> {
    crate::node::control(node, method, p).await
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
