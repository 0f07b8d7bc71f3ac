//! Leave-no-trace chats (SPEC.md §7.8.1, X3): the parts that touch no
//! disk by construction — an MLS group held in memory only (an in-memory
//! openmls storage, wiped on drop), and the framing of `/kovan/notrace/1`.
//! The core (`node/core/notrace.rs`) owns the chats; a task per chat owns
//! its stream.

use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
use kovan_crypto::identity::DeviceCertificate;
use kovan_crypto::mls::{
    CIPHERSUITE, KovanProvider, LastResort, MlsSigner, credential_with_key, validate_member,
};
use kovan_spec::{ConversationMode, ValidatedGroupMeta, wire};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_memory_storage::MemoryStorage;
use zeroize::Zeroize as _;

use crate::conversation::{ConversationError, create_config, join_config, validated_key_package};
use crate::groups::{leaf_capabilities, meta_extensions, meta_of};

type Result<T, E = ConversationError> = std::result::Result<T, E>;

fn mls_err(e: impl std::fmt::Display) -> ConversationError {
    ConversationError::Mls(e.to_string())
}

/// Keeps this process's memory out of core dumps and away from debuggers
/// of the same user (Linux: not dumpable) from the first leave-no-trace
/// chat on. Its memory can still reach swap (see THREAT_MODEL.md).
pub fn protect_memory() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        tracing::warn!(error = %e, "could not keep this process out of core dumps");
    }
}

/// One chat's MLS state, in memory only. Dropping it overwrites every
/// value the storage held (keys, secrets, the tree) before freeing it.
pub struct EphemeralMls {
    provider: KovanProvider<MemoryStorage>,
    signer: MlsSigner,
    cert: DeviceCertificate,
    group: Option<MlsGroup>,
}

impl Drop for EphemeralMls {
    fn drop(&mut self) {
        self.group = None;
        if let Ok(mut values) = self.provider.storage().values.write() {
            for (mut k, mut v) in values.drain() {
                k.zeroize();
                v.zeroize();
            }
        }
    }
}

impl EphemeralMls {
    /// A fresh in-memory MLS state for this device.
    pub fn new(signer: MlsSigner, cert: DeviceCertificate) -> Self {
        Self { provider: KovanProvider::new(MemoryStorage::default()), signer, cert, group: None }
    }

    /// A KeyPackage whose private keys exist only here.
    pub fn key_package(&self) -> Result<Vec<u8>> {
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(leaf_capabilities())
            .build(CIPHERSUITE, &self.provider, &self.signer, credential_with_key(&self.cert))
            .map_err(mls_err)?;
        MlsMessageOut::from(bundle.key_package().clone()).tls_serialize_detached().map_err(mls_err)
    }

    /// The opener: a group whose meta says `NO_TRACE` and `pair`, with the
    /// accepter added from its KeyPackage, which must be `expected`'s
    /// device. Returns the Welcome.
    pub fn start(
        &mut self,
        key_package: &[u8],
        expected: &DeviceCertificate,
        now: u64,
    ) -> Result<Vec<u8>> {
        let (kp, peer) =
            validated_key_package(self.provider.crypto(), key_package, now, LastResort::Either)?;
        if peer.peer_id() != expected.peer_id() || peer.account() != expected.account() {
            return Err(ConversationError::Untrusted("a KeyPackage of another device".into()));
        }
        let meta = ValidatedGroupMeta {
            name: "no-trace chat".into(),
            admins: vec![*self.cert.account().as_bytes(), *peer.account().as_bytes()],
            mode: ConversationMode::NoTrace,
            pair: true,
            ..Default::default()
        };
        let config = create_config(Some(meta_extensions(&meta)?));
        let mut group =
            MlsGroup::new(&self.provider, &self.signer, &config, credential_with_key(&self.cert))
                .map_err(mls_err)?;
        let (_commit, welcome, _info) =
            group.add_members(&self.provider, &self.signer, &[kp]).map_err(mls_err)?;
        group.merge_pending_commit(&self.provider).map_err(mls_err)?;
        self.group = Some(group);
        welcome.tls_serialize_detached().map_err(mls_err)
    }

