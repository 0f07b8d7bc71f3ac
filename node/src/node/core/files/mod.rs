//! Files on the core thread (SPEC.md §7.7): recording offers, starting and
//! resuming transfers, what peers may fetch, and the relay copy.
//!
//! Transfers themselves run as tokio tasks (`crate::files`) and report back
//! as [`FileInput`]s; the core writes what they report and emits
//! `Event::File`. Sent files are kept as ciphertext in the home's
//! `files/out/`; received files land in `files/in/<id>/<name>`.

mod transfer;

use std::path::PathBuf;
use std::time::Duration;

use kovan_crypto::file::{FileKey, sealed_len};
use kovan_spec::validate::{FileOffer, Media};
use kovan_spec::wire;
use libp2p::{Multiaddr, PeerId};
use rand_core::OsRng;

use super::{Core, Input, internal, now_ms};
use crate::control::{s, to_value};
use crate::files::{self as xfer, FileRow, Files, ServeDecision, TransferError};
use crate::net::circuit_addr;
use crate::node::views::{Event, FileView, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult, views};
use crate::relay_client::RelayClient;
use transfer::{Reporter, Sources, download_once};

/// First wait after a transfer found no source; doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// Longest wait between attempts.
const MAX_RETRY: Duration = Duration::from_secs(300);

/// What a transfer task reports.
#[derive(Debug)]
pub enum FileInput {
    /// An attempt started at this ciphertext offset.
    Started {
        /// The file.
        id: [u8; 16],
        /// Offset.
        offset: u64,
        /// The source: `call`, `direct` or `relay`.
        via: &'static str,
    },
    /// Bytes done, and bytes that crossed the network since the last report.
    Progress {
        /// The file.
        id: [u8; 16],
        /// Bytes done.
        done: u64,
        /// Network bytes since the last report.
        wire: u64,
    },
    /// No source worked this time; the task retries.
    Waiting {
        /// The file.
        id: [u8; 16],
        /// Why.
        reason: String,
    },
    /// A download finished and verified, or an upload completed.
    Done {
        /// The file.
        id: [u8; 16],
    },
    /// It failed for good.
    Failed {
        /// The file.
        id: [u8; 16],
        /// Why, in words.
        error: String,
    },
}

/// What a sender needs to seal and announce a file.
#[derive(Debug)]
pub(in crate::node) struct Preparing {
    pub relay: Option<(RelayClient, String)>,
    pub out_dir: PathBuf,
    pub max_size: u64,
    /// The conversation is direct-only (SPEC.md §7.8): no relay copy.
    pub direct_only: bool,
}

/// A sealed file, ready to be announced.
#[derive(Debug)]
pub(in crate::node) struct SealedFile {
    pub file_id: [u8; 16],
    pub key: FileKey,
    pub name: String,
    pub mime: String,
    pub media: kovan_spec::validate::Media,
    pub size: u64,
    pub sha256: [u8; 32],
    pub ciphertext: PathBuf,
    pub source: Option<String>,
    /// The relay blob reserved for it, or why there is none.
    pub blob: Result<(String, [u8; 16]), String>,
}

