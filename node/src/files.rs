//! Files (M5, SPEC.md §7.7): the `files` table, sealing a file for sending,
//! and the transfers — fetching ciphertext from the sender over
//! `/kovan/file/1` or from a relay blob, serving it to peers, uploading it.
//!
//! Nothing here touches the core's state: transfers run as tokio tasks and
//! report through callbacks; the core records what they report. Memory per
//! transfer is a few buffers of one chunk, whatever the file size.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt};
use kovan_crypto::file::{self as fcrypto, ChunkOpener, ChunkSealer, FileError, FileKey};
use kovan_spec::wire;
use libp2p::{Multiaddr, PeerId};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::net::NetHandle;
use crate::net::codec::{read_message, write_frame, write_message};
use crate::relay_client::{self, RelayError};
use crate::store::Database;
use kovan_crypto::storage::FieldKey;
use rand_core::OsRng;

/// Files a device serves at once over `/kovan/file/1`; more get `BUSY`.
pub const MAX_SERVING: usize = 8;
/// How often a transfer reports progress (at most).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Bytes read from disk or the network per step.
const IO_CHUNK: usize = fcrypto::SEALED_CHUNK;

/// A row of the `files` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// Names the transfer.
    pub file_id: [u8; 16],
    /// The conversation it was sent in.
    pub conversation_id: Vec<u8>,
    /// The message that announced it.
    pub message_id: [u8; 16],
    /// Sent by this device.
    pub outgoing: bool,
    /// The device that holds the ciphertext.
    pub sender_device: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The key, sealed (SPEC.md §4.6).
    pub sealed_key: Vec<u8>,
    /// The relay blob, if any: base URL and id.
    pub blob: Option<(String, [u8; 16])>,
    /// See the migration.
    pub state: String,
    /// See the migration.
    pub upload: String,
    /// Plaintext stored (incoming) or ciphertext uploaded (outgoing).
    pub done: u64,
    /// Ciphertext bytes that crossed the network, all attempts.
    pub wire_bytes: u64,
    /// The ciphertext offset the last attempt started at.
    pub resumed_from: u64,
    /// Where the last attempt fetched from: `call`, `direct`, `relay`, or
    /// empty.
    pub via: String,
    /// Incoming: where the file lands; outgoing: the ciphertext.
    pub path: PathBuf,
    /// Outgoing: the file the user picked.
    pub source: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

const COLUMNS: &str = "file_id, conversation_id, message_id, outgoing, sender_device, name, mime, \
     size, sha256, key, relay, blob_id, state, upload, done, wire_bytes, resumed_from, path, \
     source, error, created_at, sealed, via";

fn arr<const N: usize>(v: Vec<u8>, col: usize) -> rusqlite::Result<[u8; N]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            rusqlite::types::Type::Blob,
            "wrong length".into(),
        )
    })
}

/// The context a content column of a row is sealed under (SPEC.md §4.6):
/// `files/<column>/` || file id. Sealed: name, mime, path, source, error.
fn field_context(column: &str, id: &[u8; 16]) -> Vec<u8> {
    let mut c = format!("files/{column}/").into_bytes();
    c.extend_from_slice(id);
    c
}

/// The `files` table. Rows written before the columns were sealed (the
/// `sealed` flag is 0) are sealed when the node opens (`seal_legacy`).
#[derive(Debug)]
pub struct Files<'a> {
    db: &'a Database,
    key: &'a FieldKey,
}

impl<'a> Files<'a> {
    /// The table in `db`; content columns sealed with `key`.
    pub fn new(db: &'a Database, key: &'a FieldKey) -> Self {
        Self { db, key }
    }

    fn seal(&self, column: &str, id: &[u8; 16], value: &str) -> Vec<u8> {
        self.key.seal(&mut OsRng, &field_context(column, id), value.as_bytes())
    }

    fn open(
        &self,
        column: &str,
        id: &[u8; 16],
        sealed: bool,
        v: Option<Vec<u8>>,
    ) -> Option<String> {
        let v = v?;
        if !sealed {
            return Some(String::from_utf8_lossy(&v).into_owned());
        }
        let plain = self.key.open(&field_context(column, id), &v).ok()?;
        Some(String::from_utf8_lossy(&plain).into_owned())
    }

