//! Polls (SPEC.md §6.4) and conditional messages (§6.10) as shown.

use super::*;

/// An area a message opens in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    /// Centre, degrees.
    pub lat: f64,
    /// Centre, degrees.
    pub lon: f64,
    /// Metres, 10..=100,000.
    pub radius_m: u32,
}

/// The conditions of a message to send.
#[derive(Debug, Clone, Default)]
pub struct Locks {
    /// Opens with this password.
    pub password: Option<String>,
    /// Opens inside this area (checked by the recipient's client only).
    pub area: Option<Area>,
    /// Opens once enough of these members agree.
    pub agree: Option<Agree>,
    /// Opens once enough of these relays release their shares.
    pub relays: Option<Trustees>,
    /// Shown while sealed.
    pub hint: String,
}

/// Relays that keep a message's key part until its time (SPEC.md §6.10.6).
#[derive(Debug, Clone, Default)]
pub struct Trustees {
    /// Their base URLs: 1..=8 distinct relays.
    pub relays: Vec<String>,
    /// How many of them must release: 1..=relays.
    pub threshold: u8,
    /// Not before this time (ms since the Unix epoch).
    pub release_at_ms: Option<i64>,
    /// ... and/or once the sender has been silent this long (ms).
    pub silence_ms: Option<u64>,
}

/// Members who must agree before a message opens (SPEC.md §6.10.3).
#[derive(Debug, Clone, Default)]
pub struct Agree {
    /// Members of the group, as names, @handles or account ids: 2..=16.
    pub holders: Vec<String>,
    /// How many of them: 2..=holders.
    pub threshold: u8,
    /// Their nodes release by themselves, not before this time (ms since
    /// the Unix epoch) (SPEC.md §6.10.4).
    pub release_at_ms: Option<i64>,
    /// Their nodes release by themselves once the sender has been silent
    /// this long (ms): a dead man's switch.
    pub silence_ms: Option<u64>,
}

/// A members lock as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersView {
    /// How many must agree.
    pub threshold: u8,
    /// Who holds a share, in the sender's order.
    pub holders: Vec<HolderView>,
    /// How many released a share that matches the sender's commitment.
    pub released: usize,
    /// This account holds a share of it.
    pub mine: bool,
    /// This account released its share.
    pub agreed: bool,
    /// Holders' nodes release by themselves not before this time (ms).
    pub release_at_ms: Option<i64>,
    /// ... and/or once the sender has been silent this long (ms).
    pub silence_ms: Option<u64>,
    /// When, as this device sees it, the holders' nodes release (the later
    /// of the two; it moves with each check-in).
    pub due_at: Option<i64>,
}

/// The relays a message's key part waits with (SPEC.md §6.10.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelaysView {
    /// How many must release.
    pub threshold: u8,
    /// Their base URLs, in the sender's order.
    pub relays: Vec<String>,
    /// How many released a share that matches its commitment (here).
    pub released: usize,
    /// Not before this time (ms).
    pub release_at_ms: Option<i64>,
    /// ... and/or once the sender has been silent this long (ms).
    pub silence_ms: Option<u64>,
    /// When this device asks the relays next (ms), while it waits.
    pub next_ask_at: Option<i64>,
    /// `waiting`, `released` (enough shares here), `cancelled` (too many
    /// relays say the sender cancelled), `failed` (given up), or `sent`
    /// (this device sent it: it asks nobody).
    pub state: String,
}

/// A holder of a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderView {
    /// Account id (hex).
    pub account: String,
    /// As this device knows them.
    pub name: String,
    /// Agreed: its share arrived and matches.
    pub released: bool,
}

/// What a conditional message waits for, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionalView {
    /// `password`, `area`, `members`, `relays`, in the sender's order.
    pub waits_for: Vec<&'static str>,
    /// The area, if it has one.
    pub area: Option<Area>,
    /// The members who must agree, if it waits for them.
    pub members: Option<MembersView>,
    /// The relays that keep its key part, if it waits for them.
    pub relays: Option<RelaysView>,
    /// The sender's hint.
    pub hint: String,
    /// Opened on this device: `text` holds it.
    pub opened: bool,
    /// A conditional file (SPEC.md §6.10.5), if the message holds one.
    pub file: Option<ConditionalFileView>,
}

/// A conditional message's file (SPEC.md §6.10.5): what it is is known only
/// once the message opened here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionalFileView {
    /// The transfer carrying its sealed bytes (`files`, `fetch_file`).
    pub transfer: String,
    /// The sealed bytes' size (all anyone learns before it opens).
    pub sealed_size: u64,
    /// The transfer's state (`offered`, `downloading`, `complete`, …).
    pub transfer_state: String,
    /// `sealed` (the message has not opened here), `waiting` (opened; its
    /// bytes are still coming), `opening`, `open` (at `path`), `failed`.
    pub state: String,
    /// Once opened: its name, type and size.
    pub name: Option<String>,
    /// Media type.
    pub mime: Option<String>,
    /// Bytes.
    pub size: Option<u64>,
    /// Where the opened file is on this device.
    pub path: Option<String>,
    /// Why it did not open.
    pub error: Option<String>,
}

impl Serialize for Area {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({ "lat": self.lat, "lon": self.lon, "radius_m": self.radius_m })
            .serialize(s)
    }
}

