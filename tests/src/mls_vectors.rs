//! Real MLS bytes for the spec's vectors (`spec/vectors/mls.json`), made
//! by openmls from fixed seeds: every random draw comes from one seeded
//! ChaCha20 stream, and HPKE encryption (whose ephemeral key openmls's
//! crypto provider draws for itself) is done here by RFC 9180's base mode
//! from that stream too, so the bytes are the same on every run. Times
//! (lifetimes) are fixed; the ones that openmls reads from the clock
//! (message secrets' ages) never reach the wire.

use std::sync::Mutex;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use hkdf::Hkdf;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::random::OpenMlsRand;
use openmls_traits::types::{
    AeadType, Ciphersuite, CryptoError, ExporterSecret, HashType, HpkeAeadType, HpkeCiphertext,
    HpkeConfig, HpkeKdfType, HpkeKemType, HpkeKeyPair, KemOutput, SignatureScheme,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore as _, SeedableRng as _};
use sha2::Sha256;
use tls_codec::SecretVLBytes;

/// openmls's crypto with a seeded random stream and deterministic HPKE.
#[derive(Debug)]
pub struct SeededCrypto {
    inner: RustCrypto,
    rng: Mutex<ChaCha20Rng>,
}

impl SeededCrypto {
    /// A stream from `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        Self { inner: RustCrypto::default(), rng: Mutex::new(ChaCha20Rng::from_seed(seed)) }
    }

    fn draw(&self, out: &mut [u8]) {
        if let Ok(mut rng) = self.rng.lock() {
            rng.fill_bytes(out);
        }
    }
}

/// Why a draw failed (it does not).
#[derive(Debug, thiserror::Error)]
#[error("no randomness")]
pub struct NoRandomness;

impl OpenMlsRand for SeededCrypto {
    type Error = NoRandomness;
    fn random_array<const N: usize>(&self) -> Result<[u8; N], NoRandomness> {
        let mut out = [0u8; N];
        self.draw(&mut out);
        Ok(out)
    }
    fn random_vec(&self, len: usize) -> Result<Vec<u8>, NoRandomness> {
        let mut out = vec![0u8; len];
        self.draw(&mut out);
        Ok(out)
    }
}

// RFC 9180, base mode, for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
// ChaCha20-Poly1305 (the suite of kovan's MLS ciphersuite 0x0003).
const KEM_ID: [u8; 2] = [0x00, 0x20];
const KDF_ID: [u8; 2] = [0x00, 0x01];
const AEAD_ID: [u8; 2] = [0x00, 0x03];

fn labeled_extract(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> Vec<u8> {
    let ikm = [b"HPKE-v1", suite, label, ikm].concat();
    Hkdf::<Sha256>::extract(Some(salt), &ikm).0.to_vec()
}

fn labeled_expand(suite: &[u8], prk: &[u8], label: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let info = [&(len as u16).to_be_bytes()[..], b"HPKE-v1", suite, label, info].concat();
    let mut out = vec![0u8; len];
    if let Ok(h) = Hkdf::<Sha256>::from_prk(prk) {
        let _ = h.expand(&info, &mut out);
    }
    out
}

fn hpke_base_seal(
    ephemeral: [u8; 32],
    pk_r: &[u8],
    info: &[u8],
    aad: &[u8],
    ptxt: &[u8],
) -> Result<HpkeCiphertext, CryptoError> {
    let pk_r: [u8; 32] = pk_r.try_into().map_err(|_| CryptoError::InvalidLength)?;
    let sk_e = x25519_dalek::StaticSecret::from(ephemeral);
    let enc = x25519_dalek::PublicKey::from(&sk_e).to_bytes();
    let dh = sk_e.diffie_hellman(&x25519_dalek::PublicKey::from(pk_r)).to_bytes();
    let kem_suite = [b"KEM".as_slice(), &KEM_ID].concat();
    let eae_prk = labeled_extract(&kem_suite, b"", b"eae_prk", &dh);
    let kem_context = [enc.as_slice(), &pk_r].concat();
    let shared = labeled_expand(&kem_suite, &eae_prk, b"shared_secret", &kem_context, 32);
    let suite = [b"HPKE".as_slice(), &KEM_ID, &KDF_ID, &AEAD_ID].concat();
    let psk_id_hash = labeled_extract(&suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&suite, b"", b"info_hash", info);
    let context = [&[0u8][..], &psk_id_hash, &info_hash].concat();
    let secret = labeled_extract(&suite, &shared, b"secret", b"");
    let key = labeled_expand(&suite, &secret, b"key", &context, 32);
    let nonce = labeled_expand(&suite, &secret, b"base_nonce", &context, 12);
    let ct = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key)
        .map_err(|_| CryptoError::CryptoLibraryError)?
        .encrypt(nonce.as_slice().into(), Payload { msg: ptxt, aad })
        .map_err(|_| CryptoError::CryptoLibraryError)?;
    Ok(HpkeCiphertext { kem_output: enc.to_vec().into(), ciphertext: ct.into() })
}