    fn row_from(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRow> {
        let relay: Option<String> = r.get(10)?;
        let blob_id: Option<Vec<u8>> = r.get(11)?;
        let blob = match (relay, blob_id) {
            (Some(url), Some(id)) => Some((url, arr(id, 11)?)),
            _ => None,
        };
        let file_id: [u8; 16] = arr(r.get(0)?, 0)?;
        let sealed = r.get::<_, i64>(21)? != 0;
        let text = |col: usize, name: &str| -> rusqlite::Result<Option<String>> {
            Ok(self.open(name, &file_id, sealed, r.get::<_, Option<Vec<u8>>>(col)?))
        };
        Ok(FileRow {
            file_id,
            conversation_id: r.get(1)?,
            message_id: arr(r.get(2)?, 2)?,
            outgoing: r.get(3)?,
            sender_device: r.get(4)?,
            name: text(5, "name")?.unwrap_or_default(),
            mime: text(6, "mime")?.unwrap_or_default(),
            size: r.get::<_, i64>(7)? as u64,
            sha256: arr(r.get(8)?, 8)?,
            sealed_key: r.get(9)?,
            blob,
            state: r.get(12)?,
            upload: r.get(13)?,
            done: r.get::<_, i64>(14)? as u64,
            wire_bytes: r.get::<_, i64>(15)? as u64,
            resumed_from: r.get::<_, i64>(16)? as u64,
            path: PathBuf::from(text(17, "path")?.unwrap_or_default()),
            source: text(18, "source")?,
            error: text(19, "error")?,
            created_at: r.get(20)?,
            via: r.get(22)?,
        })
    }

    /// Seals the content columns of rows written before they were sealed.
    pub fn seal_legacy(&self) -> crate::Result<usize> {
        let mut stmt =
            self.db.conn().prepare(&format!("SELECT {COLUMNS} FROM files WHERE sealed = 0"))?;
        let rows: Vec<FileRow> =
            stmt.query_map([], |r| self.row_from(r))?.collect::<rusqlite::Result<_>>()?;
        for f in &rows {
            self.db.conn().execute(
                "UPDATE files SET name = ?2, mime = ?3, path = ?4, source = ?5, error = ?6, \
                 sealed = 1 WHERE file_id = ?1",
                params![
                    f.file_id,
                    self.seal("name", &f.file_id, &f.name),
                    self.seal("mime", &f.file_id, &f.mime),
                    self.seal("path", &f.file_id, &f.path.to_string_lossy()),
                    f.source.as_deref().map(|s| self.seal("source", &f.file_id, s)),
                    f.error.as_deref().map(|e| self.seal("error", &f.file_id, e)),
                ],
            )?;
        }
        Ok(rows.len())
    }

    /// Adds a file; false if its id is known already (a replayed message).
    pub fn insert(&self, f: &FileRow) -> crate::Result<bool> {
        let n = self.db.conn().execute(
            &format!(
                "INSERT OR IGNORE INTO files ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
            ),
            params![
                f.file_id,
                f.conversation_id,
                f.message_id,
                f.outgoing,
                f.sender_device,
                self.seal("name", &f.file_id, &f.name),
                self.seal("mime", &f.file_id, &f.mime),
                f.size as i64,
                f.sha256,
                f.sealed_key,
                f.blob.as_ref().map(|b| b.0.as_str()),
                f.blob.as_ref().map(|b| b.1.as_slice()),
                f.state,
                f.upload,
                f.done as i64,
                f.wire_bytes as i64,
                f.resumed_from as i64,
                self.seal("path", &f.file_id, &f.path.to_string_lossy()),
                f.source.as_deref().map(|s| self.seal("source", &f.file_id, s)),
                f.error.as_deref().map(|e| self.seal("error", &f.file_id, e)),
                f.created_at,
                1i64,
                f.via,
            ],
        )?;
        Ok(n == 1)
    }

    /// A file by id.
    pub fn get(&self, id: &[u8; 16]) -> crate::Result<Option<FileRow>> {
        Ok(self
            .db
            .conn()
            .query_row(&format!("SELECT {COLUMNS} FROM files WHERE file_id = ?1"), [id], |r| {
                self.row_from(r)
            })
            .optional()?)
    }

    /// The file a message announced.
    pub fn by_message(&self, conv: &[u8], message: &[u8; 16]) -> crate::Result<Option<FileRow>> {
        Ok(self
            .db
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM files WHERE conversation_id = ?1 AND message_id = ?2"
                ),
                params![conv, message],
                |r| self.row_from(r),
            )
            .optional()?)
    }

    /// The file a message announced, whatever its conversation.
    pub fn by_message_id(&self, message: &[u8; 16]) -> crate::Result<Option<FileRow>> {
        Ok(self
            .db
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM files WHERE message_id = ?1 LIMIT 1"),
                params![message],
                |r| self.row_from(r),
            )
            .optional()?)
    }

    /// Files, newest first, optionally of one conversation.
    pub fn list(&self, conv: Option<&[u8]>, limit: usize) -> crate::Result<Vec<FileRow>> {
        let mut stmt = self.db.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM files WHERE ?1 IS NULL OR conversation_id = ?1 \
             ORDER BY created_at DESC, rowid DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![conv, limit as i64], |r| self.row_from(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Transfers to resume: downloads under way and uploads needed.
    pub fn unfinished(&self) -> crate::Result<Vec<FileRow>> {
        let mut stmt = self.db.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM files WHERE (outgoing = 0 AND state IN ('downloading', 'waiting')) \
             OR (outgoing = 1 AND state = 'ready' AND upload IN ('needed', 'uploading'))"
        ))?;
        let rows = stmt.query_map([], |r| self.row_from(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets the state and error.
    pub fn set_state(&self, id: &[u8; 16], state: &str, error: Option<&str>) -> crate::Result<()> {
        let error = error.map(|e| self.seal("error", id, e));
        self.db.conn().execute(
            "UPDATE files SET state = ?2, error = ?3 WHERE file_id = ?1",
            params![id, state, error],
        )?;
        Ok(())
    }

    /// Sets the upload state and error.
    pub fn set_upload(
        &self,
        id: &[u8; 16],
        upload: &str,
        error: Option<&str>,
    ) -> crate::Result<()> {
        let error = error.map(|e| self.seal("error", id, e));
        self.db.conn().execute(
            "UPDATE files SET upload = ?2, error = ?3 WHERE file_id = ?1",
            params![id, upload, error],
        )?;
        Ok(())
    }

    /// Records progress: bytes done, and bytes that crossed the network
    /// since the last report.
    pub fn progress(&self, id: &[u8; 16], done: u64, wire_delta: u64) -> crate::Result<()> {
        self.db.conn().execute(
            "UPDATE files SET done = ?2, wire_bytes = wire_bytes + ?3 WHERE file_id = ?1",
            params![id, done as i64, wire_delta as i64],
        )?;
        Ok(())
    }

    /// Records where an attempt started, and from which source.
    pub fn set_resumed(&self, id: &[u8; 16], offset: u64, via: &str) -> crate::Result<()> {
        self.db.conn().execute(
            "UPDATE files SET resumed_from = ?2, via = ?3 WHERE file_id = ?1",
            params![id, offset as i64, via],
        )?;
        Ok(())
    }
}

/// A media type from a file name's extension.
pub fn guess_mime(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "md" => "text/plain",
        "ogg" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "zip" => "application/zip",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// A name for a file the user picked: its last path component, made safe
/// (SPEC.md §7.7.1) and cut to 255 bytes on a character boundary.
pub fn offer_name(path: &Path) -> String {
    let raw = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c })
        .collect();
    while name.len() > kovan_spec::limits::MAX_FILE_NAME {
        name.pop();
    }
    if !kovan_spec::validate::is_safe_file_name(&name) {
        name = "file".into();
    }
    name
}

/// What [`seal_file`] produced.
#[derive(Debug)]
pub struct Sealed {
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
}

/// Encrypts `src` into `dst` (written to a temporary name, synced, then
/// renamed) in one pass, hashing the plaintext; `progress` gets the
/// plaintext bytes done. Blocking: run it off the async runtime.
pub fn seal_file(
    src: &Path,
    dst: &Path,
    key: &FileKey,
    max_size: u64,
    mut progress: impl FnMut(u64),
) -> io::Result<Sealed> {
    let mut input = std::fs::File::open(src)?;
    let size = input.metadata()?.len();
    if size > max_size {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("the file is {size} bytes; the limit is {max_size}"),
        ));
    }
    let tmp = dst.with_extension("tmp");
    let mut out = io::BufWriter::with_capacity(
        1 << 20,
        crate::home::private_file().write(true).create(true).truncate(true).open(&tmp)?,
    );
    let mut sealer = ChunkSealer::new(key.clone(), size);
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    let mut buf = Vec::with_capacity(fcrypto::SEALED_CHUNK);
    while let Some(n) = sealer.next_len() {
        buf.resize(n, 0);
        input.read_exact(&mut buf).map_err(|e| {
            io::Error::new(e.kind(), "the file changed (got shorter) while being read")
        })?;
        hasher.update(&buf);
        sealer
            .seal_next(&mut buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        out.write_all(&buf)?;
        done += n as u64;
        progress(done);
    }
    let mut extra = [0u8; 1];
    if input.read(&mut extra)? != 0 {
        return Err(io::Error::other("the file changed (got longer) while being read"));
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dst)?;
    if let Some(dir) = dst.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(Sealed { size, sha256: hasher.finalize().into() })
}

