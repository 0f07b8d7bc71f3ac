//! Identities (SPEC.md §2): signature contexts, device certificates and
//! PeerIds, from the spec's text.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use prost::Message as _;
use rand_core::OsRng;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::{Result, ensure, wire};

/// §2.1: the label of device certificates.
pub const DEVICE_CERTIFICATE: &str = "kovan/v1/device-certificate";
/// §2.1: the label of sealed-sender signatures.
pub const SEALED_SENDER: &str = "kovan/v1/sealed-sender";
/// §2.1: the label of the relay registration proof.
pub const ACCOUNT_REGISTRATION: &str = "kovan/v1/account-registration";
/// §2.1/§9.2: a device's proof of its p2p key to a relay.
pub const RELAY_DEVICE: &str = "kovan/v1/relay-device";

/// §2.1: `"kovan-sig" || 0x00 || len(label) || label || data`.
pub fn signing_input(label: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"kovan-sig\0".to_vec();
    v.push(label.len() as u8);
    v.extend_from_slice(label.as_bytes());
    v.extend_from_slice(data);
    v
}

/// Signs `data` under `label`.
pub fn sign(key: &SigningKey, label: &str, data: &[u8]) -> [u8; 64] {
    key.sign(&signing_input(label, data)).to_bytes()
}

/// Verifies strictly (§2.1).
pub fn verify(key: &[u8], label: &str, data: &[u8], sig: &[u8]) -> bool {
    let (Ok(k), Ok(s)) = (<[u8; 32]>::try_from(key), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&k) else { return false };
    vk.verify_strict(&signing_input(label, data), &Signature::from_bytes(&s)).is_ok()
}

/// §2.4: the PeerId bytes of a p2p key: `00 24 08 01 12 20 || key`.
pub fn peer_id_bytes(p2p_key: &[u8; 32]) -> Vec<u8> {
    let mut v = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    v.extend_from_slice(p2p_key);
    v
}

/// §2.4: the PeerId string: base58btc of the bytes.
pub fn peer_id_string(p2p_key: &[u8; 32]) -> String {
    bs58::encode(peer_id_bytes(p2p_key)).into_string()
}

/// A verified device certificate (§2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The encoded `Signed`, as sent.
    pub bytes: Vec<u8>,
    /// Its decoded statement.
    pub tbs: wire::DeviceCertificateTbs,
}

impl Certificate {
    /// The account key.
    pub fn account(&self) -> [u8; 32] {
        key32(&self.tbs.account_key)
    }
    /// The device's p2p key.
    pub fn p2p(&self) -> [u8; 32] {
        key32(&self.tbs.p2p_key)
    }
    /// The device's MLS key.
    pub fn mls(&self) -> [u8; 32] {
        key32(&self.tbs.mls_key)
    }
    /// The device's envelope key.
    pub fn envelope(&self) -> [u8; 32] {
        key32(&self.tbs.envelope_key)
    }
    /// The device's PeerId string.
    pub fn peer_id(&self) -> String {
        peer_id_string(&self.p2p())
    }
    /// SHA-256 of the encoded certificate.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(&self.bytes).into()
    }
}

fn key32(b: &[u8]) -> [u8; 32] {
    <[u8; 32]>::try_from(b).unwrap_or([0; 32])
}

/// §2.3: verifies a certificate at `now`, with every check in the spec's
/// order.
pub fn verify_certificate(bytes: &[u8], now: u64) -> Result<Certificate> {
    ensure(bytes.len() <= 64 * 1024, "certificate: Signed over its limit")?;
    let signed = wire::Signed::decode(bytes)?;
    ensure(signed.tbs.len() <= 1024, "certificate: tbs over its limit")?;
    let tbs = wire::DeviceCertificateTbs::decode(signed.tbs.as_slice())?;
    ensure(tbs.version == 1, "certificate: version")?;
    let keys = [&tbs.account_key, &tbs.p2p_key, &tbs.mls_key, &tbs.signing_key];
    for k in keys.iter().chain([&&tbs.envelope_key]) {
        ensure(k.len() == 32, "certificate: a key is not 32 bytes")?;
    }
    for k in keys {
        ensure(VerifyingKey::from_bytes(&key32(k)).is_ok(), "certificate: not a point")?;
    }
    for i in 0..keys.len() {
        for j in i + 1..keys.len() {
            ensure(keys[i] != keys[j], "certificate: two keys are equal")?;
        }
    }
    ensure(tbs.not_before <= tbs.not_after, "certificate: validity")?;
    ensure(tbs.device_name.len() <= 64, "certificate: device name")?;
    ensure(
        verify(&tbs.account_key, DEVICE_CERTIFICATE, &signed.tbs, &signed.signature),
        "certificate: signature",
    )?;
    ensure(
        tbs.not_before.saturating_sub(86_400) <= now && now <= tbs.not_after,
        "certificate: not valid now",
    )?;
    Ok(Certificate { bytes: bytes.to_vec(), tbs })
}