impl OpenMlsCrypto for SeededCrypto {
    fn supports(&self, c: Ciphersuite) -> Result<(), CryptoError> {
        self.inner.supports(c)
    }
    fn supported_ciphersuites(&self) -> Vec<Ciphersuite> {
        self.inner.supported_ciphersuites()
    }
    fn hkdf_extract(
        &self,
        h: HashType,
        salt: &[u8],
        ikm: &[u8],
    ) -> Result<SecretVLBytes, CryptoError> {
        self.inner.hkdf_extract(h, salt, ikm)
    }
    fn hmac(&self, h: HashType, key: &[u8], m: &[u8]) -> Result<SecretVLBytes, CryptoError> {
        self.inner.hmac(h, key, m)
    }
    fn hkdf_expand(
        &self,
        h: HashType,
        prk: &[u8],
        info: &[u8],
        n: usize,
    ) -> Result<SecretVLBytes, CryptoError> {
        self.inner.hkdf_expand(h, prk, info, n)
    }
    fn hash(&self, h: HashType, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.inner.hash(h, data)
    }
    fn aead_encrypt(
        &self,
        a: AeadType,
        k: &[u8],
        d: &[u8],
        n: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.inner.aead_encrypt(a, k, d, n, aad)
    }
    fn aead_decrypt(
        &self,
        a: AeadType,
        k: &[u8],
        c: &[u8],
        n: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.inner.aead_decrypt(a, k, c, n, aad)
    }
    fn signature_key_gen(&self, alg: SignatureScheme) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.inner.signature_key_gen(alg)
    }
    fn verify_signature(
        &self,
        alg: SignatureScheme,
        d: &[u8],
        pk: &[u8],
        s: &[u8],
    ) -> Result<(), CryptoError> {
        self.inner.verify_signature(alg, d, pk, s)
    }
    fn sign(&self, alg: SignatureScheme, d: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.inner.sign(alg, d, key)
    }
    fn hpke_seal(
        &self,
        config: HpkeConfig,
        pk_r: &[u8],
        info: &[u8],
        aad: &[u8],
        ptxt: &[u8],
    ) -> Result<HpkeCiphertext, CryptoError> {
        let HpkeConfig(
            HpkeKemType::DhKem25519,
            HpkeKdfType::HkdfSha256,
            HpkeAeadType::ChaCha20Poly1305,
        ) = config
        else {
            return Err(CryptoError::UnsupportedCiphersuite);
        };
        let mut eph = [0u8; 32];
        self.draw(&mut eph);
        hpke_base_seal(eph, pk_r, info, aad, ptxt)
    }
    fn hpke_open(
        &self,
        config: HpkeConfig,
        input: &HpkeCiphertext,
        sk_r: &[u8],
        info: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.inner.hpke_open(config, input, sk_r, info, aad)
    }
    fn hpke_setup_sender_and_export(
        &self,
        config: HpkeConfig,
        pk_r: &[u8],
        info: &[u8],
        ctx: &[u8],
        n: usize,
    ) -> Result<(KemOutput, ExporterSecret), CryptoError> {
        // External joins only; kovan has none (SPEC.md §2.5).
        self.inner.hpke_setup_sender_and_export(config, pk_r, info, ctx, n)
    }
    fn hpke_setup_receiver_and_export(
        &self,
        config: HpkeConfig,
        enc: &[u8],
        sk_r: &[u8],
        info: &[u8],
        ctx: &[u8],
        n: usize,
    ) -> Result<ExporterSecret, CryptoError> {
        self.inner.hpke_setup_receiver_and_export(config, enc, sk_r, info, ctx, n)
    }
    fn derive_hpke_keypair(
        &self,
        config: HpkeConfig,
        ikm: &[u8],
    ) -> Result<HpkeKeyPair, CryptoError> {
        self.inner.derive_hpke_keypair(config, ikm)
    }
}