impl Core {
    pub(super) fn files(&self) -> Files<'_> {
        Files::new(&self.db, &self.field)
    }

    fn files_dir(&self) -> PathBuf {
        self.options.home.root().join("files")
    }

    fn file_key(&self, f: &FileRow) -> crate::Result<FileKey> {
        let plain = self
            .field
            .open(&key_context(&f.file_id), &f.sealed_key)
            .map_err(|_| crate::Error::Internal("a file key does not open".into()))?;
        FileKey::from_slice(&plain).map_err(|e| crate::Error::Internal(e.to_string()))
    }

    pub(super) fn emit_file(&mut self, id: &[u8; 16]) {
        if let Ok(Some(f)) = self.files().get(id) {
            self.emit(Event::File { file: FileView::new(&f) });
        }
    }

    /// Checks that `to` can be written to; what sealing needs.
    pub(in crate::node) fn file_prepare(&mut self, to: &str) -> NodeResult<Preparing> {
        let (conv, _) = self.writable(to)?;
        self.refuse_if_sealed(&conv, "A file")?;
        // A direct-only conversation's file gets no relay copy (§7.8).
        let direct_only = self.mode_of(&conv).direct_only();
        let relay = self
            .relay
            .as_ref()
            .filter(|_| !direct_only)
            .and_then(|r| r.session.as_ref().map(|s| (r.client.clone(), s.token.clone())));
        let out_dir = self.files_dir().join("out");
        crate::home::private_dir(&out_dir)?;
        Ok(Preparing { relay, out_dir, max_size: self.options.files.max_size, direct_only })
    }

    /// Records a sealed file and sends the message that announces it.
    pub(in crate::node) fn file_send(
        &mut self,
        to: &str,
        sealed: SealedFile,
        caption: String,
        reply_to: Option<[u8; 16]>,
    ) -> NodeResult<MessageView> {
        if caption.len() > kovan_spec::limits::MAX_FILE_CAPTION {
            return Err(NodeError::Invalid("the caption is longer than 4 KiB".into()));
        }
        let (conv, recipients) = self.writable(to)?;
        let content = wire::app_envelope::Content::File(announcement(&sealed, caption));
        let row = self.outgoing_row(&conv, sealed);
        let file_id = row.file_id;
        // The row first, with the message id filled in once it is known;
        // both in the transaction of the send.
        let tx = self.db.tx();
        let id = tx.atomic(|| {
            let id = self.send_app(&conv, &recipients, content, reply_to, true)?;
            self.files().insert(&FileRow { message_id: id, ..row })?;
            Ok::<_, NodeError>(id)
        })?;
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("message not stored"))?;
        self.emit(Event::Message { message: view.clone() });
        self.emit_file(&file_id);
        self.flush_events();
        self.pump();
        Ok(view)
    }

    /// The row of a file sealed to send into `conv`, its message id still
    /// zero (filled in within the send's transaction).
    pub(super) fn outgoing_row(&self, conv: &[u8], sealed: SealedFile) -> FileRow {
        let (blob, upload, error) = match sealed.blob {
            Ok(b) => (Some(b), "none", None),
            // A direct-only chat never has one (§7.8): nothing failed.
            Err(_) if self.mode_of(conv).direct_only() => (None, "unneeded", None),
            Err(why) => (None, "failed", Some(why)),
        };
        FileRow {
            file_id: sealed.file_id,
            conversation_id: conv.to_vec(),
            message_id: [0; 16],
            outgoing: true,
            sender_device: self.net.peer_id().to_string(),
            name: sealed.name,
            mime: sealed.mime,
            size: sealed.size,
            sha256: sealed.sha256,
            sealed_key: self.field.seal(
                &mut OsRng,
                &key_context(&sealed.file_id),
                sealed.key.as_bytes(),
            ),
            blob,
            state: "ready".into(),
            upload: upload.into(),
            done: 0,
            wire_bytes: 0,
            resumed_from: 0,
            via: String::new(),
            path: sealed.ciphertext,
            source: sealed.source,
            error,
            created_at: now_ms(),
        }
    }

    /// A file offered in an incoming message (inside the message's
    /// transaction): recorded, and fetched at once if small enough.
    pub(super) fn file_offered(
        &mut self,
        conv: &[u8],
        message_id: [u8; 16],
        sender_device: &str,
        offer: &FileOffer,
    ) -> crate::Result<()> {
        let limits = &self.options.files;
        let (state, error) = if offer.size > limits.max_size {
            (
                "failed",
                Some(format!("larger than this device's limit of {} bytes", limits.max_size)),
            )
        } else if offer.size <= limits.auto_download_max {
            ("downloading", None)
        } else {
            ("offered", None)
        };
        let path = self.files_dir().join("in").join(hex::encode(offer.file_id)).join(&offer.name);
        let row = FileRow {
            file_id: offer.file_id,
            conversation_id: conv.to_vec(),
            message_id,
            outgoing: false,
            sender_device: sender_device.to_owned(),
            name: offer.name.clone(),
            mime: offer.mime.clone(),
            size: offer.size,
            sha256: offer.sha256,
            sealed_key: self.field.seal(&mut OsRng, &key_context(&offer.file_id), &offer.key),
            blob: offer.blob.clone(),
            state: state.into(),
            upload: "none".into(),
            done: 0,
            wire_bytes: 0,
            resumed_from: 0,
            via: String::new(),
            path,
            source: None,
            error,
            created_at: now_ms(),
        };
        if self.files().insert(&row)? {
            if state == "downloading" {
                self.file_starts.push(offer.file_id);
            }
            self.emit(Event::File { file: FileView::new(&row) });
        }
        Ok(())
    }

    /// Starts the transfers queued while a transaction was open (after it
    /// committed; a rolled-back offer has no row and starts nothing).
    pub(super) fn start_queued_files(&mut self) {
        for id in std::mem::take(&mut self.file_starts) {
            self.start_download(id);
        }
    }

    /// Resumes what was under way when the node stopped.
    pub(super) fn resume_files(&mut self) {
        match self.files().unfinished() {
            Ok(rows) => {
                for f in rows {
                    if f.outgoing {
                        self.start_upload(f.file_id);
                    } else {
                        self.start_download(f.file_id);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "reading unfinished transfers failed"),
        }
    }

    /// Where to reach a device directly: a contact's addresses or what
    /// identify told us, then a circuit through our relay.
    fn device_route(&self, device: &str) -> Option<(PeerId, Vec<Multiaddr>)> {
        let peer: PeerId = device.parse().ok()?;
        if let Ok(Some(c)) = self.contacts_store().by_peer(device) {
            return self.route(&c);
        }
        let mut addrs = self.peer_addrs.get(&peer).cloned().unwrap_or_default();
        if let Some(base) = self.relay.as_ref().and_then(|r| r.circuit_base.as_ref()) {
            addrs.push(circuit_addr(base, peer));
        }
        Some((peer, addrs))
    }

    /// A device came online: downloads waiting for it try again now
    /// rather than at the end of their back-off.
    pub(super) fn retry_files_from(&mut self, device: &str) {
        let Ok(rows) = self.files().unfinished() else { return };
        for f in rows.into_iter().filter(|f| !f.outgoing && f.state == "waiting") {
            if f.sender_device == device {
                if let Some(t) = self.transfers.remove(&f.file_id) {
                    t.abort();
                }
                self.start_download(f.file_id);
            }
        }
    }

    fn start_download(&mut self, id: [u8; 16]) {
        if self.stopping || self.transfers.contains_key(&id) {
            return;
        }
        let Ok(Some(f)) = self.files().get(&id) else { return };
        if f.outgoing || !matches!(f.state.as_str(), "downloading" | "waiting") {
            return;
        }
        let key = match self.file_key(&f) {
            Ok(k) => k,
            Err(e) => return self.file_failed(id, &e.to_string()),
        };
        // A direct-only conversation's file comes only over a direct
        // connection, whatever `direct` says (SPEC.md §7.8).
        let direct_only = self.mode_of(&f.conversation_id).direct_only();
        let direct = if self.options.direct || direct_only {
            self.device_route(&f.sender_device).map(|(p, a)| (p, a, direct_only))
        } else {
            None
        };
        // A running call with the sender's device carries it first (SPEC.md
        // §6.9.1); a direct-only conversation's never (the call may be
        // relayed by TURN).
        let call = if direct_only { None } else { self.webrtc_source(&f.sender_device) };
        let http = self
            .relay
            .as_ref()
            .map(|r| r.client.bulk().clone())
            .or_else(|| crate::relay_client::bulk_client().ok());
        let net = self.net.clone();
        let input = self.input.clone();
        let sources = Sources { call, direct, http };
        let task = self.rt.spawn(async move {
            let report = |i: FileInput| {
                let input = input.clone();
                async move {
                    let _ = input.send(Input::File(i)).await;
                }
            };
            let mut wait = FIRST_RETRY;
            loop {
                match download_once(&f, &key, &sources, &net, &input).await {
                    Ok(()) => return report(FileInput::Done { id }).await,
                    Err(e) if e.is_transient() => {
                        report(FileInput::Waiting { id, reason: e.to_string() }).await;
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(MAX_RETRY);
                    }
                    Err(e) => {
                        if matches!(e, TransferError::Untrusted(_)) {
                            // Nothing of an altered file is kept.
                            let _ = tokio::fs::remove_file(xfer::part_path(&f.path)).await;
                        }
                        return report(FileInput::Failed { id, error: e.to_string() }).await;
                    }
                }
            }
        });
        self.transfers.insert(id, task.abort_handle());
    }

    fn start_upload(&mut self, id: [u8; 16]) {
        if self.stopping || self.transfers.contains_key(&id) {
            return;
        }
        let Ok(Some(f)) = self.files().get(&id) else { return };
        let Some((_, blob_id)) = f.blob else { return };
        let Some((client, token)) = self
            .relay
            .as_ref()
            .and_then(|r| r.session.as_ref().map(|s| (r.client.clone(), s.token.clone())))
        else {
            return;
        };
        if self.files().set_upload(&id, "uploading", None).is_err() {
            return;
        }
        self.emit_file(&id);
        let input = self.input.clone();
        let task = self.rt.spawn(async move {
            let mut wait = FIRST_RETRY;
            let reporter = Reporter::new(input.clone(), id);
            loop {
                let r = reporter.clone();
                let mut progress = move |done: u64, wire: u64| r.report(done, wire);
                let outcome =
                    xfer::upload_blob(&client, &token, &blob_id, &f.path, &mut progress).await;
                reporter.flush().await;
                match outcome {
                    Ok(()) => {
                        let _ = input.send(Input::File(FileInput::Done { id })).await;
                        return;
                    }
                    Err(TransferError::Network(reason)) => {
                        let _ = input.send(Input::File(FileInput::Waiting { id, reason })).await;
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(MAX_RETRY);
                    }
                    Err(e) => {
                        let error = e.to_string();
                        let _ = input.send(Input::File(FileInput::Failed { id, error })).await;
                        return;
                    }
                }
            }
        });
        self.transfers.insert(id, task.abort_handle());
    }

    fn file_failed(&mut self, id: [u8; 16], error: &str) {
        let Ok(Some(f)) = self.files().get(&id) else { return };
        let r = if f.outgoing {
            self.files().set_upload(&id, "failed", Some(error))
        } else {
            self.files().set_state(&id, "failed", Some(error))
        };
        if let Err(e) = r {
            tracing::error!(error = %e, "recording a failed transfer failed");
        }
        tracing::warn!(file = %hex::encode(id), %error, "file transfer failed");
        self.emit_file(&id);
    }

    /// A report from a transfer task.
    pub(super) fn on_file(&mut self, input: FileInput) {
        let result = match &input {
            FileInput::Started { id, offset, via } => self.files().set_resumed(id, *offset, via),
            FileInput::Progress { id, done, wire } => self.files().progress(id, *done, *wire),
            FileInput::Waiting { id, reason } => match self.files().get(id) {
                Ok(Some(f)) if f.outgoing => self.files().set_upload(id, "uploading", Some(reason)),
                Ok(Some(f)) if f.state == "downloading" || f.state == "waiting" => {
                    // No source brought it: a data link may (SPEC.md §6.9.4),
                    // never for a direct-only conversation's file.
                    if !self.mode_of(&f.conversation_id).direct_only() {
                        self.want_link(&f.sender_device);
                    }
                    self.files().set_state(id, "waiting", Some(reason))
                }
                other => other.map(|_| ()),
            },
            FileInput::Done { id } => {
                self.transfers.remove(id);
                match self.files().get(id) {
                    Ok(Some(f)) if f.outgoing => self.files().set_upload(id, "done", None),
                    Ok(Some(f)) => {
                        let r = self
                            .files()
                            .progress(id, f.size, 0)
                            .and_then(|()| self.files().set_state(id, "complete", None));
                        // A conditional file that opened first opens now.
                        self.conditional_bytes_here(id);
                        r
                    }
                    other => other.map(|_| ()),
                }
            }
            FileInput::Failed { id, error } => {
                self.transfers.remove(id);
                self.file_failed(*id, error);
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "recording a transfer's progress failed");
        }
        let id = match &input {
            FileInput::Started { id, .. }
            | FileInput::Progress { id, .. }
            | FileInput::Waiting { id, .. }
            | FileInput::Done { id }
            | FileInput::Failed { id, .. } => *id,
        };
        if !matches!(input, FileInput::Failed { .. }) {
            self.emit_file(&id);
        }
    }

    /// One of our messages went to a mailbox: the recipient may not reach
    /// us directly, so a file it announced is uploaded to the relay.
    pub(super) fn file_went_to_mailbox(&mut self, conv: &[u8], message: &[u8; 16]) {
        let Ok(Some(f)) = self.files().by_message(conv, message) else { return };
        if !f.outgoing || f.upload != "none" || f.blob.is_none() || f.state != "ready" {
            return;
        }
        if self.files().set_upload(&f.file_id, "needed", None).is_ok() {
            self.start_upload(f.file_id);
        }
    }

    /// A copy of a file's announcement was delivered directly. Once every
    /// copy went that way, no receiver needs the relay copy (uploads start
    /// only for mailbox copies), so the blob reserved for it is given back.
    pub(super) fn file_delivered_directly(&mut self, conv: &[u8], message: &[u8; 16]) {
        let Ok(Some(f)) = self.files().by_message(conv, message) else { return };
        if !f.outgoing || f.upload != "none" || f.state != "ready" {
            return;
        }
        let Some((_, blob)) = f.blob else { return };
        if self.outbox().holds_message(conv, message).unwrap_or(true) {
            return;
        }
        if self.files().set_upload(&f.file_id, "unneeded", None).is_err() {
            return;
        }
        if let Some(r) = &self.relay
            && let Some(s) = &r.session
        {
            let (client, token, blob) = (r.client.clone(), s.token.clone(), hex::encode(blob));
            self.spawn(async move {
                if let Err(e) = client.release_blob(&token, &blob).await {
                    tracing::debug!(error = %e, "giving back an unneeded blob failed");
                }
            });
        }
        self.emit_file(&f.file_id);
    }

    /// Whether `peer` may fetch a file we sent: only devices of the
    /// conversation's members, only while we still offer it.
    pub(in crate::node) fn file_to_serve(&self, peer: PeerId, id: [u8; 16]) -> ServeDecision {
        let f = self.files().get(&id).ok()??;
        if !f.outgoing || f.state != "ready" {
            return None;
        }
        let device = peer.to_string();
        let member = if self.is_group(&f.conversation_id).ok()? {
            self.group_recipients(&f.conversation_id)
                .ok()?
                .iter()
                .any(|c| c.peer_id().to_string() == device)
        } else {
            self.contacts_store()
                .by_conversation(&f.conversation_id)
                .ok()?
                .and_then(|c| c.peer_id)
                .is_some_and(|p| p == device)
        };
        member.then(|| (f.path.clone(), sealed_len(f.size)))
    }

    /// Starts (or restarts after a failure or cancel) fetching a file.
    /// A file by its id, or by the id of the message that announced it
    /// (what `history` shows).
    fn file_by_id(&self, id: &[u8; 16]) -> NodeResult<FileRow> {
        match self.files().get(id)? {
            Some(f) => Ok(f),
            None => self.files().by_message_id(id)?.ok_or_else(|| {
                NodeError::NotFound("no file with that id (a file's or its message's)".into())
            }),
        }
    }

    pub(in crate::node) fn file_fetch(&mut self, id: [u8; 16]) -> NodeResult<FileView> {
        let f = self.file_by_id(&id)?;
        let id = f.file_id;
        if f.outgoing {
            return Err(NodeError::State("this file was sent from this device".into()));
        }
        if f.size > self.options.files.max_size {
            return Err(NodeError::Invalid(format!(
                "the file is {} bytes; this device's limit is {}",
                f.size, self.options.files.max_size
            )));
        }
        match f.state.as_str() {
            "complete" => {}
            "downloading" | "waiting" => {
                // Retry now rather than at the end of a back-off.
                if let Some(t) = self.transfers.remove(&id) {
                    t.abort();
                }
                self.start_download(id);
            }
            _ => {
                self.files().set_state(&id, "downloading", None)?;
                self.start_download(id);
            }
        }
        self.emit_file(&id);
        self.flush_events();
        let f = self.files().get(&id)?.ok_or_else(|| internal("file vanished"))?;
        Ok(FileView::new(&f))
    }

    /// Cancels a transfer. A received file's partial bytes are removed; a
    /// sent file is no longer served and its relay copy is deleted.
    pub(in crate::node) fn file_cancel(&mut self, id: [u8; 16]) -> NodeResult<FileView> {
        let f = self.file_by_id(&id)?;
        let id = f.file_id;
        if let Some(t) = self.transfers.remove(&id) {
            t.abort();
        }
        if f.state != "complete" {
            self.files().set_state(&id, "cancelled", None)?;
        }
        if f.outgoing {
            if let (Some((_, blob)), Some(r)) = (&f.blob, &self.relay)
                && let Some(s) = &r.session
            {
                let (client, token, blob) = (r.client.clone(), s.token.clone(), hex::encode(blob));
                self.spawn(async move {
                    if let Err(e) = client.delete_blob(&token, &blob).await {
                        tracing::debug!(error = %e, "deleting a cancelled file's blob failed");
                    }
                });
            }
        } else if f.state != "complete" {
            let _ = std::fs::remove_file(xfer::part_path(&f.path));
        }
        self.emit_file(&id);
        self.flush_events();
        let f = self.files().get(&id)?.ok_or_else(|| internal("file vanished"))?;
        Ok(FileView::new(&f))
    }

    /// A message that announced a file was deleted: its transfer stops.
    pub(super) fn file_message_deleted(&mut self, conv: &[u8], message: &[u8; 16]) {
        if let Ok(Some(f)) = self.files().by_message(conv, message)
            && f.state != "complete"
            && f.state != "cancelled"
        {
            let _ = self.file_cancel(f.file_id);
        }
    }

    /// Files, newest first.
    pub(in crate::node) fn file_list(
        &mut self,
        conversation: Option<&str>,
        limit: usize,
    ) -> NodeResult<Vec<FileView>> {
        let conv = match conversation {
            Some(c) => Some(self.find_conversation(c)?.0),
            None => None,
        };
        Ok(self.files().list(conv.as_deref(), limit)?.iter().map(FileView::new).collect())
    }

    /// One file.
    pub(in crate::node) fn file_get(&mut self, id: [u8; 16]) -> NodeResult<FileView> {
        let f = self.file_by_id(&id)?;
        Ok(FileView::new(&f))
    }
}

/// The `FileRef` that announces a sealed file (SPEC.md §7.7.1).
pub(super) fn announcement(sealed: &SealedFile, caption: String) -> wire::FileRef {
    wire::FileRef {
        file_id: sealed.file_id.to_vec(),
        name: sealed.name.clone(),
        mime: sealed.mime.clone(),
        size: sealed.size,
        sha256: sealed.sha256.to_vec(),
        key: sealed.key.as_bytes().to_vec(),
        chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
        relay: sealed.blob.as_ref().map(|b| b.0.clone()).unwrap_or_default(),
        blob_id: sealed.blob.as_ref().map(|b| b.1.to_vec()).unwrap_or_default(),
        caption,
        image: match &sealed.media {
            Media::Image { width, height, thumbnail } => Some(wire::ImageInfo {
                width: *width,
                height: *height,
                thumbnail: thumbnail.clone(),
            }),
            _ => None,
        },
        voice: match &sealed.media {
            Media::Voice { duration_ms, waveform } => {
                Some(wire::VoiceInfo { duration_ms: *duration_ms, waveform: waveform.clone() })
            }
            _ => None,
        },
    }
}

/// The sealing context of a file's key (SPEC.md §4.6).
fn key_context(id: &[u8; 16]) -> Vec<u8> {
    let mut c = b"files/key/".to_vec();
    c.extend_from_slice(id);
    c
}

/// How an outgoing file is announced.
pub(super) struct Outgoing {
    pub(super) name: String,
    pub(super) mime: String,
    pub(super) media: Media,
    /// The file the user picked (shown as the sent file's path).
    pub(super) source: Option<std::path::PathBuf>,
}

// ---------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------

/// Files: sending, listing, fetching and cancelling transfers.
impl NodeHandle {
    /// Sends a file into a conversation (SPEC.md §7.7): seals it into the
    /// node's home (progress as `Event::File`… once recorded; sealing a
    /// large file takes a few seconds), reserves a relay copy if logged in
    /// (uploaded only if a recipient cannot be reached directly), and sends
    /// the message that announces it.
    pub async fn send_file(
        &self,
        to: &str,
        path: &std::path::Path,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let name = crate::files::offer_name(path);
        let mime = crate::files::guess_mime(&name).to_owned();
        let how = Outgoing { name, mime, media: Media::None, source: Some(path.to_path_buf()) };
        let who = to.to_owned();
        let prep = self.call(move |c| c.file_prepare(&who)).await?;
        self.send_file_as(to, prep, path, how, caption, reply_to).await
    }

    /// Sends bytes made on this device (a cleaned image, an encoded voice
    /// note): sealed from a private file in `files/out`, which is removed.
    pub(super) async fn send_generated(
        &self,
        to: &str,
        prep: Preparing,
        bytes: &[u8],
        how: Outgoing,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let mut tmp_id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut tmp_id);
        let file = prep.out_dir.join(format!("{}.clean", hex::encode(tmp_id)));
        let written = async {
            use tokio::io::AsyncWriteExt;
            let mut f = crate::home::private_file_async()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&file)
                .await?;
            f.write_all(bytes).await?;
            f.flush().await
        };
        written
            .await
            .map_err(|e| NodeError::Local(crate::Error::io("writing a file to send")(e)))?;
        let sent = self.send_file_as(to, prep, &file, how, caption, reply_to).await;
        let _ = tokio::fs::remove_file(&file).await;
        sent
    }

    /// Seals `path` and announces it as `how` says (`prep` from
    /// `file_prepare`, once per send).
    async fn send_file_as(
        &self,
        to: &str,
        prep: Preparing,
        path: &std::path::Path,
        how: Outgoing,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let to = to.to_owned();
        let reply_to = reply_to.map(views::parse_message_id).transpose()?;
        let prepared = self.seal_outgoing(&prep, path, how).await?;
        let caption = caption.to_owned();
        self.call(move |c| c.file_send(&to, prepared, caption, reply_to)).await
    }

    /// Seals `path` into the home under a fresh key and reserves its relay
    /// copy (`prep` from `file_prepare`): what announcing it needs.
    pub(super) async fn seal_outgoing(
        &self,
        prep: &Preparing,
        path: &std::path::Path,
        how: Outgoing,
    ) -> NodeResult<SealedFile> {
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(NodeError::Invalid(format!("{} is not a file", path.display())));
        }
        if meta.len() > prep.max_size {
            return Err(NodeError::Invalid(format!(
                "the file is {} bytes; the limit is {} bytes",
                meta.len(),
                prep.max_size
            )));
        }
        let mut file_id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut file_id);
        let key = kovan_crypto::file::FileKey::generate(&mut rand_core::OsRng);
        let ciphertext = prep.out_dir.join(format!("{}.sealed", hex::encode(file_id)));
        let (src, dst, k, max) =
            (path.to_path_buf(), ciphertext.clone(), key.clone(), prep.max_size);
        let sealed = tokio::task::spawn_blocking(move || {
            crate::files::seal_file(&src, &dst, &k, max, |_| {})
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        let blob = match &prep.relay {
            Some((client, token)) => {
                match client.create_blob(token, kovan_crypto::file::sealed_len(sealed.size)).await {
                    Ok(info) => match hex::decode(&info.id).ok().and_then(|b| b.try_into().ok()) {
                        Some(id) => Ok((client.base().to_owned(), id)),
                        None => Err("the relay gave a malformed blob id".to_owned()),
                    },
                    Err(e) => Err(format!("no relay copy: {e}")),
                }
            }
            None if prep.direct_only => Err("no relay copy: a direct-only chat".to_owned()),
            None => Err("no relay copy: not logged in to a relay".to_owned()),
        };
        Ok(SealedFile {
            file_id,
            key,
            mime: how.mime,
            name: how.name,
            media: how.media,
            size: sealed.size,
            sha256: sealed.sha256,
            ciphertext,
            source: how.source.map(|p| p.to_string_lossy().into_owned()),
            blob,
        })
    }

    /// Files sent and received, newest first, optionally of one conversation.
    pub async fn files(
        &self,
        conversation: Option<&str>,
        limit: usize,
    ) -> NodeResult<Vec<FileView>> {
        let conversation = conversation.map(str::to_owned);
        self.call(move |c| c.file_list(conversation.as_deref(), limit)).await
    }

    /// One file transfer.
    pub async fn file(&self, id: &str) -> NodeResult<FileView> {
        let id = views::parse_id(id, "a file id")?;
        self.call(move |c| c.file_get(id)).await
    }

    /// Fetches a received file (one above the automatic limit, or again
    /// after a failure or cancel); watch `Event::File` for progress.
    pub async fn fetch_file(&self, id: &str) -> NodeResult<FileView> {
        let id = views::parse_id(id, "a file id")?;
        self.call(move |c| c.file_fetch(id)).await
    }

    /// Cancels a transfer: a download stops and its partial bytes go; a
    /// sent file stops being served and its relay copy is deleted.
    pub async fn cancel_file(&self, id: &str) -> NodeResult<FileView> {
        let id = views::parse_id(id, "a file id")?;
        self.call(move |c| c.file_cancel(id)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "send_file" => {
        let (to, path, caption, reply_to) = crate::control::file_params(p)?;
        to_value(node.send_file(to, path, caption, reply_to).await?)
    }
    "files" => to_value(
        node.files(p["with"].as_str(), p["limit"].as_u64().unwrap_or(50).min(1000) as usize)
            .await?,
    ),
    "file" => to_value(node.file(s(p, "id")?).await?),
    "fetch_file" => to_value(node.fetch_file(s(p, "id")?).await?),
    "cancel_file" => to_value(node.cancel_file(s(p, "id")?).await?),
});
