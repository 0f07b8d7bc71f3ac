//! kovan-relay black-box tests: a real relay on an ephemeral loopback port,
//! real HTTP and WebSocket clients, every test against SQLite and
//! PostgreSQL; and one conformance suite per store trait (`store/`), on
//! both backends too.

mod harness;
mod store;

mod accounts;
mod blobs;
mod communities;
mod directory;
mod flood;
mod keypackages;
mod mailbox;
mod nat;
mod schema;
mod server;
mod trustee;
mod ws;

/// Runs an async test body against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::harness::Db::Postgres).await
            }
        })*
    };
}
