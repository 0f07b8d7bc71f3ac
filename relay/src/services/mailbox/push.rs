//! `/v1/ws`: the push channel (W1, W3).
//!
//! The upgrade needs a valid session token (`Authorization: Bearer`), so an
//! expired, revoked or missing token never gets a socket. The socket then
//! carries, as JSON text frames:
//!
//! - server → client: `{"type":"envelope","seq":N,"envelope":B64,"received_at":MS}`
//!   for every mailbox item after the client's cursor (`?after=N`, default
//!   0), then each new one as it arrives; `{"type":"key_packages_low",
//!   "remaining":N}`; `{"type":"event","topic":…,"kind":…,"at":MS,
//!   "data":{…}}` for events of the account ([`crate::hub::Event`]: another
//!   session logged in, the settings changed from another session, the
//!   account deleted — then the socket closes with 4003);
//!   `{"type":"session_revoked"}` right before the relay closes the socket
//!   of a revoked or expired session (4001);
//! - client → server: `{"type":"ack","seqs":[N,...]}` deletes items;
//!   anything else (another text, a binary frame) closes the socket (1003).
//!
//! A session holds at most `ws_per_session` sockets: one more closes the
//! oldest (4002). The socket closes when its session expires, at the
//! session's expiry (unless a request renewed it meanwhile).
//!
//! The task reads the mailbox from the database each time it is woken, so
//! a reconnecting client resumes from its cursor and misses nothing, and no
//! per-connection queue can grow. A client that does not accept a frame
//! within the send timeout is cut off. Pings keep NATs open.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};

use super::store::MailboxStore;
use crate::http::{ApiQuery, Authed};
use crate::hub::{Control, Event};
use crate::sessions::SessionRow;
use crate::sessions::SessionStore;
use crate::state::Shared;
use crate::state::now_ms;

/// Bytes the socket reads at once. tungstenite's default (128 KiB) costs
/// that much per idle connection; client frames here are small acks.
pub const READ_BUFFER: usize = 4 * 1024;
/// Bytes buffered before a write is flushed.
pub const WRITE_BUFFER: usize = 4 * 1024;
/// Largest message a client may send (an ack of 1,000 seqs fits).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Items read from the database per batch.
pub const BATCH: i64 = 64;

/// Query of the upgrade request.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// Resume after this sequence number.
    #[serde(default)]
    pub after: Option<i64>,
}

/// A server → client event.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A mailbox item.
    Envelope {
        /// Cursor.
        seq: i64,
        /// Sealed envelope, base64.
        envelope: String,
        /// Unix ms.
        received_at: i64,
    },
    /// Upload more key packages.
    KeyPackagesLow {
        /// Ordinary packages left.
        remaining: i64,
    },
    /// An event (SPEC.md §9.6): `{"type":"event","topic","kind","at","data"}`.
    Event(Event),
    /// The session was revoked or expired; the socket closes.
    SessionRevoked,
}

/// A client → server message.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Delete these items.
    Ack {
        /// Sequence numbers, at most 1,000.
        seqs: Vec<i64>,
    },
}

/// The upgrade handler.
pub async fn upgrade(
    State(st): State<Shared>,
    Authed(session): Authed,
    ApiQuery(q): ApiQuery<WsQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(WRITE_BUFFER + 2 * 1024 * 1024)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            run(st, session, q.after.unwrap_or(0), socket).await;
        })
}

enum End {
    Closed,
    Unsupported,
    Revoked,
    Replaced,
    Deleted(Event),
    Shutdown,
    Slow,
    Error,
}

/// Close codes of SPEC.md §9.6.
const CLOSE_UNSUPPORTED: u16 = 1003;
const CLOSE_REVOKED: u16 = 4001;
const CLOSE_REPLACED: u16 = 4002;
const CLOSE_DELETED: u16 = 4003;

async fn send(
    tx: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    msg: Message,
    timeout: Duration,
) -> Result<(), End> {
    match tokio::time::timeout(timeout, tx.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Error),
        Err(_) => Err(End::Slow),
    }
}

fn json(ev: &ServerEvent) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(ev).unwrap_or_default()))
}

