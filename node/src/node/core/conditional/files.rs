//! Conditional files (SPEC.md §6.10.5, X5): a file sealed under an inner
//! key that only its message's opened body gives. Its sealed bytes travel
//! at once as an ordinary transfer announced as `sealed`; once the body
//! opens here (and the bytes are all here), they are opened chunk by chunk
//! into `files/in/<transfer>/opened/<name>`, checked against the body's
//! hash, and the sealed copy goes.

use std::path::{Path, PathBuf};

use kovan_crypto::file::{FileKey, sealed_len};
use kovan_spec::validate::{ConditionalSpec, SealedFile};
use kovan_spec::wire;
use rand_core::OsRng;
use rusqlite::{OptionalExtension as _, params};
use tokio::io::AsyncReadExt as _;
use zeroize::Zeroizing;

use super::super::files::{Outgoing, Preparing, SealedFile as Prepared};
use super::super::{Core, Input};
use crate::files::{Receiver, TransferError, part_path};
use crate::node::views::ConditionalFileView;
use crate::node::{NodeError, NodeHandle, NodeResult};

/// The sealing context of a conditional file's stored column.
fn context(column: &str, conv: &[u8], id: &[u8; 16]) -> Vec<u8> {
    let mut c = format!("conditional/file/{column}/").into_bytes();
    c.extend_from_slice(&(conv.len() as u32).to_be_bytes());
    c.extend_from_slice(conv);
    c.extend_from_slice(id);
    c
}

/// A conditional file opened (or sent) on this device.
struct Kept {
    transfer: [u8; 16],
    file: SealedFile,
    state: String,
    path: Option<PathBuf>,
    error: Option<String>,
}

/// What a sender keeps of the conditional file it sends.
pub(super) struct Outbound {
    /// The sealed bytes, sealed again for the transfer.
    pub sealed: Prepared,
    /// The file's inner key and what it is.
    pub file: SealedFile,
    /// The file the user picked.
    pub source: PathBuf,
}

/// The body part that keeps a conditional file's key, encoded.
fn encoded_key(file: &SealedFile) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(kovan_spec::encode(&wire::ConditionalBody {
        text: String::new(),
        file: Some(wire_key(file)),
    }))
}

/// A conditional file's key and description as the body carries them.
pub(super) fn wire_key(file: &SealedFile) -> wire::SealedFileKey {
    wire::SealedFileKey {
        key: file.key.to_vec(),
        name: file.name.clone(),
        mime: file.mime.clone(),
        size: file.size,
        sha256: file.sha256.to_vec(),
    }
}

impl Core {
    fn seal_column(&self, column: &str, conv: &[u8], id: &[u8; 16], value: &[u8]) -> Vec<u8> {
        self.field.seal(&mut OsRng, &context(column, conv, id), value)
    }