/// Why a transfer stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The bytes are bad (altered, truncated, extended, wrong key, wrong
    /// hash): the transfer fails for good and nothing is shown as complete.
    #[error(transparent)]
    Untrusted(#[from] FileError),
    /// Writing or reading local files failed.
    #[error("local file: {0}")]
    Local(#[from] io::Error),
    /// The source could not be reached or stopped answering: try again later.
    #[error("{0}")]
    Network(String),
    /// The source does not have it now (not uploaded yet, or the sender
    /// does not offer it to us): another source or a later try may.
    #[error("{0}")]
    Unavailable(String),
    /// No source will ever have it again (the sender withdrew it, the
    /// relay's copy expired or was deleted).
    #[error("{0}")]
    Gone(String),
}

impl TransferError {
    /// Whether trying again later may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, TransferError::Network(_) | TransferError::Unavailable(_))
    }
}

impl From<RelayError> for TransferError {
    fn from(e: RelayError) -> Self {
        match e {
            RelayError::Unreachable(m) => TransferError::Network(format!("relay unreachable: {m}")),
            // Withdrawn by its sender (§9.8): for good.
            RelayError::Refused { status: 410, .. } => {
                TransferError::Gone("the file is no longer offered (its sender withdrew it)".into())
            }
            // Nothing there: not uploaded (yet), never needed, or expired;
            // the sender's device may still have it.
            RelayError::Refused { status: 404, .. } => {
                TransferError::Unavailable("the relay has no copy".into())
            }
            RelayError::Refused { message, .. } => {
                TransferError::Unavailable(format!("the relay refused: {message}"))
            }
            RelayError::Invalid(m) => TransferError::Network(m),
        }
    }
}

