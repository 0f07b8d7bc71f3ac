//! A model of group members over an unreliable network, for the
//! `interaction` fuzz target and its regression tests (in the style of
//! libsignal's interaction fuzzing).
//!
//! Two or three parties are real devices: their own keys, their own
//! `Conversations` on their own SQLite files, one MLS group. The network is
//! one inbox per party. A script of [`Action`]s sends, delivers, delays
//! (moves to the back: reordering, and a loss that the sender's outbox
//! retries), duplicates, tampers with (delivers an altered copy), restarts a
//! party from its files, and has one party refresh its keys (a commit).
//! Messages for an epoch a party has not reached are parked and tried
//! again after its next commit, as the node does (SPEC.md §7.6.5).
//!
//! After the script every inbox is drained, and [`run`] checks what a user
//! relies on: every message sent was decrypted by every other party exactly
//! once and read what was sent; no altered copy ever decrypted; every party
//! ends at the same epoch with the same members. The script is bounded
//! ([`MAX_ACTIONS`]), so memory is too.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use kovan_crypto::identity::{AccountKey, DeviceCertificate, DeviceKeys};
use kovan_crypto::mls::MlsSigner;
use kovan_spec::ValidatedGroupMeta;
use rand_core::OsRng;

use crate::conversation::{Conversations, Incoming};
use crate::groups::Intent;
use crate::identity::now_secs;
use crate::store::Database;

pub mod inbound;

/// Longest script.
pub const MAX_ACTIONS: usize = 64;

/// One step of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The party sends an application message to the group.
    Send(usize),
    /// The party takes the first message of its inbox.
    Deliver(usize),
    /// The first message of the party's inbox goes to the back.
    Delay(usize),
    /// The first message of the party's inbox arrives twice.
    Duplicate(usize),
    /// The party receives an altered copy of its first message: byte
    /// `at` (modulo the length) XOR `mask` (never 0).
    Tamper(usize, u16, u8),
    /// The party's device restarts: its state is read back from its files.
    Restart(usize),
    /// The committing party refreshes its keys (a self-update commit).
    Commit,
}

/// Reads a script from fuzzer bytes: one action per two or four bytes.
pub fn script(data: &[u8], parties: usize) -> Vec<Action> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < data.len() && out.len() < MAX_ACTIONS {
        let (op, p) = (data[i], usize::from(data[i + 1]) % parties.max(1));
        i += 2;
        out.push(match op % 8 {
            0 | 1 => Action::Send(p),
            2 | 3 => Action::Deliver(p),
            4 => Action::Delay(p),
            5 => Action::Duplicate(p),
            6 => {
                let at = data.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
                i += 2;
                Action::Tamper(p, at, (op >> 3) | 1)
            }
            _ if op & 0x80 != 0 => Action::Commit,
            _ => Action::Restart(p),
        });
    }
    out
}

/// A broken promise, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Violation(pub String);

/// What a run did (for tests that want to see the script had effect).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Application messages sent.
    pub sent: usize,
    /// Decryptions in all (sent × other parties when all is well).
    pub delivered: usize,
    /// Commits applied by someone.
    pub commits: usize,
    /// Altered copies refused.
    pub refused: usize,
    /// The final epoch.
    pub epoch: u64,
}

#[derive(Clone)]
struct Packet {
    bytes: Vec<u8>,
    altered: bool,
}

struct Party {
    path: PathBuf,
    keys: DeviceKeys,
    cert: DeviceCertificate,
    db: Database,
    mls: Conversations,
    inbox: VecDeque<Packet>,
    parked: Vec<Packet>,
    /// Payloads decrypted, with how often.
    got: HashMap<Vec<u8>, usize>,
}

fn v(e: impl std::fmt::Display) -> Violation {
    Violation(e.to_string())
}

impl Party {
    fn new(dir: &Path, i: usize) -> Result<Self, Violation> {
        let account = AccountKey::generate(&mut OsRng);
        let keys = DeviceKeys::generate(&mut OsRng);
        let cert = account
            .certify(&keys.public(), &format!("p{i}"), now_secs() - 60, 86_400)
            .map_err(v)?;
        let path = dir.join(format!("p{i}.sqlite3"));
        let db = Database::open(&path).map_err(v)?;
        let mls =
            Conversations::new(&db, MlsSigner::new(keys.mls.clone()), cert.clone()).map_err(v)?;
        Ok(Self {
            path,
            keys: keys.clone(),
            cert,
            db,
            mls,
            inbox: VecDeque::new(),
            parked: Vec::new(),
            got: HashMap::new(),
        })
    }

