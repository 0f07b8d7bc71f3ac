//! Fault and abuse tests (hardening): the relay restarted while messages
//! flow through it, its PostgreSQL restarted under load, a full disk,
//! clocks hours apart, and a node flooded by malicious peers. Nothing a
//! sender was told is stored may be lost, nothing may arrive twice, and
//! everything must recover by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::harness::{TestNode, TestRelay, befriend, next_text, relay_alice_bob};

/// Sends `n` numbered messages from `a` to `b`, starting `fault` after
/// `at` of them and sending on while it runs; then checks that `b` got each
/// exactly once, in order. Returns what `fault` returned.
async fn flow<T: Send + 'static>(
    a: &mut TestNode,
    b: &mut TestNode,
    b_name: &str,
    n: usize,
    at: usize,
    fault: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let mut fault = Some(fault);
    let mut running = None;
    for i in 0..n {
        if i == at
            && let Some(f) = fault.take()
        {
            running = Some(tokio::spawn(f));
        }
        a.h.send_text(b_name, &format!("message {i:03}"), None).await.unwrap();
        // A steady flow rather than one burst, so sends meet the fault.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = running.unwrap().await.unwrap();
    let mut got = Vec::new();
    while got.len() < n {
        got.push(next_text(b).await.1);
    }
    let want: Vec<String> = (0..n).map(|i| format!("message {i:03}")).collect();
    assert_eq!(got, want, "every message once, in order");
    // Nothing more comes (no duplicate after the last).
    let extra = tokio::time::timeout(Duration::from_secs(2), next_text(b)).await;
    assert!(extra.is_err(), "a message arrived twice: {extra:?}");
    let a_account = a.h.account_hex();
    let history = b.h.history(&a_account, None, 1000).await.unwrap();
    assert_eq!(history.len(), n, "history holds each message once");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restarted_mid_delivery_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    // Both deliver only through the relay: every message crosses it.
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    let mut bob = TestNode::relay_only(dir.path(), "bob", &relay.url).await;
    befriend(&mut alice, &mut bob).await;
    // Stopped while puts and pushes are in flight, started again on the
    // same port and data; sends go on meanwhile.
    let restart = async move {
        let stopped = tokio::time::Instant::now();
        let r = relay.restart_with(|_| {}).await;
        (r, stopped.elapsed())
    };
    let (_relay, _) = flow(&mut alice, &mut bob, "bob", 150, 60, restart).await;
}

/// A PostgreSQL server of this test's own (so restarting it disturbs no
/// other test), on a free loopback port, run as the `postgres` user when
/// the test runs as root.
struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