/// Progress of a transfer: bytes done and bytes that crossed the network
/// since the last report.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

/// Receives a file: decrypts ciphertext as it arrives into `NAME.part`,
/// which only becomes `NAME` once the final chunk opened and the hash
/// matched.
pub struct Receiver {
    opener: ChunkOpener,
    hasher: Sha256,
    out: tokio::io::BufWriter<tokio::fs::File>,
    part: PathBuf,
    written: u64,
    plain: Vec<u8>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("part", &self.part)
            .field("written", &self.written)
            .finish()
    }
}

/// The partial file next to `path`.
pub fn part_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".part");
    PathBuf::from(p)
}

impl Receiver {
    /// Opens (or continues) the partial file of `path`: whole chunks
    /// already there are kept (and hashed again), a torn tail is cut off.
    /// Returns the receiver and the ciphertext offset to fetch from.
    pub async fn open(path: &Path, key: FileKey, size: u64) -> io::Result<(Self, u64)> {
        if let Some(dir) = path.parent() {
            let dir = dir.to_owned();
            tokio::task::spawn_blocking(move || crate::home::private_dir(&dir))
                .await
                .map_err(io::Error::other)?
                .map_err(io::Error::other)?;
        }
        let part = part_path(path);
        let mut file = crate::home::private_file_async()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&part)
            .await?;
        let have = file.metadata().await?.len().min(size);
        let chunk = fcrypto::CHUNK_SIZE as u64;
        // Whole chunks only; a complete plaintext is kept whole.
        let chunks =
            if have == size && size > 0 { fcrypto::chunk_count(size) } else { have / chunk };
        let keep = (chunks * chunk).min(size);
        file.set_len(keep).await?;
        let mut hasher = Sha256::new();
        file.seek(io::SeekFrom::Start(0)).await?;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = keep;
        while left > 0 {
            let n = file.read(&mut buf[..(left.min(1 << 20)) as usize]).await?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "partial file shrank"));
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        file.seek(io::SeekFrom::Start(keep)).await?;
        let offset = fcrypto::sealed_offset(chunks);
        let opener = ChunkOpener::new(key, size, offset)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        let me = Self {
            opener,
            hasher,
            out: tokio::io::BufWriter::with_capacity(1 << 20, file),
            part,
            written: keep,
            plain: Vec::with_capacity(2 * fcrypto::CHUNK_SIZE),
        };
        Ok((me, offset))
    }

    /// Plaintext bytes stored so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether every chunk has arrived.
    pub fn is_done(&self) -> bool {
        self.opener.is_done()
    }

    /// Takes ciphertext bytes.
    pub async fn feed(&mut self, data: &[u8]) -> Result<(), TransferError> {
        let plain = &mut self.plain;
        plain.clear();
        self.opener
            .push(data, |p| {
                plain.extend_from_slice(p);
                Ok(())
            })
            .map_err(|e| match e {
                fcrypto::OpenError::File(f) => TransferError::Untrusted(f),
                fcrypto::OpenError::Io(e) => TransferError::Local(e),
            })?;
        if !self.plain.is_empty() {
            self.hasher.update(&self.plain);
            self.out.write_all(&self.plain).await?;
            self.written += self.plain.len() as u64;
        }
        Ok(())
    }

    /// Makes what arrived durable (so a resume can trust it).
    pub async fn checkpoint(&mut self) -> io::Result<()> {
        self.out.flush().await?;
        self.out.get_ref().sync_data().await
    }

    /// Ends the transfer: the final chunk must have opened and the hash
    /// must match; then `NAME.part` becomes `path`, durably.
    pub async fn finish(mut self, sha256: &[u8; 32], path: &Path) -> Result<(), TransferError> {
        self.opener.finish()?;
        let got: [u8; 32] = self.hasher.clone().finalize().into();
        if &got != sha256 {
            return Err(FileError::HashMismatch.into());
        }
        self.checkpoint().await?;
        drop(self.out);
        // Every received file has its own directory (SPEC.md §7.7.4), so
        // the rename replaces nothing but a leftover of this same file.
        tokio::fs::rename(&self.part, path).await?;
        if let Some(dir) = path.parent() {
            tokio::fs::File::open(dir).await?.sync_all().await?;
        }
        Ok(())
    }
}

