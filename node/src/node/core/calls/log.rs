//! What the node shows of calls (SPEC.md §6.9): the view of a call with
//! its live figures, the log (table `calls`) and each call's record in its
//! chat.

use std::sync::atomic::Ordering;

use kovan_spec::validate::CallEndReason;
use kovan_spec::wire;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Call, Core, MAX_CALL_LOG};
use crate::node::NodeResult;
use crate::node::views::Event;

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Outgoing, not answered yet.
    Calling,
    /// Incoming, not answered yet.
    Ringing,
    /// Answered; the media connection is being made.
    Connecting,
    /// Talking.
    Active,
    /// Over (see the reason).
    Ended,
}

/// A call, for a UI and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallView {
    /// The call's id, hex.
    pub id: String,
    /// The conversation, hex.
    pub conversation: String,
    /// The other person's account, hex.
    pub peer: String,
    /// Their name.
    pub peer_name: String,
    /// This side called.
    pub outgoing: bool,
    /// Where it is.
    pub state: CallState,
    /// Why it ended: `hangup`, `declined`, `busy`, `no_answer`, `failed`,
    /// `missed`, `answered_elsewhere`.
    pub reason: Option<String>,
    /// When it started (ms).
    pub started_at: i64,
    /// When it connected, if it did.
    pub answered_at: Option<i64>,
    /// When it ended.
    pub ended_at: Option<i64>,
    /// Live figures while it runs.
    pub audio: Option<CallAudio>,
    /// See `audio`: the camera's video.
    pub video: Option<CallVideo>,
    /// See `audio`: the shared screen.
    pub screen: Option<CallVideo>,
}

/// A running call's audio figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallAudio {
    /// Frames sent, played as they came, and repaired (FEC or concealed).
    pub sent: u64,
    /// See `sent`.
    pub played: u64,
    /// See `sent`.
    pub repaired: u64,
    /// Levels of the last frame out and in, 0..=1000 (RMS).
    pub level_out: u32,
    /// See `level_out`.
    pub level_in: u32,
    /// The microphone is muted.
    pub muted: bool,
}

/// A running call's figures of one video feed (the camera's, or the
/// shared screen's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallVideo {
    /// This side sends it: its camera is on, or it shares its screen.
    pub on: bool,
    /// Pictures sent, and the peer's shown.
    pub sent: u64,
    /// See `sent`.
    pub shown: u64,
    /// The peer's frames that could not be shown (lost, or waiting for a
    /// keyframe).
    pub dropped: u64,
    /// Size of the last picture sent and shown, `WxH`.
    pub size_out: Option<String>,
    /// See `size_out`.
    pub size_in: Option<String>,
    /// The bit rate sent at (kbit/s), following the link.
    pub kbps: u32,
}

fn size(packed: u32) -> Option<String> {
    (packed != 0).then(|| format!("{}x{}", packed >> 16, packed & 0xffff))
}

impl CallVideo {
    fn of(on: bool, s: &crate::call::VideoStats) -> Self {
        Self {
            on,
            sent: s.sent.load(Ordering::Relaxed),
            shown: s.shown.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            size_out: size(s.size_out.load(Ordering::Relaxed)),
            size_in: size(s.size_in.load(Ordering::Relaxed)),
            kbps: s.kbps.load(Ordering::Relaxed),
        }
    }
}

impl Core {
    pub(super) fn call_view(&self, c: &Call) -> CallView {
        let audio = c.media.as_ref().map(|m| {
            let s = &m.stats;
            CallAudio {
                sent: s.sent.load(Ordering::Relaxed),
                played: s.played.load(Ordering::Relaxed),
                repaired: s.repaired.load(Ordering::Relaxed),
                level_out: s.level_out.load(Ordering::Relaxed),
                level_in: s.level_in.load(Ordering::Relaxed),
                muted: s.muted.load(Ordering::Relaxed),
            }
        });
        let video = c.media.as_ref().map(|m| CallVideo::of(m.camera().is_on(), &m.stats.video));
        let screen = c.media.as_ref().map(|m| CallVideo::of(m.screen().is_on(), &m.stats.screen));
        CallView {
            id: hex::encode(c.id),
            conversation: hex::encode(&c.conv),
            peer: hex::encode(c.peer),
            peer_name: c.peer_name.clone(),
            outgoing: c.outgoing,
            state: c.state,
            reason: None,
            started_at: c.started_at,
            answered_at: c.answered_at,
            ended_at: None,
            audio,
            video,
            screen,
        }
    }