    fn restart(&mut self) -> Result<(), Violation> {
        // Only what is in the files survives.
        self.db = Database::open(&self.path).map_err(v)?;
        let signer = MlsSigner::new(self.keys.mls.clone());
        self.mls = Conversations::new(&self.db, signer, self.cert.clone()).map_err(v)?;
        Ok(())
    }
}

struct World {
    parties: Vec<Party>,
    group: Vec<u8>,
    committer: usize,
    own_commits: usize,
    sent: Vec<(usize, Vec<u8>)>,
    report: Report,
}

impl World {
    fn broadcast(&mut self, from: usize, bytes: &[u8]) {
        for (i, p) in self.parties.iter_mut().enumerate() {
            if i != from {
                p.inbox.push_back(Packet { bytes: bytes.to_vec(), altered: false });
            }
        }
    }

    /// Processes one packet at party `i`; returns whether it is parked.
    fn receive(&mut self, i: usize, pkt: Packet) -> Result<bool, Violation> {
        let p = &mut self.parties[i];
        let r = p.mls.receive(&p.db, &pkt.bytes, now_secs());
        match r {
            Ok(Incoming::Application { plaintext, sender, .. }) => {
                if pkt.altered {
                    return Err(Violation(format!("party {i}: an altered message decrypted")));
                }
                let expected = self.sent.iter().any(|(from, m)| {
                    *m == plaintext && self.parties[*from].cert.peer_id() == sender.peer_id()
                });
                if !expected {
                    return Err(Violation(format!("party {i}: decrypted something nobody sent")));
                }
                let p = &mut self.parties[i];
                let n = p.got.entry(plaintext).or_default();
                *n += 1;
                if *n > 1 {
                    return Err(Violation(format!("party {i}: a message decrypted twice")));
                }
                self.report.delivered += 1;
                Ok(false)
            }
            Ok(Incoming::Commit { rollback, .. }) => {
                if pkt.altered {
                    return Err(Violation(format!("party {i}: an altered commit applied")));
                }
                if rollback.is_some() {
                    return Err(Violation(format!("party {i}: a rollback with one committer")));
                }
                self.report.commits += 1;
                // Parked messages get another chance after a commit.
                let parked = std::mem::take(&mut self.parties[i].parked);
                for pkt in parked {
                    if self.receive(i, pkt.clone())? {
                        self.parties[i].parked.push(pkt);
                    }
                }
                Ok(false)
            }
            Ok(Incoming::Park { .. }) => Ok(true),
            Ok(Incoming::Duplicate) => Ok(false),
            Ok(Incoming::Leave { .. }) => Err(Violation(format!("party {i}: a leave nobody sent"))),
            Err(_) if pkt.altered => {
                self.report.refused += 1;
                Ok(false)
            }
            Err(e) => Err(Violation(format!("party {i}: a genuine message failed: {e}"))),
        }
    }

    fn deliver(&mut self, i: usize) -> Result<(), Violation> {
        if let Some(pkt) = self.parties[i].inbox.pop_front()
            && self.receive(i, pkt.clone())?
        {
            self.parties[i].parked.push(pkt);
        }
        Ok(())
    }