/// Fetches the rest of a file from the device that sent it, over
/// `/kovan/file/1`, dialing it with its expected PeerId.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_direct(
    net: &NetHandle,
    peer: PeerId,
    addrs: Vec<Multiaddr>,
    file_id: [u8; 16],
    offset: u64,
    rx: &mut Receiver,
    progress: Progress<'_>,
    direct_only: bool,
) -> Result<(), TransferError> {
    let dial = tokio::time::timeout(Duration::from_secs(10), net.dial(peer, addrs)).await;
    match dial {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(TransferError::Network(format!("sender unreachable: {e}"))),
        Err(_) => return Err(TransferError::Network("sender unreachable: timed out".into())),
    }
    if direct_only {
        // A direct-only conversation's file never crosses a relay (§7.8).
        net.ensure_direct(peer)
            .await
            .map_err(|e| TransferError::Network(format!("sender: {e}")))?;
    }
    let mut stream = tokio::time::timeout(Duration::from_secs(10), net.open_file_stream(peer))
        .await
        .map_err(|_| TransferError::Network("opening a stream timed out".into()))?
        .map_err(|e| TransferError::Network(e.to_string()))?;
    fetch_over(&mut stream, file_id, offset, rx, progress).await
}

/// Fetches the rest of a file over a stream to the device that sent it:
/// a `/kovan/file/1` stream or a call's data channel (SPEC.md §7.7.3,
/// §6.9.1).
pub async fn fetch_over<S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin>(
    stream: &mut S,
    file_id: [u8; 16],
    offset: u64,
    rx: &mut Receiver,
    progress: Progress<'_>,
) -> Result<(), TransferError> {
    let net_err = |e: io::Error| TransferError::Network(format!("sender: {e}"));
    write_message(&mut *stream, &wire::FileFetch { file_id: file_id.to_vec(), offset })
        .await
        .map_err(net_err)?;
    let reply: wire::FileFetchReply = tokio::time::timeout(
        Duration::from_secs(30),
        read_message::<wire::FileFetchReply, _>(&mut *stream),
    )
    .await
    .map_err(|_| TransferError::Network("the sender did not answer".into()))?
    .map_err(net_err)?;
    match wire::FileFetchStatus::try_from(reply.status) {
        Ok(wire::FileFetchStatus::Ok) => {}
        Ok(wire::FileFetchStatus::Busy) => {
            return Err(TransferError::Network("the sender is busy".into()));
        }
        _ => return Err(TransferError::Unavailable("the sender does not offer it".into())),
    }
    let mut left = reply.length;
    let mut buf = vec![0u8; IO_CHUNK];
    let mut last = Instant::now();
    let mut wire_delta = 0u64;
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf[..want]))
            .await
            .map_err(|_| TransferError::Network("the sender stalled".into()))?
            .map_err(net_err)?;
        if n == 0 {
            break;
        }
        left -= n as u64;
        wire_delta += n as u64;
        rx.feed(&buf[..n]).await?;
        if last.elapsed() >= PROGRESS_EVERY {
            progress(rx.written(), std::mem::take(&mut wire_delta));
            last = Instant::now();
        }
    }
    progress(rx.written(), wire_delta);
    let _ = stream.close().await;
    if !rx.is_done() {
        return Err(TransferError::Network("the sender closed the stream early".into()));
    }
    Ok(())
}

