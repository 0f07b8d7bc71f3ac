//! Invite links (A5, SPEC.md §7.4.1): a link a user shares so that someone
//! can send them a friend request even when their policy is "link" (only
//! requests through one of their links reach them). A link names the
//! account it is for (so the requester checks that the relay or the peer
//! it reaches is that account) and carries a random token; the owner keeps
//! each link with its label, limits and use count, and can revoke it.
//!
//! ```text
//! kovan:add?u=<username>&k=<account key, hex>&t=<token, hex>
//! kovan:add?a=<multiaddr ending in /p2p/<PeerId>>&k=<…>&t=<…>
//! ```

use kovan_crypto::storage::FieldKey;
use rand_core::{OsRng, RngCore};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::Result;
use crate::store::Database;

/// The scheme and path every invite link starts with.
pub const LINK_PREFIX: &str = "kovan:add?";
/// The longest link accepted (a username or a multiaddr, two hex keys).
pub const MAX_LINK: usize = 1024;
/// The longest label a user gives a link.
pub const MAX_LABEL: usize = 64;

/// A parsed invite link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteLink {
    /// The owner's relay username, if the link names one.
    pub username: Option<String>,
    /// An address of the owner's device ending in `/p2p/<PeerId>`, if the
    /// link names one (LAN or a public address, no relay).
    pub addr: Option<String>,
    /// The owner's account key.
    pub account: [u8; 32],
    /// The token to put in the friend request.
    pub token: [u8; 16],
}

impl InviteLink {
    /// Parses a link; `None` when `s` is not an invite link at all, an
    /// error when it is one but malformed.
    pub fn parse(s: &str) -> Option<std::result::Result<Self, String>> {
        let query = s.trim().strip_prefix(LINK_PREFIX)?;
        Some(Self::parse_query(query, s.len()))
    }

    fn parse_query(query: &str, len: usize) -> std::result::Result<Self, String> {
        if len > MAX_LINK {
            return Err("the invite link is too long".into());
        }
        let (mut username, mut addr, mut account, mut token) = (None, None, None, None);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').ok_or("the invite link is malformed")?;
            let slot = match key {
                "u" => &mut username,
                "a" => &mut addr,
                "k" => &mut account,
                "t" => &mut token,
                _ => continue,
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(format!("the invite link names {key:?} twice"));
            }
        }
        let hex_of = |v: Option<String>, what: &str| {
            v.and_then(|v| hex::decode(v).ok())
                .ok_or_else(|| format!("the invite link's {what} is missing or not hex"))
        };
        let account = hex_of(account, "account key")?
            .try_into()
            .map_err(|_| "the invite link's account key is not 32 bytes".to_owned())?;
        let token = hex_of(token, "token")?
            .try_into()
            .map_err(|_| "the invite link's token is not 16 bytes".to_owned())?;
        if username.is_none() && addr.is_none() {
            return Err("the invite link names neither a username nor an address".into());
        }
        Ok(Self { username, addr, account, token })
    }
}

impl std::fmt::Display for InviteLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(LINK_PREFIX)?;
        match (&self.username, &self.addr) {
            (Some(u), _) => write!(f, "u={u}&")?,
            (None, Some(a)) => write!(f, "a={a}&")?,
            (None, None) => {}
        }
        write!(f, "k={}&t={}", hex::encode(self.account), hex::encode(self.token))
    }
}

/// An invite as its owner keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRow {
    /// Its id (shown, used to revoke it).
    pub id: [u8; 16],
    /// The token the link carries.
    pub token: [u8; 16],
    /// What the user called it.
    pub label: String,
    /// When it was made (ms).
    pub created_at: i64,
    /// When it stops working (ms), if ever.
    pub expires_at: Option<i64>,
    /// How many requests it admits in all, if limited.
    pub max_uses: Option<u32>,
    /// How many requests came through it.
    pub used: u32,
    /// Revoked by the user.
    pub revoked: bool,
}

impl InviteRow {
    /// Whether a request carrying it is admitted at `now`.
    pub fn live(&self, now: i64) -> bool {
        !self.revoked
            && self.expires_at.is_none_or(|e| now < e)
            && self.max_uses.is_none_or(|m| self.used < m)
    }
}

/// The invites this device made, in its database. The token and label are
/// sealed; rows are found by the token's SHA-256.
pub struct Invites<'a> {
    db: &'a Database,
    key: &'a FieldKey,
}

fn context(id: &[u8; 16], what: &str) -> Vec<u8> {
    let mut c = format!("invites/{what}/").into_bytes();
    c.extend_from_slice(id);
    c
}

const COLUMNS: &str = "id, token, label, created_at, expires_at, max_uses, used, revoked";

impl<'a> Invites<'a> {
    /// Invites in `db`, sealed with `key`.
    pub fn new(db: &'a Database, key: &'a FieldKey) -> Self {
        Self { db, key }
    }