    fn open_column(
        &self,
        column: &str,
        conv: &[u8],
        id: &[u8; 16],
        v: Option<Vec<u8>>,
    ) -> Option<String> {
        let plain = self.field.open(&context(column, conv, id), &v?).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Keeps a conditional file's key once its body opened here (or as its
    /// sender), in `state`; a replay keeps what is there.
    pub(super) fn keep_file_key(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        transfer: &[u8; 16],
        file: &SealedFile,
        state: &str,
        path: Option<&Path>,
    ) -> crate::Result<()> {
        let key = self.seal_column("key", conv, id, &encoded_key(file));
        let path = path.map(|p| self.seal_column("path", conv, id, p.to_string_lossy().as_bytes()));
        self.db.conn().execute(
            "INSERT OR IGNORE INTO conditional_files \
             (conversation_id, message_id, file_id, sealed_key, state, path) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![conv, id.as_slice(), transfer.as_slice(), key, state, path],
        )?;
        Ok(())
    }

    /// The conditional file of a message, if it opened here.
    fn kept_file(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Option<Kept>> {
        type Row = (Vec<u8>, Vec<u8>, String, Option<Vec<u8>>, Option<Vec<u8>>);
        let row: Option<Row> = self
            .db
            .conn()
            .query_row(
                "SELECT file_id, sealed_key, state, path, error FROM conditional_files \
                 WHERE conversation_id = ?1 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((transfer, key, state, path, error)) = row else { return Ok(None) };
        let Some(spec) = self.stored_conditional(conv, id)? else { return Ok(None) };
        let opened = self
            .field
            .open(&context("key", conv, id), &key)
            .ok()
            .and_then(|k| kovan_spec::validate::conditional_body(&k, spec.file.as_ref()).ok())
            .and_then(|b| b.file);
        let (Some(file), Ok(transfer)) = (opened, <[u8; 16]>::try_from(transfer.as_slice())) else {
            return Err(crate::Error::Internal("a conditional file's key does not open".into()));
        };
        Ok(Some(Kept {
            transfer,
            file,
            state,
            path: self.open_column("path", conv, id, path).map(PathBuf::from),
            error: self.open_column("error", conv, id, error),
        }))
    }

    fn set_file_state(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        state: &str,
        path: Option<&Path>,
        error: Option<&str>,
    ) -> crate::Result<()> {
        let path = path.map(|p| self.seal_column("path", conv, id, p.to_string_lossy().as_bytes()));
        let error = error.map(|e| self.seal_column("error", conv, id, e.as_bytes()));
        self.db.conn().execute(
            "UPDATE conditional_files SET state = ?3, path = COALESCE(?4, path), error = ?5 \
             WHERE conversation_id = ?1 AND message_id = ?2",
            params![conv, id.as_slice(), state, path, error],
        )?;
        Ok(())
    }

    /// A message's body opened here with a file: its key is kept and its
    /// bytes are opened if they are all here (else when they are).
    pub(super) fn file_opened(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
        file: &SealedFile,
    ) -> crate::Result<()> {
        let Some(offer) = &spec.file else {
            return Err(crate::Error::Internal("a file body without a file".into()));
        };
        self.keep_file_key(conv, id, &offer.file_id, file, "waiting", None)?;
        self.unseal_if_here(conv, id);
        Ok(())
    }

    /// Opens a kept conditional file's sealed bytes once every one of them
    /// arrived, off the core thread; the outcome comes back as a job.
    fn unseal_if_here(&mut self, conv: &[u8], id: &[u8; 16]) {
        let kept = match self.kept_file(conv, id) {
            Ok(Some(k)) if k.state == "waiting" || k.state == "opening" => k,
            Ok(_) => return,
            Err(e) => return tracing::error!(error = %e, "reading a conditional file failed"),
        };
        let sealed = match self.files().get(&kept.transfer) {
            Ok(Some(f)) if !f.outgoing && f.state == "complete" => f.path,
            Ok(_) => return,
            Err(e) => return tracing::error!(error = %e, "reading a conditional file failed"),
        };
        if let Err(e) = self.set_file_state(conv, id, "opening", None, None) {
            return tracing::error!(error = %e, "recording a conditional file failed");
        }
        let opened = match sealed.parent() {
            Some(dir) => dir.join("opened").join(&kept.file.name),
            None => return tracing::error!("a conditional file's bytes have no directory"),
        };
        let (conv, id, input) = (conv.to_vec(), *id, self.input.clone());
        self.spawn(async move {
            let outcome = unseal(&sealed, &opened, &kept.file).await;
            let job: crate::node::Job = Box::new(move |core: &mut Core| {
                core.unsealed(&conv, &id, &sealed, &opened, outcome);
            });
            let _ = input.send(Input::Job(job)).await;
        });
    }

    fn unsealed(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        sealed: &Path,
        opened: &Path,
        outcome: Result<(), TransferError>,
    ) {
        let r = match &outcome {
            Ok(()) => self.set_file_state(conv, id, "open", Some(opened), None).map(|()| {
                // The plaintext is kept; its sealed copy is not needed.
                let _ = std::fs::remove_file(sealed);
            }),
            Err(e) => {
                tracing::warn!(error = %e, "a conditional file did not open");
                let why = format!("the file does not open: {e}");
                self.set_file_state(conv, id, "failed", None, Some(&why))
            }
        };
        if let Err(e) = r {
            tracing::error!(error = %e, "recording a conditional file failed");
        }
        if let Ok(Some(view)) = self.message_view(conv, id) {
            self.emit(crate::node::views::Event::MessageEdited { message: view });
        }
        self.flush_events();
    }

    /// A download finished: a conditional file that opened before its
    /// bytes were all here opens now.
    pub(in crate::node::core) fn conditional_bytes_here(&mut self, transfer: &[u8; 16]) {
        self.unseal_where("file_id = ?1 AND state = 'waiting'", [transfer.as_slice()]);
    }

    /// At start: conditional files whose opening was cut short, or whose
    /// bytes came just before the node stopped, open now.
    pub(in crate::node::core) fn resume_conditional_files(&mut self) {
        self.unseal_where("state IN ('waiting', 'opening')", []);
    }

    /// Tries to open the kept conditional files that `condition` picks.
    fn unseal_where(&mut self, condition: &str, args: impl rusqlite::Params) {
        let rows: rusqlite::Result<Vec<(Vec<u8>, Vec<u8>)>> = self
            .db
            .conn()
            .prepare(&format!(
                "SELECT conversation_id, message_id FROM conditional_files WHERE {condition}"
            ))
            .and_then(|mut s| {
                s.query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()
            });
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => return tracing::error!(error = %e, "reading conditional files failed"),
        };
        for (conv, id) in rows {
            if let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) {
                self.unseal_if_here(&conv, &id);
            }
        }
    }

    /// A conditional message was deleted for everyone: a received file's
    /// sealed bytes and what was opened of them go (a sender's own file,
    /// the one it picked, stays).
    pub(super) fn forget_conditional_file(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<()> {
        if let Some(f) = self.files().by_message(conv, id)?.filter(|f| !f.outgoing) {
            let _ = std::fs::remove_file(&f.path);
            let _ = std::fs::remove_file(part_path(&f.path));
            if let Some(dir) = f.path.parent() {
                let _ = std::fs::remove_dir_all(dir.join("opened"));
            }
        }
        self.db.conn().execute(
            "DELETE FROM conditional_files WHERE conversation_id = ?1 AND message_id = ?2",
            params![conv, id.as_slice()],
        )?;
        Ok(())
    }

    /// A conditional message's file as this device knows it.
    pub(super) fn conditional_file_view(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        view: &mut ConditionalFileView,
    ) -> crate::Result<()> {
        if let Ok(Some(f)) = self.files().by_message(conv, id) {
            view.transfer_state = f.state;
        }
        if let Some(k) = self.kept_file(conv, id)? {
            view.state = k.state;
            view.name = Some(k.file.name);
            view.mime = Some(k.file.mime);
            view.size = Some(k.file.size);
            view.path = k.path.map(|p| p.to_string_lossy().into_owned());
            view.error = k.error;
        }
        Ok(())
    }
}

/// Opens a conditional file's sealed bytes into `opened` (written as
/// `NAME.part`, renamed once every chunk opened and the hash matched).
async fn unseal(sealed: &Path, opened: &Path, file: &SealedFile) -> Result<(), TransferError> {
    let key = FileKey::from_slice(&file.key)?;
    let (mut rx, offset) = Receiver::open(opened, key, file.size).await?;
    let mut input = tokio::fs::File::open(sealed).await?;
    if input.metadata().await?.len() != sealed_len(file.size) {
        let _ = tokio::fs::remove_file(part_path(opened)).await;
        return Err(kovan_crypto::file::FileError::Truncated.into());
    }
    tokio::io::AsyncSeekExt::seek(&mut input, std::io::SeekFrom::Start(offset)).await?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = input.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if let Err(e) = rx.feed(&buf[..n]).await {
            let _ = tokio::fs::remove_file(part_path(opened)).await;
            return Err(e);
        }
    }
    let outcome = rx.finish(&file.sha256, opened).await;
    if outcome.is_err() {
        let _ = tokio::fs::remove_file(part_path(opened)).await;
    }
    outcome
}

impl NodeHandle {
    /// Seals the file at `path` under a fresh inner key into a private file
    /// of `files/out`, and that again as an ordinary transfer announced as
    /// `sealed` (SPEC.md §6.10.5).
    pub(super) async fn seal_conditional_file(
        &self,
        mut prep: Preparing,
        path: &Path,
    ) -> NodeResult<Outbound> {
        let name = crate::files::offer_name(path);
        let mime = crate::files::guess_mime(&name).to_owned();
        let key = FileKey::generate(&mut OsRng);
        let mut tmp = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut tmp);
        let inner = prep.out_dir.join(format!("{}.inner", hex::encode(tmp)));
        let (src, dst, k, max) = (path.to_path_buf(), inner.clone(), key.clone(), prep.max_size);
        let plain = tokio::task::spawn_blocking(move || {
            crate::files::seal_file(&src, &dst, &k, max, |_| {})
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        // The sealed bytes are a little longer than the file.
        prep.max_size = sealed_len(prep.max_size);
        let how = Outgoing {
            name: kovan_spec::validate::SEALED_FILE_NAME.into(),
            mime: kovan_spec::validate::SEALED_FILE_MIME.into(),
            media: kovan_spec::validate::Media::None,
            source: Some(path.to_path_buf()),
        };
        let sealed = self.seal_outgoing(&prep, &inner, how).await;
        let _ = tokio::fs::remove_file(&inner).await;
        let file =
            SealedFile { key: *key.as_bytes(), name, mime, size: plain.size, sha256: plain.sha256 };
        Ok(Outbound { sealed: sealed?, file, source: path.to_path_buf() })
    }
}