// Coordinates come from whole 10^-7 degrees, never NaN: equality is total.
impl Eq for ConditionalView {}

impl ConditionalView {
    pub(crate) fn of(c: &kovan_spec::validate::ConditionalSpec) -> Self {
        let mut area = None;
        let mut members = None;
        let mut relays = None;
        let waits_for = c
            .locks
            .iter()
            .map(|l| match l {
                kovan_spec::validate::Lock::Password { .. } => "password",
                kovan_spec::validate::Lock::Area { centre, radius_m, .. } => {
                    area = Some(Area {
                        lat: f64::from(centre.lat_e7) / 1e7,
                        lon: f64::from(centre.lon_e7) / 1e7,
                        radius_m: *radius_m,
                    });
                    "area"
                }
                kovan_spec::validate::Lock::Members { threshold, holders, release } => {
                    members = Some(MembersView {
                        threshold: *threshold,
                        holders: holders
                            .iter()
                            .map(|h| HolderView {
                                account: hex::encode(h.account),
                                name: hex::encode(&h.account[..4]),
                                released: false,
                            })
                            .collect(),
                        released: 0,
                        mine: false,
                        agreed: false,
                        release_at_ms: release.at_ms.map(|t| t as i64),
                        silence_ms: release.silence_ms,
                        due_at: None,
                    });
                    "members"
                }
                kovan_spec::validate::Lock::Relays { threshold, trustees, release } => {
                    relays = Some(RelaysView {
                        threshold: *threshold,
                        relays: trustees.iter().map(|t| t.relay.clone()).collect(),
                        released: 0,
                        release_at_ms: release.at_ms.map(|t| t as i64),
                        silence_ms: release.silence_ms,
                        next_ask_at: None,
                        state: "waiting".into(),
                    });
                    "relays"
                }
            })
            .collect();
        let file = c.file.as_ref().map(|f| ConditionalFileView {
            transfer: hex::encode(f.file_id),
            sealed_size: f.size,
            transfer_state: String::new(),
            state: "sealed".into(),
            name: None,
            mime: None,
            size: None,
            path: None,
            error: None,
        });
        Self { waits_for, area, members, relays, hint: c.hint.clone(), opened: false, file }
    }
}

/// A poll as it stands (SPEC.md §6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollView {
    /// The question (also the message's `text`).
    pub question: String,
    /// Several choices allowed.
    pub multiple: bool,
    /// The options with their votes.
    pub options: Vec<PollOptionView>,
    /// Accounts that voted.
    pub voters: usize,
    /// This account's choices.
    pub mine: Vec<u32>,
    /// Closed by its creator: the tally is final.
    pub closed: bool,
    /// A verifiable poll's audit (SPEC.md §6.4.1); None for a plain poll.
    pub verifiable: Option<PollCheckView>,
}

/// What this device checked of a verifiable poll (SPEC.md §6.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollCheckView {
    /// Every check this device can make holds: each counted ballot is
    /// signed by an eligible member, and (once closed) the close counts
    /// every valid ballot this device received, unchanged.
    pub verified: bool,
    /// Whether the voter list matched this device's MLS group in the
    /// poll's epoch: `checked`, `unchecked` (the poll arrived after the
    /// group changed) or `failed`.
    pub eligibility: &'static str,
    /// How many members may vote.
    pub eligible: usize,
    /// Whether this account may vote.
    pub can_vote: bool,
    /// Ballots are sealed until the close, then revealed (SPEC.md
    /// §6.4.3): the tally shows only revealed choices.
    pub sealed: bool,
    /// Counted sealed ballots whose reveal has not come (after the close).
    pub not_revealed: usize,
    /// What the audit found, by account (in an anonymous poll, a
    /// ballot's findings are by its key image).
    pub findings: Vec<PollFindingView>,
    /// An anonymous poll's state (SPEC.md §6.4.2); None otherwise.
    pub anonymous: Option<AnonymousPollView>,
}

/// Where an anonymous poll stands (SPEC.md §6.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnonymousPollView {
    /// Voters whose ballot key this device has seen registered.
    pub registered: usize,
    /// The ring's size once the creator published it: voting is open.
    pub ring: Option<usize>,
    /// Ring members (other than its creator and this account) who have not
    /// yet said they hold the same ring as this device: the creator could
    /// show voters different rings and learn who cast a ballot, so a vote
    /// is safest once this is 0.
    pub unconfirmed: usize,
    /// This account's key is in the ring.
    pub in_ring: bool,
    /// This account has voted (from this device, or another of its own
    /// whose ballot this device holds).
    pub voted: bool,
}

/// One finding of a poll's audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollFindingView {
    /// The account it is about, hex; in an anonymous poll, a ballot's key
    /// image (its voter's link tag in the poll) for a ballot's finding.
    pub account: String,
    /// `bad_signature`, `not_eligible`, `unfit`, `double_vote` (a voter
    /// caught, not counted), or `dropped`, `altered`, `bad_close` (the
    /// creator's close does not hold), `bad_ring`, `left_out` (an
    /// anonymous poll's ring does not hold), `not_received` (its close
    /// counts a ballot this device never received).
    pub finding: &'static str,
}

/// One option of a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollOptionView {
    /// The option's text.
    pub text: String,
    /// Accounts that chose it.
    pub votes: usize,
    /// Who chose it (account keys, hex): votes are visible to members.
    pub by: Vec<String>,
}
