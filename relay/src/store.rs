//! The relay's queries, while they move into their services (see [`crate::db`]).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Backend, SqlStore, StoreError, StoreResult, is_unique_violation};

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// Internal id.
    pub id: i64,
    /// Lower-case username.
    pub username: String,
    /// Ed25519 account key.
    pub account_key: Vec<u8>,
    /// PHC password hash.
    pub password_hash: String,
    /// Settings.
    pub settings: Settings,
    /// Creation time, Unix ms.
    pub created_at: i64,
}

/// Account settings (A5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Shown name.
    pub display_name: String,
    /// About text.
    pub about: String,
    /// Found by directory search.
    pub discoverable: bool,
    /// Who may send friend requests: `everyone`, `nobody` or `link`.
    pub friend_policy: String,
    /// Default for read receipts.
    pub read_receipts: bool,
    /// MIME type of the avatar, if one is set.
    pub avatar_type: Option<String>,
}

/// A device of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// libp2p PeerId (string form): the mailbox address.
    pub peer_id: String,
    /// Owner.
    pub account_id: i64,
    /// Encoded device certificate.
    pub certificate: Vec<u8>,
    /// The certified MLS key (to check uploaded key packages).
    pub mls_key: Vec<u8>,
}

/// A claimed key package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The KeyPackage (an encoded MLSMessage).
    pub key_package: Vec<u8>,
    /// Whether it is the device's last-resort package (not consumed).
    pub last_resort: bool,
    /// Ordinary packages left for the device.
    pub remaining: i64,
}

fn account_from(r: &AnyRow) -> Result<AccountRow, sqlx::Error> {
    Ok(AccountRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        account_key: r.try_get("account_key")?,
        password_hash: r.try_get("password_hash")?,
        settings: Settings {
            display_name: r.try_get("display_name")?,
            about: r.try_get("about")?,
            discoverable: r.try_get::<i64, _>("discoverable")? != 0,
            friend_policy: r.try_get("friend_policy")?,
            read_receipts: r.try_get::<i64, _>("read_receipts")? != 0,
            avatar_type: r.try_get("avatar_type")?,
        },
        created_at: r.try_get("created_at")?,
    })
}

fn device_from(r: &AnyRow) -> Result<DeviceRow, sqlx::Error> {
    Ok(DeviceRow {
        peer_id: r.try_get("peer_id")?,
        account_id: r.try_get("account_id")?,
        certificate: r.try_get("certificate")?,
        mls_key: r.try_get("mls_key")?,
    })
}

