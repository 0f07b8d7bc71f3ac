//! One conformance suite per store trait, each run against the relay's SQL
//! store on SQLite and on PostgreSQL. A suite is written against the trait
//! (generic over the store), so another implementation of a trait runs the
//! same suite by adding its own arm to [`conformance!`].

use kovan_relay::db::SqlStore;
use kovan_relay::services::accounts::{AccountStore, DeviceRow};

use crate::harness::{Db, PgDatabase};

mod accounts;
mod blobs;
mod communities;
mod directory;
mod keypackages;
mod mailbox;
mod sessions;
mod trustee;

/// A fresh, migrated store for one test.
pub struct TestStore {
    pub store: SqlStore,
    _dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

impl TestStore {
    pub async fn open(db: Db) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(PgDatabase::create().await),
        };
        let url = match &pg {
            Some(pg) => pg.url(),
            None => format!("sqlite://{}", dir.path().join("relay.sqlite3").display()),
        };
        let store = SqlStore::connect(&url).await.unwrap();
        Self { store, _dir: dir, pg }
    }

    pub async fn close(self) {
        self.store.close().await;
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

/// Runs one suite test on a fresh store of `db`.
pub async fn run<F: Future<Output = ()>>(db: Db, test: impl FnOnce(SqlStore) -> F) {
    let t = TestStore::open(db).await;
    test(t.store.clone()).await;
    t.close().await;
}

/// Runs each suite test against the SQL store on both backends.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            use $crate::harness::Db;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::store::run(Db::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::store::run(Db::Postgres, super::$name).await
            }
        })*
    };
}

/// A device row for `name`'s `n`th device (the store does not check
/// certificates; the API does).
pub fn device(name: &str, n: u8) -> DeviceRow {
    DeviceRow {
        peer_id: format!("12D3KooW{name}{n}"),
        account_id: 0,
        certificate: vec![n; 40],
        mls_key: vec![n; 32],
    }
}

/// Creates an account `name` with one device; returns its id and the
/// device's peer id.
pub async fn account(s: &impl AccountStore, name: &str) -> (i64, String) {
    let d = device(name, 0);
    let key = format!("account key of {name}").into_bytes();
    let id = s.create_account(name, &key, "$argon2id$test", &d, 1_000).await.unwrap();
    (id, d.peer_id)
}
