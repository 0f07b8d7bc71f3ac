//! The accounts' storage: accounts (with their settings and avatar) and
//! their devices.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{SqlStore, StoreError, StoreResult, is_unique_violation};

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

/// Storage of accounts and devices. Lookups return `Ok(None)` when there is
/// no such account or device; `Err` means the database failed, or
/// [`StoreError::Conflict`] when a name (`"username"`), an account key
/// (`"account key"`) or a device (`"device"`) is taken: each is unique.
pub trait AccountStore: Send + Sync {
    /// Creates an account with its first device. Exactly one of two
    /// concurrent registrations of a name succeeds.
    fn create_account(
        &self,
        username: &str,
        account_key: &[u8],
        password_hash: &str,
        device: &DeviceRow,
        now: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;

    /// The account with this (lower-case) username.
    fn account_by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = StoreResult<Option<AccountRow>>> + Send;

    /// The account with this id.
    fn account_by_id(
        &self,
        id: i64,
    ) -> impl Future<Output = StoreResult<Option<AccountRow>>> + Send;

    /// Replaces the settings (not the avatar).
    fn update_settings(
        &self,
        id: i64,
        s: &Settings,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Sets or clears the avatar.
    fn set_avatar(
        &self,
        id: i64,
        avatar: Option<(&[u8], &str)>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Replaces the password hash.
    fn set_password(&self, id: i64, hash: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Deletes an account with its devices, sessions, key packages and
    /// mailboxes. Returns the deleted devices' peer ids.
    fn delete_account(&self, id: i64) -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Adds a device to an account.
    fn add_device(
        &self,
        device: &DeviceRow,
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Replaces a device's certificate (and certified MLS key) with a newer
    /// one of the same device and account.
    fn replace_certificate(
        &self,
        device: &DeviceRow,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A device by PeerId.
    fn device(&self, peer_id: &str) -> impl Future<Output = StoreResult<Option<DeviceRow>>> + Send;

    /// An account's devices, oldest first.
    fn devices_of(
        &self,
        account_id: i64,
    ) -> impl Future<Output = StoreResult<Vec<DeviceRow>>> + Send;
}

/// An account from a row of [`account_columns`]'s columns.
pub(crate) fn account_from(r: &AnyRow) -> Result<AccountRow, sqlx::Error> {
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

/// The columns of an [`AccountRow`], for `SELECT`s.
macro_rules! account_columns {
    () => {
        "id, username, account_key, password_hash, display_name, about, \
         discoverable, friend_policy, read_receipts, avatar_type, created_at"
    };
}
pub(crate) use account_columns;

impl AccountStore for SqlStore {
    async fn create_account(
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
            Err(e) if is_unique_violation(&e) => {
                // Which of the two unique columns: the row that won is
                // committed (the violation waited for it).
                tx.rollback().await?;
                let name = sqlx::query("SELECT id FROM accounts WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?;
                return Err(StoreError::Conflict(if name.is_some() {
                    "username"
                } else {
                    "account key"
                }));
            }
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

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<AccountRow>> {
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

    async fn account_by_id(&self, id: i64) -> StoreResult<Option<AccountRow>> {
        let row =
            sqlx::query(concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(account_from).transpose()?)
    }

    async fn update_settings(&self, id: i64, s: &Settings) -> StoreResult<()> {
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

    async fn set_avatar(&self, id: i64, avatar: Option<(&[u8], &str)>) -> StoreResult<()> {
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

    async fn set_password(&self, id: i64, hash: &str) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_account(&self, id: i64) -> StoreResult<Vec<String>> {
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

    async fn add_device(&self, device: &DeviceRow, now: i64) -> StoreResult<()> {
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

    async fn replace_certificate(&self, device: &DeviceRow) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query(
            "UPDATE devices SET certificate = $1, mls_key = $2 \
             WHERE peer_id = $3 AND account_id = $4",
        )
        .bind(&device.certificate)
        .bind(&device.mls_key)
        .bind(&device.peer_id)
        .bind(device.account_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn device(&self, peer_id: &str) -> StoreResult<Option<DeviceRow>> {
        let row = sqlx::query(
            "SELECT peer_id, account_id, certificate, mls_key FROM devices WHERE peer_id = $1",
        )
        .bind(peer_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(device_from).transpose()?)
    }

    async fn devices_of(&self, account_id: i64) -> StoreResult<Vec<DeviceRow>> {
        let rows = sqlx::query(
            "SELECT peer_id, account_id, certificate, mls_key FROM devices \
             WHERE account_id = $1 ORDER BY created_at, peer_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(device_from).collect::<Result<_, _>>()?)
    }
}