    /// Puts the call's record into its chat's history (SPEC.md §6.9): an
    /// envelope holding the call's end, never sent; its view reads how it
    /// ended from the log. An answered incoming call is not unread.
    pub(super) fn record_in_chat(&mut self, call: &Call, reason: &str) {
        let wire_reason = match reason {
            "declined" => CallEndReason::Declined,
            "busy" => CallEndReason::Busy,
            "no_answer" | "missed" => CallEndReason::NoAnswer,
            "failed" => CallEndReason::Failed,
            "answered_elsewhere" => CallEndReason::AnsweredElsewhere,
            _ => CallEndReason::Hangup,
        };
        let me = self.my_account();
        let (account, device) = if call.outgoing {
            (me.to_vec(), self.net.peer_id().to_string())
        } else {
            (call.peer.to_vec(), call.peer_device.clone())
        };
        let device_bytes = if call.outgoing {
            self.net.peer_id().to_bytes()
        } else {
            device.parse::<libp2p::PeerId>().map(|p| p.to_bytes()).unwrap_or_default()
        };
        let env = wire::AppEnvelope {
            version: 1,
            message_id: call.id.to_vec(),
            sender_device: device_bytes,
            sequence: 1,
            timestamp_ms: call.started_at.max(0) as u64,
            reply_to: Vec::new(),
            content: Some(wire::app_envelope::Content::Call(wire::CallSignal {
                call_id: call.id.to_vec(),
                kind: Some(wire::call_signal::Kind::End(wire::CallEnd {
                    reason: wire_reason.wire() as i32,
                })),
            })),
        };
        let body = kovan_spec::encode(&env);
        let now = self.options.clock.now_ms();
        let stored = self.history().insert(&crate::history::NewMessage {
            conversation_id: &call.conv,
            message_id: call.id,
            sender_account: &account,
            sender_device: &device,
            sent_at: call.started_at,
            received_at: now,
            outgoing: call.outgoing,
            state: if call.outgoing {
                crate::history::State::Sent
            } else {
                crate::history::State::Received
            },
            body: &body,
        });
        match stored {
            Ok(Some(seq)) => {
                if !call.outgoing && call.answered_at.is_some() {
                    let _ = self.history().read_through(&call.conv, seq);
                }
                match self.message_view(&call.conv, &call.id) {
                    Ok(Some(message)) => self.emit(Event::Message { message }),
                    Ok(None) => {}
                    Err(e) => tracing::debug!(error = %e, "a call's record was not shown"),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "a call was not recorded in its chat"),
        }
    }

    /// How a recorded call ended, from the log.
    pub(in crate::node::core) fn call_record(
        &self,
        id: &[u8; 16],
    ) -> crate::Result<Option<crate::node::CallRecordView>> {
        let row = self
            .db
            .conn()
            .query_row(
                "SELECT reason, answered_at, ended_at FROM calls WHERE id = ?1",
                params![id.as_slice()],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()?;
        Ok(row.map(|(reason, answered, ended)| crate::node::CallRecordView {
            reason,
            duration_ms: answered.map(|a| (ended - a).max(0)),
        }))
    }

    pub(super) fn log_call(
        &self,
        conv: &[u8],
        c: &Call,
        reason: &str,
        ended: i64,
    ) -> crate::Result<()> {
        self.db.conn().execute(
            "INSERT OR REPLACE INTO calls (id, conversation_id, peer_account, outgoing, started_at,
                answered_at, ended_at, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                c.id.as_slice(),
                conv,
                c.peer.as_slice(),
                c.outgoing,
                c.started_at,
                c.answered_at,
                ended,
                reason
            ],
        )?;
        Ok(())
    }

    pub(super) fn call_log(&self, limit: usize) -> NodeResult<Vec<CallView>> {
        Ok(self.call_rows(limit)?)
    }

    pub(super) fn call_rows(&self, limit: usize) -> crate::Result<Vec<CallView>> {
        let mut stmt = self.db.conn().prepare(
            "SELECT id, conversation_id, peer_account, outgoing, started_at, answered_at, ended_at,
                reason FROM calls ORDER BY ended_at DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit.min(MAX_CALL_LOG) as i64], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(id, conv, peer, outgoing, started, answered, ended, reason)| {
                let peer_name = <[u8; 32]>::try_from(peer.as_slice())
                    .map(|p| self.peer_name(&p))
                    .unwrap_or_default();
                CallView {
                    id: hex::encode(id),
                    conversation: hex::encode(conv),
                    peer: hex::encode(peer),
                    peer_name,
                    outgoing,
                    state: CallState::Ended,
                    reason: Some(reason),
                    started_at: started,
                    answered_at: answered,
                    ended_at: Some(ended),
                    audio: None,
                    video: None,
                    screen: None,
                }
            })
            .collect())
    }
}
