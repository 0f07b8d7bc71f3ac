//! The device identity on disk: creating it, unlocking it, changing its
//! passphrase. The keystore format is [`kovan_crypto::keystore`]; this module
//! does the file I/O, always replacing the file atomically and durably.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use kovan_crypto::identity::{
    AccountKey, DEFAULT_CERTIFICATE_LIFETIME, DeviceCertificate, DeviceKeys,
};
use kovan_crypto::keystore::{self, KdfParams, KeystoreContents};
use kovan_crypto::mls::MlsSigner;
use kovan_crypto::safety::SafetyNumber;
use rand_core::OsRng;
use tracing::info;

use crate::home::Home;
use crate::{Error, Result};

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Writes `bytes` to `path` so that a crash at any moment leaves either the
/// old file or the new one, never a mix: write a temporary file in the same
/// directory (mode 0600), fsync it, rename it over `path`, fsync the
/// directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir =
        path.parent().ok_or_else(|| Error::Invalid(format!("{} has no parent", path.display())))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let mut rnd = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut rnd);
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(rnd)));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(Error::io(format!("creating {}", tmp.display())))?;
        f.write_all(bytes).map_err(Error::io(format!("writing {}", tmp.display())))?;
        f.sync_all().map_err(Error::io(format!("syncing {}", tmp.display())))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(Error::io(format!("replacing {}", path.display())))?;
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(format!("syncing {}", dir.display())))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// An unlocked identity: the account (if this device holds it), the device
/// keys and certificate.
#[derive(Debug, Clone)]
pub struct Identity {
    contents: KeystoreContents,
}

impl Identity {
    /// Creates a new account and device in `home`, sealed under
    /// `passphrase`. Fails if `home` already has an identity.
    pub fn create(home: &Home, passphrase: &[u8], device_name: &str) -> Result<Self> {
        Self::create_with_params(home, passphrase, device_name, KdfParams::default())
    }

    /// As [`Identity::create`] with explicit KDF parameters (at least the
    /// RFC 9106 memory-constrained profile).
    pub fn create_with_params(
        home: &Home,
        passphrase: &[u8],
        device_name: &str,
        params: KdfParams,
    ) -> Result<Self> {
        Self::create_at(home, passphrase, device_name, params, now_secs())
    }

    /// As [`Identity::create_with_params`] on a device whose clock reads
    /// `now` (its certificate starts then): for tests of clock skew.
    pub fn create_at(
        home: &Home,
        passphrase: &[u8],
        device_name: &str,
        params: KdfParams,
        now: u64,
    ) -> Result<Self> {
        if passphrase.is_empty() {
            return Err(Error::Invalid("the passphrase must not be empty".into()));
        }
        home.ensure()?;
        let path = home.keystore();
        if path.exists() {
            return Err(Error::AlreadyExists(path));
        }
        let account = AccountKey::generate(&mut OsRng);
        let device = DeviceKeys::generate(&mut OsRng);
        let certificate = account
            .certify(&device.public(), device_name, now, DEFAULT_CERTIFICATE_LIFETIME)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let storage = kovan_crypto::storage::StorageKey::generate(&mut OsRng);
        let contents = KeystoreContents { account: Some(account), device, certificate, storage };
        let bytes = keystore::seal(&contents, passphrase, params, &mut OsRng)?;
        write_atomic(&path, &bytes)?;
        let id = Self { contents };
        info!(account = %id.account().short(), peer = %id.peer_id(), "identity created");
        Ok(id)
    }