    /// The accepter: joins from the Welcome, which must make a `NO_TRACE`
    /// pair group of this device and the opener's device `expected`.
    pub fn join(&mut self, welcome: &[u8], expected: &DeviceCertificate, now: u64) -> Result<()> {
        let msg = MlsMessageIn::tls_deserialize_exact(welcome)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let MlsMessageBodyIn::Welcome(w) = msg.extract() else {
            return Err(ConversationError::Malformed("not a Welcome".into()));
        };
        let staged = StagedWelcome::new_from_welcome(&self.provider, &join_config(), w, None)
            .map_err(mls_err)?;
        let meta = meta_of(staged.group_context().extensions())?
            .ok_or_else(|| ConversationError::Refused("a Welcome without a meta".into()))?;
        if meta.mode != ConversationMode::NoTrace || !meta.pair {
            return Err(ConversationError::Refused("not a leave-no-trace chat".into()));
        }
        let members = staged
            .members()
            .map(|m| validate_member(&m.credential, &m.signature_key, now))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
        let is = |m: &DeviceCertificate, d: &DeviceCertificate| {
            m.peer_id() == d.peer_id() && m.account() == d.account()
        };
        let ok = members.len() == 2
            && members.iter().any(|m| is(m, expected))
            && members.iter().any(|m| is(m, &self.cert));
        if !ok {
            return Err(ConversationError::Refused("other members than the two devices".into()));
        }
        self.group = Some(staged.into_group(&self.provider).map_err(mls_err)?);
        Ok(())
    }

    /// The group's id, once there is a group.
    pub fn group_id(&self) -> Option<Vec<u8>> {
        self.group.as_ref().map(|g| g.group_id().as_slice().to_vec())
    }

    /// Encrypts an application message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let group = self.group.as_mut().ok_or(ConversationError::UnknownGroup)?;
        let out = group.create_message(&self.provider, &self.signer, plaintext).map_err(mls_err)?;
        out.tls_serialize_detached().map_err(mls_err)
    }

    /// Decrypts an application message from the other device.
    pub fn decrypt(&mut self, bytes: &[u8]) -> Result<Vec<u8>> {
        let group = self.group.as_mut().ok_or(ConversationError::UnknownGroup)?;
        let msg = MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let pm = msg
            .try_into_protocol_message()
            .map_err(|_| ConversationError::Malformed("not a group message".into()))?;
        let processed = group.process_message(&self.provider, pm).map_err(mls_err)?;
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => Ok(m.into_bytes()),
            _ => Err(ConversationError::Refused("only application messages here".into())),
        }
    }
}

/// Why a stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream closed or failed.
    #[error("the connection closed")]
    Closed,
    /// A frame longer than the limit, or not a `NoTraceFrame`.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

/// Writes one frame: its length (u32, big-endian), then its encoding.
pub async fn write_frame(
    stream: &mut (impl futures_util::AsyncWrite + Unpin),
    frame: &wire::NoTraceFrame,
) -> Result<(), FrameError> {
    let mut bytes = kovan_spec::encode(frame);
    let len = u32::try_from(bytes.len()).map_err(|_| FrameError::Malformed("too long".into()))?;
    let mut out = Vec::with_capacity(4 + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes);
    bytes.zeroize();
    let r = async {
        stream.write_all(&out).await?;
        stream.flush().await
    }
    .await;
    out.zeroize();
    r.map_err(|_| FrameError::Closed)
}

/// Reads one frame, refusing one longer than the limit before reading it.
pub async fn read_frame(
    stream: &mut (impl futures_util::AsyncRead + Unpin),
) -> Result<wire::NoTraceFrame, FrameError> {
    read_frame_max(stream, kovan_spec::limits::MAX_NOTRACE_FRAME).await
}

/// [`read_frame`] with a lower limit (an offer is a few dozen bytes).
pub async fn read_frame_max(
    stream: &mut (impl futures_util::AsyncRead + Unpin),
    max: usize,
) -> Result<wire::NoTraceFrame, FrameError> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await.map_err(|_| FrameError::Closed)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max.min(kovan_spec::limits::MAX_NOTRACE_FRAME) {
        return Err(FrameError::Malformed(format!("a frame of {len} bytes")));
    }
    let mut buf = vec![0u8; len];
    stream.read_exact(&mut buf).await.map_err(|_| FrameError::Closed)?;
    let frame = kovan_spec::decode::<wire::NoTraceFrame>(&buf)
        .map_err(|e| FrameError::Malformed(e.to_string()));
    buf.zeroize();
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_oversized_ones_are_refused() {
        let frame =
            wire::NoTraceFrame { body: Some(wire::no_trace_frame::Body::Message(vec![7; 1000])) };
        let mut buf = Vec::new();
        write_frame(&mut futures_util::io::Cursor::new(&mut buf), &frame).await.unwrap();
        let back = read_frame(&mut futures_util::io::Cursor::new(&buf)).await.unwrap();
        assert_eq!(back, frame);
        let mut huge = (kovan_spec::limits::MAX_NOTRACE_FRAME as u32 + 1).to_be_bytes().to_vec();
        huge.extend_from_slice(&[0; 16]);
        assert!(matches!(
            read_frame(&mut futures_util::io::Cursor::new(&huge)).await,
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            read_frame(&mut futures_util::io::Cursor::new(&buf[..10])).await,
            Err(FrameError::Closed)
        ));
    }
}