/// Fetches the rest of a file from a relay blob.
pub async fn fetch_blob(
    http: &reqwest::Client,
    relay: &str,
    blob_id: &[u8; 16],
    offset: u64,
    rx: &mut Receiver,
    progress: Progress<'_>,
) -> Result<(), TransferError> {
    let resp = relay_client::blob_download(http, relay, &hex::encode(blob_id), offset).await?;
    let mut body = resp.bytes_stream();
    let mut last = Instant::now();
    let mut wire_delta = 0u64;
    while let Some(part) = body.next().await {
        let part = part.map_err(|e| TransferError::Network(format!("relay: {e}")))?;
        wire_delta += part.len() as u64;
        rx.feed(&part).await?;
        if last.elapsed() >= PROGRESS_EVERY {
            progress(rx.written(), std::mem::take(&mut wire_delta));
            last = Instant::now();
        }
    }
    progress(rx.written(), wire_delta);
    Ok(())
}

/// Uploads the rest of a ciphertext file to its relay blob, resuming at
/// what the relay already holds.
pub async fn upload_blob(
    relay: &relay_client::RelayClient,
    token: &str,
    blob_id: &[u8; 16],
    path: &Path,
    progress: Progress<'_>,
) -> Result<(), TransferError> {
    let id = hex::encode(blob_id);
    let info = relay_client::blob_info(relay.bulk(), relay.base(), &id).await?;
    if info.complete {
        progress(info.received as u64, 0);
        return Ok(());
    }
    let offset = info.received as u64;
    let mut file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    if len != info.size as u64 {
        return Err(TransferError::Local(io::Error::new(
            io::ErrorKind::InvalidData,
            "the ciphertext on disk does not have the blob's size",
        )));
    }
    file.seek(io::SeekFrom::Start(offset)).await?;
    // The body counts what the HTTP client pulls; the count is read every
    // PROGRESS_EVERY and once more at the end, so every byte is reported
    // whatever the load (a bounded channel of counts dropped some when
    // its reader fell behind).
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = pulled.clone();
    let stream = futures_util::stream::unfold(file, move |mut file| {
        let counter = counter.clone();
        async move {
            let mut buf = vec![0u8; IO_CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    counter.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    Some((Ok::<_, io::Error>(buf), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        }
    });
    let upload = relay.upload_blob(token, &id, offset, reqwest::Body::wrap_stream(stream));
    tokio::pin!(upload);
    let mut reported = 0u64;
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let result = loop {
        tokio::select! {
            r = &mut upload => break r,
            _ = tick.tick() => {
                let now = pulled.load(std::sync::atomic::Ordering::Relaxed);
                progress(offset + now, now - reported);
                reported = now;
            }
        }
    };
    let now = pulled.load(std::sync::atomic::Ordering::Relaxed);
    let info = match result {
        Ok(info) => info,
        Err(e) => {
            progress(offset + now, now - reported);
            return Err(e.into());
        }
    };
    progress(info.received as u64, now - reported);
    if info.complete {
        Ok(())
    } else {
        Err(TransferError::Network(format!(
            "the relay holds {} of {} bytes",
            info.received, info.size
        )))
    }
}

/// What the core says about a fetch request: the ciphertext to serve, or no.
pub type ServeDecision = Option<(PathBuf, u64)>;

/// Serves one inbound `/kovan/file/1` stream. `decide` asks the core
/// whether `peer` may have the file (and where it is).
pub async fn serve<S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin>(
    mut stream: S,
    peer: PeerId,
    decide: impl AsyncFnOnce(PeerId, [u8; 16]) -> ServeDecision,
    busy: bool,
) -> io::Result<()> {
    let req: wire::FileFetch = tokio::time::timeout(
        Duration::from_secs(10),
        read_message::<wire::FileFetch, _>(&mut stream),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request"))??;
    let answer = |status: wire::FileFetchStatus, length: u64| wire::FileFetchReply {
        status: status as i32,
        length,
    };
    if busy {
        write_message(&mut stream, &answer(wire::FileFetchStatus::Busy, 0)).await?;
        return stream.close().await;
    }
    let Ok(file_id) = <[u8; 16]>::try_from(req.file_id.as_slice()) else {
        write_message(&mut stream, &answer(wire::FileFetchStatus::BadRequest, 0)).await?;
        return stream.close().await;
    };
    let Some((path, sealed_len)) = decide(peer, file_id).await else {
        write_message(&mut stream, &answer(wire::FileFetchStatus::NotFound, 0)).await?;
        return stream.close().await;
    };
    if req.offset > sealed_len || !req.offset.is_multiple_of(fcrypto::SEALED_CHUNK as u64) {
        write_message(&mut stream, &answer(wire::FileFetchStatus::BadRequest, 0)).await?;
        return stream.close().await;
    }
    let mut file = tokio::fs::File::open(&path).await?;
    file.seek(io::SeekFrom::Start(req.offset)).await?;
    let length = sealed_len - req.offset;
    write_frame(&mut stream, &answer(wire::FileFetchStatus::Ok, length)).await?;
    let mut left = length;
    let mut buf = vec![0u8; IO_CHUNK];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = file.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "ciphertext file shrank"));
        }
        tokio::time::timeout(Duration::from_secs(60), stream.write_all(&buf[..n]))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading"))??;
        left -= n as u64;
    }
    stream.close().await
}