    /// Unlocks the identity in `home`.
    pub fn unlock(home: &Home, passphrase: &[u8]) -> Result<Self> {
        let path = home.keystore();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoIdentity(home.root().to_path_buf()));
            }
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let contents = keystore::open(&bytes, passphrase)?;
        Ok(Self { contents })
    }

    /// Re-seals the keystore under a new passphrase (atomic replace: a crash
    /// leaves the old passphrase working).
    pub fn change_passphrase(&self, home: &Home, new_passphrase: &[u8]) -> Result<()> {
        if new_passphrase.is_empty() {
            return Err(Error::Invalid("the passphrase must not be empty".into()));
        }
        let bytes =
            keystore::seal(&self.contents, new_passphrase, KdfParams::default(), &mut OsRng)?;
        write_atomic(&home.keystore(), &bytes)
    }

    /// The account's public identity.
    pub fn account(&self) -> kovan_crypto::identity::AccountId {
        *self.contents.certificate.account()
    }
    /// Whether this device holds the account key.
    pub fn holds_account_key(&self) -> bool {
        self.contents.account.is_some()
    }
    /// The device certificate.
    pub fn certificate(&self) -> &DeviceCertificate {
        &self.contents.certificate
    }
    /// The key of the database's encrypted fields.
    pub fn storage_key(&self) -> &kovan_crypto::storage::StorageKey {
        &self.contents.storage
    }
    /// The device keys.
    pub fn device_keys(&self) -> &DeviceKeys {
        &self.contents.device
    }
    /// The device's libp2p PeerId.
    pub fn peer_id(&self) -> String {
        self.contents.certificate.peer_id().to_string()
    }
    /// The openmls signer for this device.
    pub fn mls_signer(&self) -> MlsSigner {
        MlsSigner::new(self.contents.device.mls.clone())
    }
    /// The account key's proof for registering `username` on the relay
    /// whose PeerId is `relay_peer_id` (SPEC.md §9.2). None on a device
    /// that does not hold the account key.
    pub fn registration_signature(&self, username: &str, relay_peer_id: &str) -> Option<[u8; 64]> {
        let account = self.contents.account.as_ref()?;
        let data = kovan_crypto::identity::registration_data(
            username,
            account.id().as_bytes(),
            &self.contents.certificate,
            relay_peer_id,
        );
        Some(account.sign(kovan_crypto::context::SigContext::AccountRegistration, &data))
    }

    /// Signs a community action (SPEC.md §9.10) with the account key:
    /// its `tbs` and signature. Refused on a device without the account key
    /// and for an action the spec refuses.
    pub fn sign_community_action(
        &self,
        action: &kovan_spec::wire::CommunityAction,
    ) -> std::result::Result<(Vec<u8>, [u8; 64]), String> {
        let account = self.contents.account.as_ref().ok_or_else(|| {
            "this device does not hold the account key, so it cannot write to communities"
                .to_owned()
        })?;
        let (tbs, sig, _) =
            kovan_crypto::community::sign_action(account, action).map_err(|e| e.to_string())?;
        Ok((tbs, sig))
    }

    /// Signs a request to a relay that keeps shares (SPEC.md §6.10.6) with
    /// the account key, for this account: its encoding and signature.
    /// Refused on a device without the account key.
    pub fn sign_trustee_request(
        &self,
        created_ms: u64,
        body: kovan_spec::wire::trustee_request::Body,
    ) -> std::result::Result<(Vec<u8>, [u8; 64]), String> {
        let account = self.contents.account.as_ref().ok_or_else(|| {
            "this device does not hold the account key, so it cannot leave shares with relays"
                .to_owned()
        })?;
        let request = kovan_spec::wire::TrusteeRequest {
            owner: account.id().as_bytes().to_vec(),
            created_ms,
            body: Some(body),
        };
        kovan_crypto::trustee::sign_request(account, &request).map_err(|e| e.to_string())
    }

    /// Signs a ballot of a verifiable poll (SPEC.md §6.4.1) with the
    /// account key; None on a device without it.
    pub fn sign_ballot(
        &self,
        poll: &[u8; 16],
        binding: &[u8; 32],
        choices: &[u32],
    ) -> Option<[u8; 64]> {
        let account = self.contents.account.as_ref()?;
        Some(kovan_crypto::poll::sign_ballot(account, poll, binding, choices))
    }

    /// This account's ballot key for an anonymous poll (SPEC.md §6.4.2),
    /// with the account's signature registering it; `None` on a device
    /// without the account key.
    pub fn ballot_key(
        &self,
        poll: &[u8; 16],
        binding: &[u8; 32],
    ) -> Option<(kovan_crypto::ring_ballot::BallotSecret, [u8; 32], [u8; 64])> {
        use kovan_crypto::ring_ballot::{ballot_key, sign_registration};
        let account = self.contents.account.as_ref()?;
        let (secret, key) = ballot_key(account, poll, binding);
        let signature = sign_registration(account, poll, binding, &key);
        Some((secret, key, signature))
    }

    /// Seals a ballot of a sealed poll (SPEC.md §6.4.3) with the account
    /// key: its commitment under `opening`, signed. `None` on a device
    /// without the account key.
    pub fn sign_sealed_ballot(
        &self,
        poll: &[u8; 16],
        binding: &[u8; 32],
        opening: &[u8; 32],
        choices: &[u32],
    ) -> Option<kovan_spec::validate::SignedBallot> {
        let account = self.contents.account.as_ref()?;
        Some(kovan_crypto::poll::sign_sealed_ballot(account, poll, binding, opening, choices))
    }

    /// Authors a spreading message (SPEC.md §6.11) with the account key:
    /// hop 1, for the author's own recipients. Refused on a device without
    /// the account key and for text or hops out of bounds.
    pub fn author_spread(
        &self,
        text: &str,
        hop_limit: u8,
        created_ms: u64,
    ) -> std::result::Result<kovan_spec::wire::Spread, String> {
        let account = self.contents.account.as_ref().ok_or_else(|| {
            "this device does not hold the account key, so it cannot start spreading messages"
                .to_owned()
        })?;
        kovan_crypto::spread::author(&mut OsRng, account, text, hop_limit, created_ms)
            .map_err(|e| e.to_string())
    }

    /// Signs the retraction of this account's spreading message; None on a
    /// device without the account key.
    pub fn retract_spread(
        &self,
        id: &[u8; 16],
        retracted_ms: u64,
    ) -> Option<kovan_spec::wire::SpreadRetract> {
        let account = self.contents.account.as_ref()?;
        Some(kovan_crypto::spread::retract(account, id, retracted_ms))
    }

    /// The safety number with another account.
    pub fn safety_number(&self, other: &kovan_crypto::identity::AccountId) -> SafetyNumber {
        SafetyNumber::new(&self.account(), other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn create_unlock_and_change_passphrase() {
        let _busy = crate::REAL_TIME.blocking_lock();
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("h"));
        let id = Identity::create(&home, b"first", "test").unwrap();
        assert!(matches!(
            Identity::create(&home, b"first", "test").unwrap_err(),
            Error::AlreadyExists(_)
        ));
        let again = Identity::unlock(&home, b"first").unwrap();
        assert_eq!(again.account(), id.account());
        assert_eq!(again.peer_id(), id.peer_id());

        id.change_passphrase(&home, b"second").unwrap();
        assert_eq!(
            Identity::unlock(&home, b"first").unwrap_err().kind(),
            ErrorKind::WrongPassphrase
        );
        assert_eq!(Identity::unlock(&home, b"second").unwrap().account(), id.account());
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(home.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![crate::home::KEYSTORE_FILE.to_string()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.keystore()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "keystore readable by others: {mode:o}");
        }
    }

    #[test]
    fn missing_identity_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let err = Identity::unlock(&Home::at(dir.path()), b"x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoIdentity);
    }
}