    /// Makes a new invite.
    pub fn create(
        &self,
        label: &str,
        now: i64,
        expires_at: Option<i64>,
        max_uses: Option<u32>,
    ) -> Result<InviteRow> {
        let mut id = [0u8; 16];
        let mut token = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        OsRng.fill_bytes(&mut token);
        let row = InviteRow {
            id,
            token,
            label: label.to_owned(),
            created_at: now,
            expires_at,
            max_uses,
            used: 0,
            revoked: false,
        };
        let tag: [u8; 32] = Sha256::digest(token).into();
        self.db.conn().execute(
            "INSERT INTO invites (id, token_hash, token, label, created_at, expires_at, \
             max_uses, used, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0)",
            params![
                id.as_slice(),
                tag.as_slice(),
                self.key.seal(&mut OsRng, &context(&id, "token"), &token),
                self.key.seal(&mut OsRng, &context(&id, "label"), label.as_bytes()),
                now,
                expires_at,
                max_uses,
            ],
        )?;
        Ok(row)
    }

    fn row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<InviteRow> {
        let id: [u8; 16] = r.get::<_, Vec<u8>>(0)?.try_into().unwrap_or_default();
        let open = |col: usize, what: &str| -> rusqlite::Result<Vec<u8>> {
            let sealed: Vec<u8> = r.get(col)?;
            Ok(self.key.open(&context(&id, what), &sealed).map(|p| p.to_vec()).unwrap_or_default())
        };
        Ok(InviteRow {
            id,
            token: open(1, "token")?.try_into().unwrap_or_default(),
            label: String::from_utf8_lossy(&open(2, "label")?).into_owned(),
            created_at: r.get(3)?,
            expires_at: r.get(4)?,
            max_uses: r.get(5)?,
            used: r.get(6)?,
            revoked: r.get::<_, i64>(7)? != 0,
        })
    }

    /// Every invite, newest first.
    pub fn list(&self) -> Result<Vec<InviteRow>> {
        let mut stmt = self
            .db
            .conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM invites ORDER BY created_at DESC"))?;
        let rows = stmt.query_map([], |r| self.row(r))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// An invite by id.
    pub fn get(&self, id: &[u8; 16]) -> Result<Option<InviteRow>> {
        Ok(self
            .db
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM invites WHERE id = ?1"),
                params![id.as_slice()],
                |r| self.row(r),
            )
            .optional()?)
    }

    /// The invite a token belongs to.
    pub fn by_token(&self, token: &[u8; 16]) -> Result<Option<InviteRow>> {
        let tag: [u8; 32] = Sha256::digest(token).into();
        let row = self
            .db
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM invites WHERE token_hash = ?1"),
                params![tag.as_slice()],
                |r| self.row(r),
            )
            .optional()?;
        // The hash found it; the sealed token must agree (a row whose
        // token does not open is not trusted).
        Ok(row.filter(|r| &r.token == token))
    }

    /// Counts one request admitted through `id`.
    pub fn use_one(&self, id: &[u8; 16]) -> Result<()> {
        self.db
            .conn()
            .execute("UPDATE invites SET used = used + 1 WHERE id = ?1", params![id.as_slice()])?;
        Ok(())
    }

    /// Revokes an invite; false if there is none with that id.
    pub fn revoke(&self, id: &[u8; 16]) -> Result<bool> {
        let n = self
            .db
            .conn()
            .execute("UPDATE invites SET revoked = 1 WHERE id = ?1", params![id.as_slice()])?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_and_bad_ones_say_why() {
        let link = InviteLink {
            username: Some("ayse".into()),
            addr: None,
            account: [0xab; 32],
            token: [0x01; 16],
        };
        let s = link.to_string();
        assert_eq!(s, format!("kovan:add?u=ayse&k={}&t={}", "ab".repeat(32), "01".repeat(16)));
        assert_eq!(InviteLink::parse(&s), Some(Ok(link)));
        let by_addr = format!(
            "kovan:add?a=/ip4/192.0.2.1/tcp/4001/p2p/12D3KooW&k={}&t={}",
            "00".repeat(32),
            "ff".repeat(16)
        );
        let parsed = InviteLink::parse(&by_addr).unwrap().unwrap();
        assert_eq!(parsed.addr.as_deref(), Some("/ip4/192.0.2.1/tcp/4001/p2p/12D3KooW"));
        assert_eq!(InviteLink::parse("alice"), None, "a username is not a link");
        for bad in [
            "kovan:add?u=ayse&t=0101",
            "kovan:add?u=ayse&k=zz&t=0101",
            &format!("kovan:add?k={}&t={}", "00".repeat(32), "01".repeat(16)),
            &format!("kovan:add?u=a&u=b&k={}&t={}", "00".repeat(32), "01".repeat(16)),
            &format!("kovan:add?u=a&k={}&t={}", "00".repeat(31), "01".repeat(16)),
            &format!(
                "kovan:add?u={}&k={}&t={}",
                "a".repeat(2000),
                "00".repeat(32),
                "01".repeat(16)
            ),
        ] {
            assert!(matches!(InviteLink::parse(bad), Some(Err(_))), "{bad}");
        }
    }

    #[test]
    fn an_invite_admits_within_its_limits_until_revoked() {
        let row = InviteRow {
            id: [1; 16],
            token: [2; 16],
            label: String::new(),
            created_at: 0,
            expires_at: Some(1000),
            max_uses: Some(2),
            used: 1,
            revoked: false,
        };
        assert!(row.live(999));
        assert!(!row.live(1000), "expired");
        assert!(!InviteRow { used: 2, ..row.clone() }.live(0), "used up");
        assert!(!InviteRow { revoked: true, ..row.clone() }.live(0), "revoked");
        assert!(InviteRow { expires_at: None, max_uses: None, used: 50, ..row }.live(i64::MAX));
    }
}