    fn step(&mut self, a: Action) -> Result<(), Violation> {
        match a {
            Action::Send(i) => {
                let payload = format!("p{i} message {}", self.sent.len()).into_bytes();
                let p = &self.parties[i];
                let bytes = p.mls.encrypt(&self.group, &payload).map_err(v)?;
                self.sent.push((i, payload));
                self.report.sent += 1;
                self.broadcast(i, &bytes);
            }
            Action::Deliver(i) => self.deliver(i)?,
            Action::Delay(i) => {
                let inbox = &mut self.parties[i].inbox;
                if let Some(pkt) = inbox.pop_front() {
                    inbox.push_back(pkt);
                }
            }
            Action::Duplicate(i) => {
                let inbox = &mut self.parties[i].inbox;
                if let Some(pkt) = inbox.front().cloned() {
                    inbox.push_back(pkt);
                }
            }
            Action::Tamper(i, at, mask) => {
                if let Some(mut pkt) = self.parties[i].inbox.front().cloned() {
                    let n = pkt.bytes.len();
                    if n > 0 {
                        pkt.bytes[usize::from(at) % n] ^= mask.max(1);
                        pkt.altered = true;
                        if self.receive(i, pkt.clone())? {
                            self.parties[i].parked.push(pkt);
                        }
                    }
                }
            }
            Action::Restart(i) => self.parties[i].restart()?,
            Action::Commit if self.own_commits >= crate::conversation::PAST_EPOCHS => {
                // A message delayed across more commits than the past
                // epochs kept is undecryptable by design (forward secrecy):
                // scripts stay within what the protocol promises.
            }
            Action::Commit => {
                // One committer: it has applied every commit of the group
                // (its own), so its refresh is always for the latest epoch.
                self.own_commits += 1;
                let c = self.committer;
                let p = &self.parties[c];
                let done =
                    p.mls.commit(&p.db, &self.group, &Intent::Update, now_secs()).map_err(v)?;
                if let Some(done) = done {
                    self.report.commits += 1;
                    self.broadcast(c, &done.commit);
                }
            }
        }
        Ok(())
    }
}

/// Runs `actions` among `parties` (2 or 3) devices whose files go in `dir`
/// (`seed` picks the party that commits); then drains every inbox and
/// checks the promises.
pub fn run(dir: &Path, parties: usize, seed: u64, actions: &[Action]) -> Result<Report, Violation> {
    let n = parties.clamp(2, 3);
    let mut list = Vec::with_capacity(n);
    for i in 0..n {
        list.push(Party::new(dir, i)?);
    }
    // Party 0 creates the group and adds the others, who join.
    let meta = ValidatedGroupMeta {
        name: "sim".into(),
        admins: vec![*list[0].cert.account().as_bytes()],
        ..Default::default()
    };
    let group = list[0].mls.create_group(&meta).map_err(v)?;
    for i in 1..n {
        let kp = list[i].mls.key_package(false).map_err(v)?;
        let (db, mls) = (&list[0].db, &list[0].mls);
        let add = Intent::Add { key_package: kp, invitation_id: [i as u8; 16] };
        let done =
            mls.commit(db, &group, &add, now_secs()).map_err(v)?.ok_or_else(|| v("no add"))?;
        for p in list.iter().take(i).skip(1) {
            p.mls.receive(&p.db, &done.commit, now_secs()).map_err(v)?;
        }
        let welcome = done.welcome.ok_or_else(|| v("no welcome"))?;
        list[i].mls.join_group(&list[i].db, &welcome, &group, now_secs()).map_err(v)?;
    }
    let committer = (seed as usize) % n;
    let mut w = World {
        parties: list,
        group,
        committer,
        own_commits: 0,
        sent: Vec::new(),
        report: Report::default(),
    };
    for a in actions.iter().take(MAX_ACTIONS) {
        w.step(*a)?;
    }
    // The network settles: everything still in flight arrives.
    for i in 0..n {
        while !w.parties[i].inbox.is_empty() {
            w.deliver(i)?;
        }
        let left = w.parties[i].parked.iter().filter(|p| !p.altered).count();
        if left > 0 {
            return Err(Violation(format!("party {i}: {left} genuine messages stayed parked")));
        }
    }
    let state = |p: &Party| p.mls.group_state(&w.group, now_secs()).map_err(v);
    let first = state(&w.parties[0])?;
    for (i, p) in w.parties.iter().enumerate() {
        let s = state(p)?;
        let ids = |g: &crate::conversation::GroupState| {
            g.members.iter().map(|c| c.peer_id().to_string()).collect::<Vec<_>>()
        };
        if s.epoch != first.epoch || ids(&s) != ids(&first) {
            return Err(Violation(format!(
                "party {i} ends at epoch {} with {:?}; party 0 at {} with {:?}",
                s.epoch,
                ids(&s),
                first.epoch,
                ids(&first)
            )));
        }
        for (from, m) in &w.sent {
            if *from != i && p.got.get(m).copied().unwrap_or(0) != 1 {
                return Err(Violation(format!(
                    "party {i} did not get {:?} exactly once",
                    String::from_utf8_lossy(m)
                )));
            }
        }
    }
    w.report.epoch = first.epoch;
    Ok(w.report)
}