/// A provider over [`SeededCrypto`] and in-memory storage.
#[derive(Debug)]
pub struct SeededProvider {
    crypto: SeededCrypto,
    storage: openmls_memory_storage::MemoryStorage,
}

impl SeededProvider {
    /// A provider whose randomness is the stream of `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        Self { crypto: SeededCrypto::new(seed), storage: Default::default() }
    }
}

impl OpenMlsProvider for SeededProvider {
    type CryptoProvider = SeededCrypto;
    type RandProvider = SeededCrypto;
    type StorageProvider = openmls_memory_storage::MemoryStorage;
    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }
    fn crypto(&self) -> &SeededCrypto {
        &self.crypto
    }
    fn rand(&self) -> &SeededCrypto {
        &self.crypto
    }
}

/// The KeyPackages' `not_before` in the MLS vectors (2026-12-01): their
/// lifetime runs 84 days from an hour before it, as kovan makes them.
pub const KEY_PACKAGE_NOT_BEFORE: u64 = 1_796_083_200;

/// When the vectors' KeyPackages expire. openmls refuses to add a
/// KeyPackage outside its lifetime at the current time, so from then on
/// the MLS vectors cannot be made again: [`file`] keeps the committed ones
/// (the tests go on checking them as they stand, at their `check_time`).
pub const KEY_PACKAGE_NOT_AFTER: u64 = KEY_PACKAGE_NOT_BEFORE + 84 * 86_400;