fn as_pg(bin: &Path, tool: &str) -> Command {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

impl OwnPostgres {
    fn start(root: &Path) -> Self {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries (Debian: postgresql) are needed")
            .map(|e| e.unwrap().path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .collect();
        bins.sort();
        let bin = bins.pop().expect("no PostgreSQL server binaries");
        let dir = root.join("pg");
        std::fs::create_dir_all(&dir).unwrap();
        // The server's user must reach its directory.
        for p in [root, dir.as_path()] {
            Command::new("chmod").arg("0777").arg(p).status().unwrap();
        }
        let data = dir.join("data");
        let ok = as_pg(&bin, "initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(ok.status.success(), "initdb: {ok:?}");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = Self { bin, data, port };
        pg.ctl("start");
        pg
    }

    fn ctl(&self, what: &str) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        let out = as_pg(&self.bin, "pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-l"])
            .arg(self.data.join("log"))
            .args(["-o", &opts, what])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl {what}: {out:?}");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = as_pg(&self.bin, "pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_and_the_relay_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let pg = OwnPostgres::start(dir.path());
    let url = pg.url();
    let relay = TestRelay::start_with(dir.path(), |c| c.database = Some(url)).await;
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    let mut bob = TestNode::relay_only(dir.path(), "bob", &relay.url).await;
    befriend(&mut alice, &mut bob).await;
    // The database goes away and comes back while messages flow; the relay
    // process stays.
    let pg = std::sync::Arc::new(pg);
    let pg2 = pg.clone();
    let restart = async move { tokio::task::spawn_blocking(move || pg2.ctl("restart")).await };
    flow(&mut alice, &mut bob, "bob", 150, 60, restart).await.unwrap();
    drop(relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_whose_clocks_are_hours_apart_befriend_and_chat_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    // Bob's device was set up by a clock five hours fast: to everyone
    // else his certificate starts in the future.
    let ahead = kovan_node::identity::now_secs() + 5 * 3600;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new_at(dir.path(), "bob", Some(&relay.url), ahead).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    for i in 0..5 {
        alice.h.send_text(&bob_acct, &format!("a{i}"), None).await.unwrap();
        bob.h.send_text(&alice_acct, &format!("b{i}"), None).await.unwrap();
    }
    for (n, from) in [(&mut bob, "a"), (&mut alice, "b")] {
        let mut got = Vec::new();
        while got.len() < 5 {
            got.push(next_text(n).await.1);
        }
        let want: Vec<String> = (0..5).map(|i| format!("{from}{i}")).collect();
        assert_eq!(got, want, "in the order sent");
    }
}

/// A small tmpfs mounted for one test (mounting needs root, as in CI),
/// lazily unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, mib: u64) -> Self {
        std::fs::create_dir_all(path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(path)
            .status()
            .unwrap();
        assert!(ok.success(), "mounting a {mib} MiB tmpfs at {} (needs root)", path.display());
        Self { path: path.to_path_buf() }
    }

    /// Fills the disk until writing fails; returns the filler.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).and_then(|()| f.flush()).is_ok() {}
        // The last few KiB too.
        while f.write_all(&block[..512]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_nothing_says_so_and_recovers_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let disk = SmallDisk::mount(&dir.path().join("bob"), 48);
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    alice.h.send_text(&bob_acct, "before", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "before");

    // Bob's disk fills up; Alice writes.
    let filler = disk.fill();
    for i in 0..20 {
        alice.h.send_text(&bob_acct, &format!("while full {i:02}"), None).await.unwrap();
    }
    // Bob's node says why nothing comes in, and nothing is shown.
    let err = bob
        .wait("a storage error", |e| {
            matches!(e, kovan_node::Event::Error { kind: kovan_node::NodeErrorKind::Storage, .. })
                || matches!(e, kovan_node::Event::Message { .. })
        })
        .await;
    assert!(matches!(err, kovan_node::Event::Error { .. }), "a message appeared: {err:?}");

    // Space comes back: every message arrives once, in order, and the
    // history holds them once.
    std::fs::remove_file(&filler).unwrap();
    let mut got = Vec::new();
    while got.len() < 20 {
        got.push(next_text(&mut bob).await.1);
    }
    let want: Vec<String> = (0..20).map(|i| format!("while full {i:02}")).collect();
    assert_eq!(got, want);
    let history = bob.h.history(&alice_acct, None, 100).await.unwrap();
    assert_eq!(history.len(), 21, "each message once");
    bob.h.shutdown().await;
    alice.h.shutdown().await;
    drop(disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_flooded_by_malicious_peers_stays_responsive() {
    use futures_util::AsyncWriteExt as _;
    use kovan_node::net::{self, NetConfig};
    use std::sync::atomic::AtomicBool;

    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    let target = alice.h.peer_id();
    let addrs: Vec<_> =
        alice.h.listen_addrs().await.unwrap().into_iter().filter(|a| !net::is_circuit(a)).collect();

    // Attackers with fresh identities: junk envelopes in full batches,
    // oversized frames on the file protocol, and connection churn.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for k in 0..12 {
        let (addrs, stop, sent) = (addrs.clone(), stop.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let start = || {
                let key = kovan_crypto::identity::DeviceKeys::generate(&mut rand_core::OsRng)
                    .p2p_keypair()
                    .unwrap();
                let config = NetConfig { listen: vec![], mdns: false, card: Default::default() };
                net::start(key, config).unwrap().0
            };
            let mut attacker = start();
            while !stop.load(Ordering::Relaxed) {
                let _ = attacker.dial(target, addrs.clone()).await;
                match k % 3 {
                    0 => {
                        let junk: Vec<Vec<u8>> = (0..64)
                            .map(|i| {
                                let mut b = vec![0u8; 64 * 1024];
                                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
                                b[0] = i;
                                b
                            })
                            .collect();
                        let _ = attacker.send_envelopes(target, junk).await;
                    }
                    1 => {
                        if let Ok(mut s) = attacker.open_file_stream(target).await {
                            // A length prefix of 2^62 bytes, then junk.
                            let _ = s.write_all(&[0xff; 9]).await;
                            let _ = s.write_all(&[0x40]).await;
                            let _ = s.write_all(&[0xaa; 4096]).await;
                        }
                    }
                    _ => {
                        // A new identity every round: connection churn.
                        attacker.shutdown().await;
                        attacker = start();
                    }
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            attacker.shutdown().await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Meanwhile the friends talk, both ways, and nothing is lost.
    for i in 0..10 {
        bob.h.send_text(&alice_acct, &format!("to alice {i}"), None).await.unwrap();
        alice.h.send_text(&bob_acct, &format!("to bob {i}"), None).await.unwrap();
    }
    for (n, who) in [(&mut alice, "alice"), (&mut bob, "bob")] {
        let mut got = Vec::new();
        while got.len() < 10 {
            got.push(next_text(n).await.1);
        }
        let want: Vec<String> = (0..10).map(|i| format!("to {who} {i}")).collect();
        assert_eq!(got, want);
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    assert!(sent.load(Ordering::Relaxed) > 50, "the attack ran");
    assert!(alice.h.status().await.is_ok(), "the node still answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_database_without_a_backup_is_refused_with_a_clear_error_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    for i in 0..20 {
        alice.h.send_text(&bob_acct, &format!("m{i}"), None).await.unwrap();
        next_text(&mut bob).await;
    }
    bob.h.shutdown().await;
    let db = dir.path().join("bob").join("node.sqlite3");
    // The backup is gone too (another disk, deleted by hand).
    std::fs::remove_file(kovan_node::backup::backup_path(&db)).unwrap();
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 2).unwrap();

    let home = kovan_node::home::Home::at(dir.path().join("bob"));
    let id = kovan_node::identity::Identity::unlock(&home, crate::harness::PASSPHRASE).unwrap();
    let opts = kovan_node::NodeOptions::loopback(home, "bob");
    let err = kovan_node::Node::start(id, opts).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("is damaged"), "{err}");
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        len / 2,
        "the damaged file is left as it was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_database_comes_back_from_its_last_backup_and_the_chat_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    for i in 0..5 {
        alice.h.send_text(&bob_acct, &format!("before {i}"), None).await.unwrap();
        next_text(&mut bob).await;
    }
    // A clean stop leaves a backup; this one is the last good state.
    let mut bob = bob.restart().await;
    let db = bob.home.database();
    let bak = kovan_node::backup::backup_path(&db);
    let last_good = std::fs::read(&bak).expect("a clean stop writes a backup");

    // After it, both write: Bob's messages use up keys Alice has now
    // consumed, so a restored Bob that sent with them would be refused.
    for i in 0..5 {
        bob.h.send_text(&alice_acct, &format!("bob after {i}"), None).await.unwrap();
        assert_eq!(next_text(&mut alice).await.1, format!("bob after {i}"));
        alice.h.send_text(&bob_acct, &format!("alice after {i}"), None).await.unwrap();
        assert_eq!(next_text(&mut bob).await.1, format!("alice after {i}"));
    }
    bob.h.shutdown().await;
    std::fs::write(&bak, &last_good).unwrap();
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 2).unwrap();

    let mut bob = TestNode::reopen(bob.home.root().to_owned(), "bob", Some(&relay.url)).await;
    let st = bob.h.status().await.unwrap();
    assert!(st.restored_at_start, "the user is told");
    let r = st.restored.expect("the restore is recorded");
    assert!(r.reason.contains("truncated"), "{}", r.reason);
    assert_eq!(
        std::fs::metadata(&r.damaged_file).unwrap().len(),
        len / 2,
        "the damaged file is kept"
    );
    let texts = crate::harness::history_all(&bob.h).await;
    let before: Vec<String> = (0..5).map(|i| format!("before {i}")).collect();
    assert_eq!(texts_with(&bob.h, "before").await, before, "the backup's history is back");
    assert!(!texts.iter().any(|t| t.contains("after")), "nothing from after the backup: {texts:?}");

    // The conversation goes on both ways, each message once.
    bob.h.send_text(&alice_acct, "bob is back", None).await.unwrap();
    alice.wait("Bob's message after the restore", |e| {
        matches!(e, kovan_node::Event::Message { message } if message.text.as_deref() == Some("bob is back"))
    })
    .await;
    alice.h.send_text(&bob_acct, "welcome back", None).await.unwrap();
    bob.wait("Alice's answer", |e| {
        matches!(e, kovan_node::Event::Message { message } if message.text.as_deref() == Some("welcome back"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(texts_with(&alice.h, "bob is back").await.len(), 1);
    assert_eq!(texts_with(&bob.h, "welcome back").await.len(), 1);
    // A later start is an ordinary one.
    let bob = bob.restart().await;
    assert!(!bob.h.status().await.unwrap().restored_at_start);
    bob.h.shutdown().await;
    alice.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_request_sent_before_the_database_broke_is_still_answered_after_the_restore() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, alice, mut bob) = relay_alice_bob(dir.path()).await;
    // Alice asks; the request carries a KeyPackage whose private keys are
    // only in her database. Bob has not answered yet.
    let asked_at =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64;
    let req = alice.h.friend_request("bob", "it's alice").await.unwrap();
    let ev =
        bob.wait("the request", |e| matches!(e, kovan_node::Event::FriendRequest { .. })).await;
    let kovan_node::Event::FriendRequest { contact } = ev else { unreachable!() };

    // The node backs up without being stopped: that copy is what a disk
    // that breaks now leaves.
    let db = alice.home.database();
    let backed_up = async {
        while kovan_node::backup::taken_at(&db).is_none_or(|t| t < asked_at) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), backed_up)
        .await
        .expect("a new KeyPackage is backed up like any other MLS state");
    let bak = kovan_node::backup::backup_path(&db);
    let last_good = std::fs::read(&bak).unwrap();
    alice.h.shutdown().await;
    std::fs::write(&bak, &last_good).unwrap();
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 3).unwrap();

    let mut alice = TestNode::reopen(alice.home.root().to_owned(), "alice", Some(&relay.url)).await;
    assert!(alice.h.status().await.unwrap().restored_at_start);
    // Bob accepts after the restore: his Welcome is built on the
    // KeyPackage Alice sent, and she can still open it.
    bob.h.friend_accept(&contact.account).await.unwrap();
    alice.wait("Bob's acceptance", |e| matches!(e, kovan_node::Event::FriendAccepted { .. })).await;
    alice.h.send_text(&req.account, "we are friends", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "we are friends");
    bob.h.send_text(&contact.account, "so we are", None).await.unwrap();
    assert_eq!(next_text(&mut alice).await.1, "so we are");
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

/// Texts in `h`'s first conversation that start with `prefix`, oldest first.
async fn texts_with(h: &kovan_node::NodeHandle, prefix: &str) -> Vec<String> {
    crate::harness::history_all(h).await.into_iter().filter(|t| t.starts_with(prefix)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_throws_away_unsynced_writes_and_nothing_acknowledged_is_missing() {
    use kovan_tests::powercut::Disk;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mnt = dir.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let disk = Disk::mount(&mnt).unwrap_or_else(|e| {
        panic!("this test mounts a FUSE filesystem (it needs /dev/fuse and root): {e}")
    });
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    // Bob's home is on the disk that loses power.
    let mut bob = TestNode::new(disk.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;

    // Alice writes to Bob in a steady flow; the power goes out halfway,
    // while deliveries and their acknowledgements are in flight.
    const N: usize = 80;
    let sender = tokio::spawn(async move {
        for i in 0..N {
            alice.h.send_text(&bob_acct, &format!("to bob {i:03}"), None).await.unwrap();
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        alice
    });
    let mut seen = 0;
    while seen < N / 2 {
        if next_text(&mut bob).await.1.starts_with("to bob") {
            seen += 1;
        }
    }
    // Bob writes back; the power goes out the moment his last send
    // returns: each was accepted, so each must still go.
    const M: usize = 12;
    for i in 0..M {
        bob.h.send_text(&alice_acct, &format!("from bob {i:02}"), None).await.unwrap();
    }
    disk.power_off();
    let home = bob.home.root().to_owned();
    tokio::time::timeout(Duration::from_secs(30), bob.h.shutdown())
        .await
        .expect("a node whose disk died still stops");
    drop(bob);
    assert!(disk.wait_closed(Duration::from_secs(10)), "the dead node let go of its files");
    disk.power_on();
    let stats = disk.stats();
    assert!(stats.syncs > 0, "the node synced its writes: {stats:?}");
    eprintln!("power cut: {stats:?}");

    // Bob boots again on what reached the disk. Everything Alice sent
    // reaches him once, in order: what he had acknowledged before the cut
    // was on disk (nobody sends it again), the rest is delivered again.
    let mut bob = TestNode::reopen(home, "bob", Some(&relay.url)).await;
    let alice = sender.await.unwrap();
    let want: Vec<String> = (0..N).map(|i| format!("to bob {i:03}")).collect();
    bob.until(
        "all of Alice's messages",
        |h| async move { texts_with(&h, "to bob").await.len() >= N },
    )
    .await;
    let want_back: Vec<String> = (0..M).map(|i| format!("from bob {i:02}")).collect();
    alice
        .until(
            "all of Bob's messages",
            |h| async move { texts_with(&h, "from bob").await.len() >= M },
        )
        .await;
    // Nothing arrives twice later either.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(texts_with(&bob.h, "to bob").await, want, "Bob: each message once, in order");
    assert_eq!(texts_with(&alice.h, "from bob").await, want_back, "Alice: Bob's messages once");
    // And Bob's node works on: a new message both ways.
    alice.h.send_text(&bob.h.account_hex(), "after the cut", None).await.unwrap();
    bob.wait("the next message", |e| {
        matches!(e, kovan_node::Event::Message { message } if message.text.as_deref() == Some("after the cut"))
    })
    .await;
    bob.h.shutdown().await;
    alice.h.shutdown().await;
    drop(bob);
    assert!(disk.wait_closed(Duration::from_secs(10)));
}

/// A TCP proxy the test controls, standing for the network between a node
/// and the relay. [`Proxy::partition`] stops all traffic: bytes already
/// sent are held (as a network that drops packets makes TCP send them
/// again later) and new connections are accepted but get nowhere, until
/// [`Proxy::heal`]. [`Proxy::blackhole`] kills every open connection
/// without a word to either end (what a NAT that forgot its mapping does).
struct Proxy {
    addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
    /// Connections numbered below this are dead: their bytes vanish.
    dead_below: Arc<AtomicU64>,
    /// The next connection's number.
    next: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        let dead_below = Arc::new(AtomicU64::new(0));
        let dead = dead_below.clone();
        let next = Arc::new(AtomicU64::new(0));
        let counter = next.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let mut cut = cut_rx.clone();
                let link = Link { n, dead: dead.clone() };
                tokio::spawn(async move {
                    if cut.wait_for(|c| !*c).await.is_err() {
                        return;
                    }
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pipe(cr, sw, cut.clone(), link.clone()), pipe(sr, cw, cut, link));
                });
            }
        });
        Self { addr, cut, dead_below, next, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn partition(&self) {
        self.cut.send_replace(true);
    }

    fn heal(&self) {
        self.cut.send_replace(false);
    }

    fn blackhole(&self) {
        self.dead_below.store(self.next.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

/// One proxied connection's number and the proxy's death line.
#[derive(Clone)]
struct Link {
    n: u64,
    dead: Arc<AtomicU64>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to`, holding what it read while the link is cut.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: tokio::sync::watch::Receiver<bool>,
    link: Link,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if link.n < link.dead.load(Ordering::SeqCst) {
            // Dead: read and dropped, and no end of stream ever comes.
            continue;
        }
        if cut.wait_for(|c| !*c).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    if link.n >= link.dead.load(Ordering::SeqCst) {
        let _ = to.shutdown().await;
    } else {
        std::future::pending::<()>().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_nodes_get_what_was_queued_once_and_in_order_when_healed() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let relay_addr: std::net::SocketAddr = relay.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(relay_addr).await;
    // Both deliver only through the relay, and Bob reaches it only through
    // the proxy: cutting the proxy cuts Alice and Bob apart.
    // Bob notices a silent connection within seconds, so during the
    // partition his push connection is given up and opened again (the new
    // one hangs until the heal), and both old and new carry the backlog.
    let keepalive = kovan_node::relay_client::Keepalive {
        ping_every: Duration::from_millis(500),
        dead_after: Duration::from_secs(2),
    };
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    let extra = crate::harness::Extra { keepalive, ..Default::default() };
    let mut bob = TestNode::relay_only_with(dir.path(), "bob", &proxy.url(), extra).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    alice.h.send_text(&bob_acct, "a before", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "a before");

    // The partition: both write on both sides of it, for longer than a
    // delivery attempt waits, so attempts fail, back off and retry.
    proxy.partition();
    const N: usize = 15;
    for i in 0..N {
        alice.h.send_text(&bob_acct, &format!("a {i:02}"), None).await.unwrap();
        bob.h.send_text(&alice_acct, &format!("b {i:02}"), None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let leaked = tokio::time::timeout(Duration::from_millis(500), next_text(&mut bob)).await;
    assert!(leaked.is_err(), "a message crossed the partition: {leaked:?}");
    let alice_got = texts_with(&alice.h, "b ").await;
    assert!(alice_got.is_empty(), "a message crossed the partition: {alice_got:?}");

    // Healed: everything queued on either side arrives, once, in order.
    proxy.heal();
    let want_bob: Vec<String> = (0..N).map(|i| format!("a {i:02}")).collect();
    let want_alice: Vec<String> = (0..N).map(|i| format!("b {i:02}")).collect();
    let mut got = Vec::new();
    while got.len() < N {
        got.push(next_text(&mut bob).await.1);
    }
    assert_eq!(got, want_bob, "Bob: each once, in order");
    alice
        .until("Bob's queued messages", |h| async move { texts_with(&h, "b ").await.len() >= N })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(texts_with(&bob.h, "a ").await, [vec!["a before".to_owned()], want_bob].concat());
    assert_eq!(texts_with(&alice.h, "b ").await, want_alice, "Alice: each once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_connection_that_died_silently_is_noticed_and_opened_again() {
    use kovan_node::relay_client::Keepalive;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let relay_addr: std::net::SocketAddr = relay.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(relay_addr).await;
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    let keepalive =
        Keepalive { ping_every: Duration::from_millis(500), dead_after: Duration::from_secs(2) };
    let extra = crate::harness::Extra { keepalive, ..Default::default() };
    let mut bob = TestNode::relay_only_with(dir.path(), "bob", &proxy.url(), extra).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    alice.h.send_text(&bob_acct, "before", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "before");

    // Every connection Bob has to the relay dies without a FIN or RST;
    // new ones work. Nothing tells Bob: only the silence does.
    proxy.blackhole();
    alice.h.send_text(&bob_acct, "after", None).await.unwrap();
    bob.wait("the reconnect", |e| matches!(e, kovan_node::Event::RelayDisconnected { .. })).await;
    assert_eq!(next_text(&mut bob).await.1, "after", "pushed on the new connection");
}