macro_rules! account_columns {
    () => {
        "id, username, account_key, password_hash, display_name, about, \
         discoverable, friend_policy, read_receipts, avatar_type, created_at"
    };
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl SqlStore {
    // ----- accounts -----

    /// Creates an account with its first device. Exactly one of two
    /// concurrent registrations of a name succeeds.
    pub async fn create_account(
        &self,
        username: &str,
        account_key: &[u8],
        password_hash: &str,
        device: &DeviceRow,
        now: i64,
    ) -> StoreResult<i64> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let id: i64 = match sqlx::query(
            "INSERT INTO accounts (username, account_key, password_hash, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(username)
        .bind(account_key)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("account")),
            Err(e) => return Err(e.into()),
        };
        match sqlx::query(
            "INSERT INTO devices (peer_id, account_id, certificate, mls_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&device.peer_id)
        .bind(id)
        .bind(&device.certificate)
        .bind(&device.mls_key)
        .bind(now)
        .execute(&mut *tx)
        .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("device")),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The account with this (lower-case) username.
    pub async fn account_by_username(&self, username: &str) -> StoreResult<Option<AccountRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account_from).transpose()?)
    }

    /// The account with this id.
    pub async fn account_by_id(&self, id: i64) -> StoreResult<Option<AccountRow>> {
        let row =
            sqlx::query(concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(account_from).transpose()?)
    }

    /// Replaces the settings (not the avatar).
    pub async fn update_settings(&self, id: i64, s: &Settings) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query(
            "UPDATE accounts SET display_name = $1, about = $2, discoverable = $3, \
             friend_policy = $4, read_receipts = $5 WHERE id = $6",
        )
        .bind(&s.display_name)
        .bind(&s.about)
        .bind(i64::from(s.discoverable))
        .bind(&s.friend_policy)
        .bind(i64::from(s.read_receipts))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets or clears the avatar.
    pub async fn set_avatar(&self, id: i64, avatar: Option<(&[u8], &str)>) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        let (bytes, ty) = match avatar {
            Some((b, t)) => (Some(b.to_vec()), Some(t.to_owned())),
            None => (None, None),
        };
        sqlx::query("UPDATE accounts SET avatar = $1, avatar_type = $2 WHERE id = $3")
            .bind(bytes)
            .bind(ty)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The avatar of a username.
    pub async fn avatar(&self, username: &str) -> StoreResult<Option<(Vec<u8>, String)>> {
        let row = sqlx::query("SELECT avatar, avatar_type FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Option<Vec<u8>> = row.try_get("avatar")?;
        let ty: Option<String> = row.try_get("avatar_type")?;
        Ok(bytes.zip(ty))
    }

    /// Replaces the password hash.
    pub async fn set_password(&self, id: i64, hash: &str) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes an account with its devices, sessions, key packages and
    /// mailboxes. Returns the deleted devices' peer ids.
    pub async fn delete_account(&self, id: i64) -> StoreResult<Vec<String>> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let peers: Vec<String> = sqlx::query("SELECT peer_id FROM devices WHERE account_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("peer_id"))
            .collect::<Result<_, _>>()?;
        for sql in [
            "DELETE FROM mailbox WHERE device_peer_id IN (SELECT peer_id FROM devices WHERE account_id = $1)",
            "DELETE FROM key_packages WHERE device_peer_id IN (SELECT peer_id FROM devices WHERE account_id = $1)",
            "DELETE FROM sessions WHERE account_id = $1",
            "DELETE FROM devices WHERE account_id = $1",
            "DELETE FROM accounts WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(peers)
    }

    // ----- devices -----

    /// Adds a device to an account.
    pub async fn add_device(&self, device: &DeviceRow, now: i64) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        match sqlx::query(
            "INSERT INTO devices (peer_id, account_id, certificate, mls_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&device.peer_id)
        .bind(device.account_id)
        .bind(&device.certificate)
        .bind(&device.mls_key)
        .bind(now)
        .execute(&self.pool)
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("device")),
            Err(e) => Err(e.into()),
        }
    }

    /// A device by PeerId.
    pub async fn device(&self, peer_id: &str) -> StoreResult<Option<DeviceRow>> {
        let row = sqlx::query(
            "SELECT peer_id, account_id, certificate, mls_key FROM devices WHERE peer_id = $1",
        )
        .bind(peer_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(device_from).transpose()?)
    }

    /// An account's devices, oldest first.
    pub async fn devices_of(&self, account_id: i64) -> StoreResult<Vec<DeviceRow>> {
        let rows = sqlx::query(
            "SELECT peer_id, account_id, certificate, mls_key FROM devices \
             WHERE account_id = $1 ORDER BY created_at, peer_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(device_from).collect::<Result<_, _>>()?)
    }

    // ----- directory -----

    /// Discoverable accounts whose username starts with `query` or whose
    /// display name contains it (case-insensitive), by username.
    pub async fn search(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<AccountRow>> {
        let q = like_escape(&query.to_lowercase());
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE discoverable = 1 AND \
             (username LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\') \
             ORDER BY username LIMIT $3 OFFSET $4"
        ))
        .bind(format!("{q}%"))
        .bind(format!("%{q}%"))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(account_from).collect::<Result<_, _>>()?)
    }

    // ----- key packages -----

    /// Stores key packages for a device (each `(bytes, last_resort)`). A new
    /// last-resort package replaces the old one. Refuses to go over `max`.
    pub async fn add_key_packages(
        &self,
        peer_id: &str,
        packages: &[(Vec<u8>, bool)],
        max: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        // Lock the device row first so concurrent uploads serialise.
        let locked = sqlx::query("UPDATE devices SET mailbox_seq = mailbox_seq WHERE peer_id = $1")
            .bind(peer_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if locked == 0 {
            return Err(StoreError::NotFound("device"));
        }
        if packages.iter().any(|(_, lr)| *lr) {
            sqlx::query("DELETE FROM key_packages WHERE device_peer_id = $1 AND last_resort = 1")
                .bind(peer_id)
                .execute(&mut *tx)
                .await?;
        }
        let have: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM key_packages WHERE device_peer_id = $1 AND last_resort = 0",
        )
        .bind(peer_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let adding = packages.iter().filter(|(_, lr)| !*lr).count() as i64;
        if have + adding > max {
            return Err(StoreError::Quota(format!(
                "a device may hold {max} key packages; it has {have}"
            )));
        }
        for (kp, lr) in packages {
            sqlx::query(
                "INSERT INTO key_packages (device_peer_id, key_package, last_resort, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(peer_id)
            .bind(kp)
            .bind(i64::from(*lr))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(have + adding)
    }

    /// Ordinary key packages a device has left, and whether it has a last-resort one.
    pub async fn key_package_count(&self, peer_id: &str) -> StoreResult<(i64, bool)> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(1 - last_resort), 0) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(last_resort), 0) AS BIGINT) AS lr \
             FROM key_packages WHERE device_peer_id = $1",
        )
        .bind(peer_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get::<i64, _>("lr")? > 0))
    }

    /// Claims a key package of a device: an ordinary one (consumed) if any
    /// is left, else the last-resort one (kept).
    pub async fn claim_key_package(&self, peer_id: &str) -> StoreResult<Option<Claimed>> {
        let _writer = self.write_guard().await;
        // On PostgreSQL concurrent claims skip rows another claim has
        // locked, so they never race for the same package (without it, a
        // claim that lost the race had to retry, and under many concurrent
        // claims could run out of retries). SQLite serialises writers.
        let take = match self.backend {
            Backend::Postgres => concat!(
                "DELETE FROM key_packages WHERE id = (SELECT id FROM key_packages ",
                "WHERE device_peer_id = $1 AND last_resort = 0 ORDER BY id LIMIT 1 ",
                "FOR UPDATE SKIP LOCKED) RETURNING key_package"
            ),
            Backend::Sqlite => concat!(
                "DELETE FROM key_packages WHERE id = (SELECT id FROM key_packages ",
                "WHERE device_peer_id = $1 AND last_resort = 0 ORDER BY id LIMIT 1) ",
                "RETURNING key_package"
            ),
        };
        for _ in 0..16 {
            let mut tx = self.pool.begin().await?;
            let taken = sqlx::query(take).bind(peer_id).fetch_optional(&mut *tx).await?;
            if let Some(row) = taken {
                let remaining: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM key_packages WHERE device_peer_id = $1 AND last_resort = 0",
                )
                .bind(peer_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
                tx.commit().await?;
                return Ok(Some(Claimed {
                    key_package: row.try_get("key_package")?,
                    last_resort: false,
                    remaining,
                }));
            }
            // Either none are left, or a concurrent claim took the one we
            // saw (PostgreSQL): check before falling back to last resort.
            let left: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM key_packages WHERE device_peer_id = $1 AND last_resort = 0",
            )
            .bind(peer_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if left > 0 {
                tx.rollback().await?;
                continue;
            }
            let lr = sqlx::query(
                "SELECT key_package FROM key_packages WHERE device_peer_id = $1 AND last_resort = 1 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(peer_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(lr
                .map(|r| r.try_get("key_package"))
                .transpose()?
                .map(|key_package| Claimed { key_package, last_resort: true, remaining: 0 }));
        }
        Ok(None)
    }
}