/// `spec/vectors/mls.json` at `now`: made afresh while the KeyPackages'
/// lifetime covers `now`; afterwards, `committed` (the file as it is).
pub fn file(
    i: Inputs<'_>,
    now: u64,
    committed: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<serde_json::Value> {
    if now + 3600 >= KEY_PACKAGE_NOT_AFTER {
        return Ok(serde_json::from_str(&committed()?)?);
    }
    generate(i)
}

/// The inputs the MLS vectors are made from: two devices' certificates and
/// MLS keys, and the plaintexts they carry.
pub struct Inputs<'a> {
    /// The group creator's (and committer's) certificate and MLS key.
    pub alice: (&'a kovan_crypto::identity::DeviceCertificate, ed25519_dalek::SigningKey),
    /// The joiner's.
    pub bob: (&'a kovan_crypto::identity::DeviceCertificate, ed25519_dalek::SigningKey),
    /// The application message's plaintext (an encoded `AppEnvelope`).
    pub app: Vec<u8>,
    /// The group's encoded `GroupMeta`.
    pub meta: Vec<u8>,
    /// KeyPackages' `not_before` (normally [`KEY_PACKAGE_NOT_BEFORE`]).
    pub not_before: u64,
}

fn ids(list: impl IntoIterator<Item = u16>) -> serde_json::Value {
    serde_json::Value::from(list.into_iter().collect::<Vec<_>>())
}

/// The body of a TLS variable-length vector (RFC 9420 §2.1.2: a 1, 2 or
/// 4-byte length prefix, its top two bits giving the size).
fn vl_body(b: &[u8]) -> &[u8] {
    let n = match b.first().map(|x| x >> 6) {
        Some(0) => 1,
        Some(1) => 2,
        _ => 4,
    };
    b.get(n..).unwrap_or_default()
}

/// The leaf's private encryption key, which openmls keeps in the bundle
/// (its accessor is test-only): read from the bundle's serde form.
fn encryption_private_key(bundle: &openmls::prelude::KeyPackageBundle) -> anyhow::Result<Vec<u8>> {
    let v = serde_json::to_value(bundle)?;
    let bytes = v["private_encryption_key"]["key"]["vec"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no private encryption key in the bundle"))?
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| anyhow::anyhow!("a private key byte out of range"))?;
    anyhow::ensure!(bytes.len() == 32, "a private key of {} bytes", bytes.len());
    Ok(bytes)
}

fn key_package_json(
    bundle: &openmls::prelude::KeyPackageBundle,
) -> anyhow::Result<serde_json::Value> {
    use openmls::prelude::tls_codec::Serialize as _;
    use openmls::prelude::*;
    let kp = bundle.key_package();
    let leaf = kp.leaf_node();
    let caps = leaf.capabilities();
    let cred = BasicCredential::try_from(leaf.credential().clone())?;
    let life = kp.life_time();
    let extensions: Vec<serde_json::Value> = kp
        .extensions()
        .iter()
        .map(|e| {
            let data = e.tls_serialize_detached().unwrap_or_default();
            serde_json::json!({ "extension_type": u16::from(e.extension_type()), "extension": hex::encode(data) })
        })
        .collect();
    Ok(serde_json::json!({
        "message": hex::encode(MlsMessageOut::from(kp.clone()).tls_serialize_detached()?),
        "init_private_key": hex::encode(&**bundle.init_private_key()),
        "encryption_private_key": hex::encode(encryption_private_key(bundle)?),
        "decoded": {
            "wire_format": 5,
            "version": 1,
            "cipher_suite": 3,
            "init_key": hex::encode(kp.hpke_init_key().as_slice()),
            "leaf_node": {
                "encryption_key": hex::encode(vl_body(&leaf.encryption_key().tls_serialize_detached()?)),
                "signature_key": hex::encode(leaf.signature_key().as_slice()),
                "credential": { "credential_type": 1, "identity": hex::encode(cred.identity()) },
                "capabilities": {
                    "versions": ids(caps.versions().iter().map(|v| match v {
                        ProtocolVersion::Mls10 => 1,
                        ProtocolVersion::Other(n) => *n,
                    })),
                    "cipher_suites": ids(caps.ciphersuites().iter().map(|c| c.value())),
                    "extensions": ids(caps.extensions().iter().map(|e| u16::from(*e))),
                    "proposals": ids(caps.proposals().iter().map(|p| u16::from(*p))),
                    "credentials": ids(caps.credentials().iter().map(|c| u16::from(*c))),
                },
                "leaf_node_source": "key_package",
                "lifetime": { "not_before": life.not_before(), "not_after": life.not_after() },
                "extensions": [],
            },
            "extensions": extensions,
            "last_resort": kp.last_resort(),
        },
    }))
}

/// `spec/vectors/mls.json`: a KeyPackage (and a last-resort one) with
/// kovan's credential, capabilities and lifetime; a 1:1 Welcome with its
/// ratchet tree; an application message; a self-update commit as a
/// PrivateMessage and one as a PublicMessage; a group Welcome whose context
/// carries the meta.
pub fn generate(i: Inputs<'_>) -> anyhow::Result<serde_json::Value> {
    use kovan_crypto::mls::{CIPHERSUITE, MlsSigner, credential_with_key};
    use openmls::prelude::tls_codec::Serialize as _;
    use openmls::prelude::*;
    let caps = || {
        Capabilities::builder()
            .extensions(vec![
                ExtensionType::LastResort,
                ExtensionType::Unknown(kovan_crypto::mls::META_EXTENSION),
            ])
            .build()
    };
    // 84 days and the hour of clock skew, as kovan makes them (§2.6).
    let lifetime = Lifetime::init(i.not_before - 3600, i.not_before + 84 * 86_400);
    let seed = |b: u8| {
        let mut s = [b; 32];
        s[0] = 0x4b;
        s
    };
    let bob_p = SeededProvider::new(seed(0x61));
    let alice_p = SeededProvider::new(seed(0x62));
    let bob_mls_seed = hex::encode(i.bob.1.to_bytes());
    let bob_signer = MlsSigner::new(i.bob.1);
    let alice_signer = MlsSigner::new(i.alice.1);
    let kp = |last_resort: bool| {
        let mut b =
            KeyPackage::builder().leaf_node_capabilities(caps()).key_package_lifetime(lifetime);
        if last_resort {
            b = b.mark_as_last_resort();
        }
        b.build(CIPHERSUITE, &bob_p, &bob_signer, credential_with_key(i.bob.0))
    };
    let bob_kp = kp(false)?;
    let bob_lr = kp(true)?;
    let bytes = |m: MlsMessageOut| m.tls_serialize_detached();

    // The 1:1 conversation (§7.4.2).
    let config = |ext: Option<Extensions<GroupContext>>| {
        let b = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .capabilities(caps())
            .lifetime(lifetime)
            .use_ratchet_tree_extension(true)
            .wire_format_policy(MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY);
        match ext {
            Some(e) => b.with_group_context_extensions(e).build(),
            None => b.build(),
        }
    };
    let alice_cred = credential_with_key(i.alice.0);
    let mut g = MlsGroup::new(&alice_p, &alice_signer, &config(None), alice_cred.clone())?;
    let (_, welcome, _) =
        g.add_members(&alice_p, &alice_signer, &[bob_kp.key_package().clone()])?;
    g.merge_pending_commit(&alice_p)?;
    let gid = g.group_id().as_slice().to_vec();
    let app = bytes(g.create_message(&alice_p, &alice_signer, &i.app)?)?;
    let commit = g.self_update(&alice_p, &alice_signer, LeafNodeParameters::default())?;
    g.merge_pending_commit(&alice_p)?;
    let commit = bytes(commit.into_commit())?;
    let plain = MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build();
    g.set_configuration(alice_p.storage(), &plain)?;
    let public = g.self_update(&alice_p, &alice_signer, LeafNodeParameters::default())?;
    g.merge_pending_commit(&alice_p)?;
    let public = bytes(public.into_commit())?;

    // A group (§7.6.1): the meta and the capability it requires.
    let required = Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
        &[ExtensionType::Unknown(kovan_crypto::mls::META_EXTENSION)],
        &[],
        &[],
    ));
    let meta_ext =
        Extension::Unknown(kovan_crypto::mls::META_EXTENSION, UnknownExtension(i.meta.clone()));
    let required_bytes = required.tls_serialize_detached()?;
    let ext = Extensions::from_vec(vec![required, meta_ext])?;
    let mut gg = MlsGroup::new(&alice_p, &alice_signer, &config(Some(ext)), alice_cred)?;
    let (_, group_welcome, _) =
        gg.add_members(&alice_p, &alice_signer, &[bob_lr.key_package().clone()])?;
    gg.merge_pending_commit(&alice_p)?;
    let ggid = gg.group_id().as_slice().to_vec();

    let members = [hex::encode(i.alice.0.encoded()), hex::encode(i.bob.0.encoded())];
    Ok(serde_json::json!({
        "description": "SPEC.md §2.5, §2.6, §7.4.2, §7.6.1: real MLS messages (RFC 9420 MLSMessage encodings, hex) made by openmls from fixed seeds. Alice's device creates the groups and sends; Bob's device joins. To check them, import Bob's KeyPackage with its two private keys (and his MLS signature key, from `bob_mls_seed`), join each Welcome at `check_time` (Unix seconds; certificates and lifetimes are valid then), then process `application`, `commit` and `commit_public` in that order in the 1:1 group. wire_format: 1 PublicMessage, 2 PrivateMessage, 3 Welcome, 5 KeyPackage; content_type: 1 application, 3 commit; extension types: 3 required_capabilities, 10 last_resort, 61632 (0xF0C0) the group meta.",
        "check_time": i.not_before + 1000,
        "alice_certificate": hex::encode(i.alice.0.encoded()),
        "bob_certificate": hex::encode(i.bob.0.encoded()),
        "bob_mls_seed": bob_mls_seed,
        "key_package": key_package_json(&bob_kp)?,
        "key_package_last_resort": key_package_json(&bob_lr)?,
        "welcome_1to1": {
            "message": hex::encode(bytes(welcome)?),
            "key_package": "key_package",
            "decoded": {
                "wire_format": 3,
                "cipher_suite": 3,
                "group_id": hex::encode(&gid),
                "epoch": 1,
                "members": members,
                "group_context_extensions": [],
                "ratchet_tree_extension": true,
            },
        },
        "application": {
            "message": hex::encode(app),
            "decoded": {
                "wire_format": 2,
                "group_id": hex::encode(&gid),
                "epoch": 1,
                "content_type": 1,
                "sender_leaf": 0,
                "plaintext": hex::encode(&i.app),
            },
        },
        "commit": {
            "message": hex::encode(commit),
            "decoded": { "wire_format": 2, "group_id": hex::encode(&gid), "epoch": 1, "content_type": 3, "sender_leaf": 0, "new_epoch": 2 },
        },
        "commit_public": {
            "message": hex::encode(public),
            "decoded": { "wire_format": 1, "group_id": hex::encode(&gid), "epoch": 2, "content_type": 3, "sender_leaf": 0, "new_epoch": 3 },
        },
        "welcome_group": {
            "message": hex::encode(bytes(group_welcome)?),
            "key_package": "key_package_last_resort",
            "decoded": {
                "wire_format": 3,
                "cipher_suite": 3,
                "group_id": hex::encode(&ggid),
                "epoch": 1,
                "members": members,
                "group_context_extensions": [
                    { "extension_type": 3, "extension": hex::encode(required_bytes) },
                    { "extension_type": kovan_crypto::mls::META_EXTENSION, "extension_data": hex::encode(&i.meta) },
                ],
                "ratchet_tree_extension": true,
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_the_key_packages_expired_the_committed_vectors_are_kept() {
        use ed25519_dalek::SigningKey;
        let key = SigningKey::from_bytes(&[1; 32]);
        let account = kovan_crypto::identity::AccountKey::from_seed(&[2; 32]);
        let keys = kovan_crypto::identity::DeviceKeys::generate(&mut rand_core::OsRng);
        let cert = account.certify(&keys.public(), "", 1_790_000_000, 3600).unwrap();
        let inputs = || Inputs {
            alice: (&cert, key.clone()),
            bob: (&cert, key.clone()),
            app: Vec::new(),
            meta: Vec::new(),
            not_before: KEY_PACKAGE_NOT_BEFORE,
        };
        let kept = file(inputs(), KEY_PACKAGE_NOT_AFTER, || Ok("{\"kept\": true}".into())).unwrap();
        assert_eq!(kept, serde_json::json!({"kept": true}));
    }

    #[test]
    fn base_mode_seal_opens_with_openmls_hpke() {
        let crypto = RustCrypto::default();
        let config = || {
            HpkeConfig(
                HpkeKemType::DhKem25519,
                HpkeKdfType::HkdfSha256,
                HpkeAeadType::ChaCha20Poly1305,
            )
        };
        let kp = crypto.derive_hpke_keypair(config(), &[7; 32]).unwrap();
        let sealed = hpke_base_seal([9; 32], &kp.public, b"info", b"aad", b"hello").unwrap();
        let opened = crypto.hpke_open(config(), &sealed, &kp.private, b"info", b"aad").unwrap();
        assert_eq!(opened, b"hello");
    }
}