/// A device's secrets and its certificate (§2.2).
pub struct Device {
    /// The account key (this client's devices hold it).
    pub account: SigningKey,
    /// The p2p key (its PeerId names the device).
    pub p2p: SigningKey,
    /// The MLS signature key.
    pub mls: SigningKey,
    /// The kovan signing key.
    pub signing: SigningKey,
    /// The envelope key.
    pub envelope: StaticSecret,
    /// Its certificate.
    pub cert: Certificate,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("peer_id", &self.cert.peer_id()).finish()
    }
}

impl Device {
    /// A new account with one device, certified from `now` for two years.
    pub fn generate(name: &str, now: u64) -> Result<Self> {
        let account = SigningKey::generate(&mut OsRng);
        let p2p = SigningKey::generate(&mut OsRng);
        let mls = SigningKey::generate(&mut OsRng);
        let signing = SigningKey::generate(&mut OsRng);
        let envelope = StaticSecret::random_from_rng(OsRng);
        let tbs = wire::DeviceCertificateTbs {
            version: 1,
            account_key: account.verifying_key().to_bytes().to_vec(),
            p2p_key: p2p.verifying_key().to_bytes().to_vec(),
            mls_key: mls.verifying_key().to_bytes().to_vec(),
            signing_key: signing.verifying_key().to_bytes().to_vec(),
            envelope_key: PublicKey::from(&envelope).to_bytes().to_vec(),
            not_before: now,
            not_after: now + 2 * 365 * 86_400,
            device_name: name.into(),
        };
        let tbs_bytes = tbs.encode_to_vec();
        let signature = sign(&account, DEVICE_CERTIFICATE, &tbs_bytes).to_vec();
        let bytes = wire::Signed { tbs: tbs_bytes, signature }.encode_to_vec();
        let cert = verify_certificate(&bytes, now)?;
        Ok(Self { account, p2p, mls, signing, envelope, cert })
    }

    /// A device from its five 32-byte secrets (account, p2p, mls, signing,
    /// envelope) and its encoded certificate, checked at `now`: as the
    /// vectors give them.
    pub fn from_secrets(secrets: [[u8; 32]; 5], certificate: &[u8], now: u64) -> Result<Self> {
        let [account, p2p, mls, signing, envelope] = secrets;
        let d = Self {
            account: SigningKey::from_bytes(&account),
            p2p: SigningKey::from_bytes(&p2p),
            mls: SigningKey::from_bytes(&mls),
            signing: SigningKey::from_bytes(&signing),
            envelope: StaticSecret::from(envelope),
            cert: verify_certificate(certificate, now)?,
        };
        ensure(
            d.cert.tbs.mls_key == d.mls.verifying_key().to_bytes()
                && d.cert.tbs.envelope_key == PublicKey::from(&d.envelope).to_bytes(),
            "the certificate is not these keys'",
        )?;
        Ok(d)
    }

    /// §9.2: the registration proof's signed data for `username` (lower
    /// case) on the relay whose PeerId string is `relay_peer_id`.
    pub fn registration_data(&self, username: &str, relay_peer_id: &str) -> Vec<u8> {
        let mut d = vec![username.len() as u8];
        d.extend_from_slice(username.as_bytes());
        d.extend_from_slice(&self.cert.account());
        d.extend_from_slice(&self.cert.digest());
        d.extend_from_slice(relay_peer_id.as_bytes());
        d
    }
}