async fn run(st: Shared, session: SessionRow, mut cursor: i64, socket: WebSocket) {
    let device = session.device_peer_id.clone();
    let mut sub =
        st.hub.subscribe(session.account_id, &device, &session.id, st.config.limits.ws_per_session);
    // The session's expiry; looked up again when it comes (a request may
    // have renewed it).
    let mut expires_at = session.expires_at;
    let (mut tx, mut rx) = socket.split();
    let timeout = Duration::from_secs(st.config.limits.ws_send_timeout_secs);
    let mut ping = tokio::time::interval(Duration::from_secs(st.config.limits.ws_ping_secs));
    ping.tick().await;
    let mut shutdown = st.shutdown.clone();
    tracing::debug!(conn = sub.id, device = %device, "websocket open");

    let end = 'outer: loop {
        // Drain the mailbox after the cursor. A wake that arrives meanwhile
        // is stored by the Notify and handled on the next turn.
        loop {
            let items = match st.store.fetch(&device, cursor, BATCH, now_ms()).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!(error = %e, "mailbox read failed");
                    break 'outer End::Error;
                }
            };
            let n = items.len();
            for item in items {
                let ev = ServerEvent::Envelope {
                    seq: item.seq,
                    envelope: base64::engine::general_purpose::STANDARD.encode(&item.envelope),
                    received_at: item.received_at,
                };
                if let Err(end) = send(&mut tx, json(&ev), timeout).await {
                    break 'outer end;
                }
                cursor = item.seq;
            }
            if (n as i64) < BATCH {
                break;
            }
        }
        let expiry = tokio::time::Instant::now()
            + Duration::from_millis(expires_at.saturating_sub(now_ms()).max(0) as u64);
        tokio::select! {
            biased;
            _ = shutdown.changed() => break End::Shutdown,
            msg = sub.control.recv() => {
                let frame = match msg {
                    Some(Control::Revoked) | None => break End::Revoked,
                    Some(Control::Replaced) => break End::Replaced,
                    Some(Control::AccountDeleted(ev)) => break End::Deleted((*ev).clone()),
                    Some(Control::KeyPackagesLow { remaining }) => ServerEvent::KeyPackagesLow { remaining },
                    Some(Control::Event(ev)) => ServerEvent::Event((*ev).clone()),
                };
                if let Err(end) = send(&mut tx, json(&frame), timeout).await {
                    break end;
                }
            },
            _ = tokio::time::sleep_until(expiry) => {
                match st.store.session_by_token_hash(&session.token_hash, now_ms()).await {
                    Ok(Some(s)) => expires_at = s.expires_at,
                    Ok(None) => break End::Revoked,
                    Err(e) => {
                        tracing::warn!(error = %e, "session lookup failed");
                        break End::Error;
                    }
                }
            }
            _ = sub.wake.notified() => {}
            msg = rx.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break End::Closed,
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ClientMessage>(t.as_str()) {
                    Ok(ClientMessage::Ack { seqs }) if seqs.len() <= 1000 => {
                        if let Err(e) = st.store.ack(&device, &seqs).await {
                            tracing::warn!(error = %e, "ack failed");
                        }
                    }
                    _ => break End::Unsupported,
                },
                Some(Ok(Message::Binary(_))) => break End::Unsupported,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if let Err(end) = send(&mut tx, Message::Ping(Default::default()), timeout).await {
                    break end;
                }
            }
        }
    };
    let closing = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame { code, reason: reason.into() }))
    };
    match end {
        End::Revoked => {
            let _ = tokio::time::timeout(timeout, async {
                let _ = tx.send(json(&ServerEvent::SessionRevoked)).await;
                let _ = tx.send(closing(CLOSE_REVOKED, "session revoked")).await;
            })
            .await;
        }
        End::Deleted(ev) => {
            let _ = tokio::time::timeout(timeout, async {
                let _ = tx.send(json(&ServerEvent::Event(ev))).await;
                let _ = tx.send(closing(CLOSE_DELETED, "account deleted")).await;
            })
            .await;
        }
        End::Replaced => {
            let _ = tokio::time::timeout(timeout, async {
                let _ = tx.send(closing(CLOSE_REPLACED, "replaced by a newer socket")).await;
            })
            .await;
        }
        End::Unsupported => {
            let _ = tokio::time::timeout(timeout, async {
                let _ = tx.send(closing(CLOSE_UNSUPPORTED, "unknown message")).await;
            })
            .await;
        }
        End::Shutdown => {
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                let _ = tx
                    .send(Message::Close(Some(CloseFrame {
                        code: 1001,
                        reason: "relay shutting down".into(),
                    })))
                    .await;
            })
            .await;
        }
        End::Slow => tracing::info!(conn = sub.id, "websocket cut off: too slow"),
        End::Closed | End::Error => {}
    }
    st.hub.unsubscribe(sub.id);
    tracing::debug!(conn = sub.id, "websocket closed");
}
