//! Transfer tasks: one attempt at a download from each source in turn
//! (the call or data link with the sender, the sender directly, the relay
//! copy), and progress reports that never hold a transfer up.

use std::sync::Arc;

use kovan_crypto::file::FileKey;
use libp2p::{Multiaddr, PeerId};

use super::FileInput;
use crate::files::{self as xfer, FileRow, Receiver, TransferError};
use crate::node::core::Input;

/// Reports a transfer's progress without ever holding the transfer up: a
/// report the core's queue has no room for is folded into the next one,
/// and [`Reporter::flush`] delivers what is left before the outcome, so
/// the bytes counted as crossing the network are exact.
#[derive(Clone)]
pub(super) struct Reporter {
    tx: tokio::sync::mpsc::Sender<Input>,
    id: [u8; 16],
    pending: std::sync::Arc<std::sync::atomic::AtomicU64>,
    done: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Reporter {
    pub(super) fn new(tx: tokio::sync::mpsc::Sender<Input>, id: [u8; 16]) -> Self {
        Self { tx, id, pending: Default::default(), done: Default::default() }
    }

    pub(super) fn report(&self, done: u64, wire: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.done.store(done, Relaxed);
        let wire = wire + self.pending.swap(0, Relaxed);
        let p = FileInput::Progress { id: self.id, done, wire };
        if self.tx.try_send(Input::File(p)).is_err() {
            self.pending.fetch_add(wire, Relaxed);
        }
    }

    pub(super) async fn flush(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let wire = self.pending.swap(0, Relaxed);
        if wire > 0 {
            let p = FileInput::Progress { id: self.id, done: self.done.load(Relaxed), wire };
            let _ = self.tx.send(Input::File(p)).await;
        }
    }
}

/// The sender's device, its addresses, and whether only a direct
/// connection to it may carry the file.
pub(super) type DirectSource = (PeerId, Vec<Multiaddr>, bool);

/// Where a download may come from, in the order tried.
pub(super) struct Sources {
    /// The running call with the sender's device, or a data link to it
    /// (`call` or `link`, SPEC.md §6.9.4).
    pub(super) call: Option<(Arc<crate::call::CallMedia>, &'static str)>,
    /// The sender's device over libp2p.
    pub(super) direct: Option<DirectSource>,
    /// The relay's copy (if the announcement names one).
    pub(super) http: Option<reqwest::Client>,
}

pub(super) async fn download_once(
    f: &FileRow,
    key: &FileKey,
    sources: &Sources,
    net: &crate::net::NetHandle,
    input: &tokio::sync::mpsc::Sender<Input>,
) -> Result<(), TransferError> {
    let id = f.file_id;
    let reporter = Reporter::new(input.clone(), id);
    let r = reporter.clone();
    let mut progress = move |done: u64, wire: u64| r.report(done, wire);
    let outcome = attempt(f, key, sources, net, input, &mut progress).await;
    reporter.flush().await;
    outcome
}

/// Opens the partial file for an attempt from `via` and says where it
/// starts.
async fn begin(
    f: &FileRow,
    key: &FileKey,
    input: &tokio::sync::mpsc::Sender<Input>,
    via: &'static str,
) -> Result<(Receiver, u64), TransferError> {
    let (rx, offset) = Receiver::open(&f.path, key.clone(), f.size).await?;
    let _ = input.send(Input::File(FileInput::Started { id: f.file_id, offset, via })).await;
    Ok((rx, offset))
}

/// Ends an attempt: a complete file is checked and kept; otherwise what
/// arrived is made durable for the next attempt.
async fn settle(
    f: &FileRow,
    mut rx: Receiver,
    fetched: Result<(), TransferError>,
) -> Result<(), TransferError> {
    match fetched {
        Ok(()) => rx.finish(&f.sha256, &f.path).await,
        Err(e) => {
            rx.checkpoint().await?;
            Err(e)
        }
    }
}

/// One attempt: the call with the sender, the sender directly, then the
/// relay blob.
async fn attempt(
    f: &FileRow,
    key: &FileKey,
    sources: &Sources,
    net: &crate::net::NetHandle,
    input: &tokio::sync::mpsc::Sender<Input>,
    progress: xfer::Progress<'_>,
) -> Result<(), TransferError> {
    let id = f.file_id;
    let mut last_err = TransferError::Unavailable("no source for this file".into());
    let mut withdrawn = false;
    // A download task keeps its sources across retries: a call that has
    // ended since is skipped (the next call restarts the download).
    if let Some((call, via)) = sources.call.as_ref().filter(|c| !c.0.is_closed()) {
        let (mut rx, offset) = begin(f, key, input, via).await?;
        let fetched = if rx.is_done() {
            Ok(())
        } else {
            match call.open_file_channel().await {
                Ok(mut channel) => {
                    xfer::fetch_over(&mut channel, id, offset, &mut rx, &mut *progress).await
                }
                Err(e) if *via == "link" => {
                    Err(TransferError::Network(format!("the data link: {e}")))
                }
                Err(e) => Err(TransferError::Network(format!("the call: {e}"))),
            }
        };
        match settle(f, rx, fetched).await {
            Err(e) if e.is_transient() => {
                tracing::debug!(file = %hex::encode(id), error = %e, via, "fetch over WebRTC failed");
                withdrawn = matches!(e, TransferError::Unavailable(_));
                last_err = e;
            }
            done => return done,
        }
    }
    if let Some((peer, addrs, direct_only)) = sources.direct.clone() {
        let (mut rx, offset) = begin(f, key, input, "direct").await?;
        let fetched = if rx.is_done() {
            Ok(())
        } else {
            let p = &mut *progress;
            xfer::fetch_direct(net, peer, addrs, id, offset, &mut rx, p, direct_only).await
        };
        match settle(f, rx, fetched).await {
            Err(e) if e.is_transient() => {
                tracing::debug!(file = %hex::encode(id), error = %e, "direct fetch failed");
                withdrawn |= matches!(e, TransferError::Unavailable(_));
                last_err = e;
            }
            done => return done,
        }
    }
    if let (Some((relay, blob)), Some(http)) = (&f.blob, &sources.http) {
        let (mut rx, offset) = begin(f, key, input, "relay").await?;
        let fetched = if rx.is_done() {
            Ok(())
        } else {
            xfer::fetch_blob(http, relay, blob, offset, &mut rx, &mut *progress).await
        };
        return match settle(f, rx, fetched).await {
            // The sender said it no longer offers the file and the relay
            // has no copy: for good, even if the sender's withdrawal of
            // its relay reservation (sent in the background) has not
            // reached the relay yet.
            Err(TransferError::Unavailable(_)) if withdrawn => {
                Err(TransferError::Gone("the sender no longer offers this file".into()))
            }
            done => done,
        };
    }
    if withdrawn {
        // The sender answered that it does not offer the file, and there
        // is no relay copy.
        return Err(TransferError::Gone("the sender no longer offers this file".into()));
    }
    Err(last_err)
}
