//! The `kovan` and `kovan-relay` commands as real processes: two daemons
//! and a relay, driven through the CLI and the control socket.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kovan_node::control::Client;
use serde_json::{Value, json};

use crate::harness::WAIT;

mod calls;
mod conditional;
mod polls;
mod spreads;

/// A binary of this workspace, built next to the test binary.
fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(path.exists(), "{} is not built (cargo build --bins)", path.display());
    path
}

struct Relay {
    child: Child,
    url: String,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn relay(dir: &Path) -> Relay {
    let mut c = Command::new(bin("kovan-relay"));
    c.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.join("relay"));
    start_relay(c)
}

/// Starts a relay command and waits for the URL it prints.
fn start_relay(mut command: Command) -> Relay {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the relay exited");
        if let Some(url) = line.trim().strip_prefix("kovan-relay listening on ") {
            break url.to_owned();
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Relay { child, url }
}

struct Person {
    home: PathBuf,
    daemon: Option<Child>,
    relay: String,
}

impl Drop for Person {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

fn kovan(home: &Path, args: &[&str]) -> Output {
    Command::new(bin("kovan"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env("KOVAN_PASSPHRASE", "a passphrase for tests")
        .env("KOVAN_PASSWORD", "a relay password")
        .output()
        .unwrap()
}

/// Runs `kovan --json …` and parses its output; panics with stderr on failure.
fn kovan_json(home: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = kovan(home, &all);
    assert!(
        out.status.success(),
        "kovan {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Person {
    fn new(dir: &Path, name: &str, relay: &str) -> Self {
        let home = dir.join(name);
        let v = kovan_json(&home, &["init", "--device-name", name]);
        assert!(v["account"].is_string());
        let mut p = Self { home, daemon: None, relay: relay.to_owned() };
        p.start();
        p
    }

    /// A person whose node sends and receives only through the relay's
    /// mailboxes (`direct = false`).
    fn relay_only(dir: &Path, name: &str, relay: &str) -> Self {
        let home = dir.join(name);
        kovan_json(&home, &["init", "--device-name", name]);
        std::fs::write(home.join("kovan.toml"), "direct = false\n").unwrap();
        let mut p = Self { home, daemon: None, relay: relay.to_owned() };
        p.start();
        p
    }

    fn start(&mut self) {
        let socket = self.home.join("kovan.sock");
        let child = Command::new(bin("kovan"))
            .arg("--home")
            .arg(&self.home)
            .args(["daemon", "--no-mdns", "--relay", &self.relay])
            .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
            .env("KOVAN_PASSPHRASE", "a passphrase for tests")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        eventually("the daemon's socket", || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        });
    }

    fn sigkill(&mut self) {
        let mut d = self.daemon.take().unwrap();
        d.kill().unwrap();
        d.wait().unwrap();
    }

    fn sigterm(&mut self) {
        let mut d = self.daemon.take().unwrap();
        let ok = Command::new("kill").args(["-TERM", &d.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let status = d.wait().unwrap();
        assert!(status.success(), "the daemon exits cleanly on SIGTERM: {status}");
    }

    fn json(&self, args: &[&str]) -> Value {
        kovan_json(&self.home, args)
    }
}

/// A relay, and people with these names, each registered on it under it.
fn registered<const N: usize>(dir: &Path, names: [&str; N]) -> (Relay, [Person; N]) {
    let relay = relay(dir);
    let people = names.map(|n| Person::new(dir, n, &relay.url));
    for (p, name) in people.iter().zip(names) {
        p.json(&["register", name]);
    }
    (relay, people)
}

/// Both register and become friends through the CLI.
fn befriend(a: &Person, a_name: &str, b: &Person, b_name: &str) {
    a.json(&["register", a_name]);
    b.json(&["register", b_name]);
    make_friends(a, a_name, b, b_name);
}

/// Two registered people become friends through the CLI.
fn make_friends(a: &Person, a_name: &str, b: &Person, b_name: &str) {
    let found = a.json(&["search", b_name]);
    assert_eq!(found[0]["username"], b_name);
    let req = a.json(&["friend", "request", b_name, "--note", "from the CLI"]);
    assert_eq!(req["state"], "outgoing");
    eventually("the request", || {
        b.json(&["friend", "list"]).as_array().unwrap().iter().any(|c| c["state"] == "incoming")
    });
    let accepted = b.json(&["friend", "accept", a_name]);
    assert_eq!(accepted["state"], "friend");
    eventually("the acceptance", || {
        a.json(&["friend", "list"]).as_array().unwrap().iter().any(|c| c["state"] == "friend")
    });
}

#[test]
fn cli_daemons_and_relay_as_processes_befriend_and_chat() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut alice = Person::new(dir.path(), "alice", &relay.url);
    let mut bob = Person::new(dir.path(), "bob", &relay.url);
    befriend(&alice, "alice", &bob, "bob");

    let sent = alice.json(&["send", "bob", "hello from the CLI :wave:"]);
    assert_eq!(sent["text"], "hello from the CLI 👋");
    eventually("bob's copy", || {
        bob.json(&["history", "alice"])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "hello from the CLI 👋")
    });
    let reply = bob.json(&["send", "alice", "got it", "--reply-to", sent["id"].as_str().unwrap()]);
    eventually("alice's copy", || {
        alice.json(&["history", "bob"]).as_array().unwrap().iter().any(|m| m["id"] == reply["id"])
    });
    // bob read it with `history`: alice sees "seen".
    eventually("seen", || {
        alice
            .json(&["history", "bob", "--no-mark-read"])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == sent["id"] && m["state"] == "seen")
    });
    // Human output works too.
    let text = kovan(&alice.home, &["friend", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("friend"), "{text:?}");
    let sn_a = alice.json(&["safety-number", "bob"]);
    let sn_b = bob.json(&["safety-number", "alice"]);
    assert_eq!(sn_a["safety_number"], sn_b["safety_number"], "same number on both sides");
    let digits = sn_a["safety_number"].as_str().unwrap().to_owned();
    let verified = alice.json(&["verify", "bob", "--digits", &digits]);
    assert_eq!(verified["verified"], true);
    let wrong = kovan(&alice.home, &["verify", "bob", "--digits", &"1".repeat(60)]);
    assert!(!wrong.status.success());

    // A poll from the command line: create, vote, close; human output too.
    let poll = alice.json(&[
        "poll",
        "create",
        "bob",
        "Çay mı kahve mi?",
        "--option",
        "çay",
        "--option",
        "kahve",
    ]);
    assert_eq!(poll["kind"], "poll");
    let pid = poll["id"].as_str().unwrap().to_owned();
    eventually("bob's copy of the poll", || {
        bob.json(&["history", "alice"]).as_array().unwrap().iter().any(|m| m["id"] == pid)
    });
    let voted = bob.json(&["poll", "vote", "alice", &pid, "--choice", "1"]);
    assert_eq!(voted["poll"]["mine"], serde_json::json!([1]));
    eventually("alice sees bob's vote", || {
        alice
            .json(&["history", "bob"])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == pid && m["poll"]["options"][1]["votes"] == 1)
    });
    let out = kovan(&alice.home, &["poll", "close", "bob", &pid]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("kahve — 1") && text.contains("closed"),
        "{text}"
    );
    let plain = kovan(&bob.home, &["poll", "verify", "alice", &pid]);
    assert!(
        !plain.status.success()
            && String::from_utf8_lossy(&plain.stderr).contains("not verifiable")
    );

    // A verifiable one: signed ballots, checked by `poll verify`.
    let args = ["poll", "create", "bob", "Hangisi?", "--option", "a", "--option", "b"];
    let poll = alice.json(&[&args[..], &["--verifiable"]].concat());
    assert_eq!(poll["poll"]["verifiable"]["eligible"], 2);
    let vid = poll["id"].as_str().unwrap().to_owned();
    eventually("bob's copy of the verifiable poll", || {
        bob.json(&["history", "alice"]).as_array().unwrap().iter().any(|m| m["id"] == vid)
    });
    bob.json(&["poll", "vote", "alice", &vid, "--choice", "0"]);
    let again = kovan(&bob.home, &["poll", "vote", "alice", &vid, "--choice", "1"]);
    assert!(!again.status.success(), "one ballot each");
    eventually("alice holds bob's ballot", || {
        alice.json(&["poll", "verify", "bob", &vid])["poll"]["voters"] == 1
    });
    alice.json(&["poll", "close", "bob", &vid]);
    eventually("bob's copy closed", || {
        bob.json(&["poll", "verify", "alice", &vid])["poll"]["closed"] == true
    });
    let out = kovan(&bob.home, &["poll", "verify", "alice", &vid]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("verified") && text.contains("a — 1"), "{text}");

    // A message locked with a password and an area: sealed for Bob until
    // he gives both.
    let pw = alice.home.join("message-password");
    std::fs::write(&pw, "mavi kapı\n").unwrap();
    let pw = pw.to_str().unwrap();
    let area = ["--area", "41.0082,28.9784,500", "--hint", "kasa"];
    let locked = alice.json(
        &[&["send", "bob", "gizli", "--password", "--password-file", pw][..], &area].concat(),
    );
    assert_eq!(locked["kind"], "conditional");
    let lid = locked["id"].as_str().unwrap().to_owned();
    eventually("bob's sealed copy", || {
        bob.json(&["history", "alice"]).as_array().unwrap().iter().any(|m| m["id"] == lid)
    });
    let far = kovan(
        &bob.home,
        &["open", "alice", &lid, "--password", "--password-file", pw, "--here", "39.92,32.86"],
    );
    assert!(!far.status.success() && String::from_utf8_lossy(&far.stderr).contains("not inside"));
    let here =
        ["open", "alice", &lid, "--password", "--password-file", pw, "--here", "41.0085,28.9786"];
    let out = kovan(&bob.home, &here);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("gizli"), "{text}");

    // A point, and a live share from a GPX track, stopped.
    let point = alice.json(&["share-location", "bob", "--lat", "-33.8568", "--lon", "151.2153"]);
    assert_eq!(point["location"]["lat"], -33.8568);
    let gpx = alice.home.join("walk.gpx");
    std::fs::write(
        &gpx,
        r#"<gpx><trk><trkseg><trkpt lat="39.9255" lon="32.8663"/><trkpt lat="39.9260" lon="32.8670"></trkpt></trkseg></trk></gpx>"#,
    )
    .unwrap();
    let gpx = gpx.to_str().unwrap();
    let live =
        alice.json(&["share-location", "bob", "--gpx", gpx, "--live", "1h", "--every", "1s"]);
    assert_eq!(
        (live["location"]["live"].as_bool(), live["location"]["lat"].as_f64()),
        (Some(true), Some(39.9255))
    );
    let lid = live["id"].as_str().unwrap().to_owned();
    eventually("the track's next point", || {
        bob.json(&["history", "alice"])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == lid.as_str() && m["location"]["lat"].as_f64() == Some(39.926))
    });
    let stopped = alice.json(&["location", "stop", "bob", &lid]);
    assert_eq!(stopped["location"]["stopped"], true);
    let bad = kovan(&alice.home, &["share-location", "bob", "--lat", "91", "--lon", "0"]);
    assert!(!bad.status.success(), "latitude out of range");

    // A scheduled message: listed, changed, cancelled.
    let later = alice.json(&["send", "bob", "see you tomorrow", "--at", "+1d"]);
    assert_eq!(later["state"], "scheduled");
    let sid = later["id"].as_str().unwrap().to_owned();
    let listed = alice.json(&["schedule", "list", "bob"]);
    assert!(listed.as_array().unwrap().iter().any(|s| s["id"] == sid.as_str()), "{listed}");
    let moved = alice.json(&["schedule", "edit", &sid, "--text", "see you soon", "--at", "+2h"]);
    assert_eq!(moved["content"]["text"], "see you soon");
    assert!(moved["due_at"].as_i64() < later["due_at"].as_i64());
    assert_eq!(alice.json(&["schedule", "cancel", &sid])["state"], "cancelled");
    let bad = kovan(&alice.home, &["send", "bob", "x", "--at", "next tuesday"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not a time"));

    // A group from the command line: create, invite, accept, talk.
    let group = alice.json(&["group", "create", "CLI ekibi", "--description", "komut satırı"]);
    let gid = group["id"].as_str().unwrap().to_owned();
    alice.json(&["group", "invite", "CLI ekibi", "bob"]);
    let mut invitation = Value::Null;
    eventually("bob's invitation", || {
        let list = bob.json(&["group", "invitations"]);
        invitation = list.as_array().unwrap().first().cloned().unwrap_or(Value::Null);
        invitation["state"] == "pending"
    });
    assert_eq!(invitation["group_name"], "CLI ekibi");
    bob.json(&["group", "accept", invitation["id"].as_str().unwrap()]);
    eventually("bob joined", || {
        let out = kovan(&bob.home, &["--json", "group", "info", &gid]);
        out.status.success()
            && serde_json::from_slice::<Value>(&out.stdout).unwrap()["members"]
                .as_array()
                .is_some_and(|m| m.len() == 2)
    });
    bob.json(&["send", &gid, "gruptayım"]);
    eventually("alice reads the group", || {
        alice
            .json(&["history", "CLI ekibi"])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "gruptayım")
    });
    let text = kovan(&alice.home, &["group", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("CLI ekibi"), "{text:?}");
    let refused = kovan(&bob.home, &["group", "rename", &gid, "bob's"]);
    assert!(!refused.status.success(), "bob is not an admin");

    // A file: send-file, then fetch-file --wait on the other side (a
    // relative path: the CLI resolves it, not the daemon).
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join("rapor.pdf"), &data).unwrap();
    let out = Command::new(bin("kovan"))
        .current_dir(dir.path())
        .args(["--json", "--home"])
        .arg(&alice.home)
        .args(["send-file", "bob", "rapor.pdf", "--caption", "son hali"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (sent["kind"].as_str(), sent["file"]["name"].as_str()),
        (Some("file"), Some("rapor.pdf"))
    );
    let fid = sent["file"]["id"].as_str().unwrap().to_owned();
    eventually("bob sees the file", || {
        bob.json(&["files"]).as_array().unwrap().iter().any(|f| f["id"] == fid.as_str())
    });
    let done = bob.json(&["fetch-file", &fid, "--wait"]);
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(std::fs::read(done["path"].as_str().unwrap()).unwrap(), data);
    let listed = kovan(&bob.home, &["files"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("rapor.pdf"), "{listed:?}");
    let shown = alice.json(&["files", &fid]);
    assert_eq!((shown["outgoing"].as_bool(), shown["state"].as_str()), (Some(true), Some("ready")));

    // An image: send-image re-encodes it; a text file is refused clearly.
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(40, 30))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(dir.path().join("ekran.png"), &png).unwrap();
    let sent = alice.json(&["send-image", "bob", dir.path().join("ekran.png").to_str().unwrap()]);
    assert_eq!(
        (sent["kind"].as_str(), sent["file"]["image"]["width"].as_u64()),
        (Some("image"), Some(40))
    );
    let out =
        kovan(&alice.home, &["send-image", "bob", dir.path().join("rapor.pdf").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an image"), "{out:?}");
    // A voice note from a tone; bob decodes what arrives to a WAV.
    let sent = alice.json(&["send-voice", "bob", "--tone", "440", "--seconds", "1.5"]);
    assert_eq!(
        (sent["kind"].as_str(), sent["file"]["voice"]["duration_ms"].as_u64()),
        (Some("voice"), Some(1500))
    );
    let vid = sent["file"]["id"].as_str().unwrap().to_owned();
    let got = bob.json(&["fetch-file", &vid, "--wait"]);
    assert_eq!(got["state"], "complete", "{got}");
    let wav = dir.path().join("heard.wav");
    let out = kovan(
        &bob.home,
        &["--json", "voice-to-wav", got["path"].as_str().unwrap(), wav.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["duration_ms"], 1500);
    assert_eq!(hound::WavReader::open(&wav).unwrap().duration(), 72_000);
    eventually("bob sees the image", || {
        String::from_utf8_lossy(&kovan(&bob.home, &["history", "alice"]).stdout)
            .contains("[image 40×30 ekran.png]")
    });

    // A password-sealed chat (X6): sealed from a password file, read by
    // bob only after `kovan unlock`, and locked again with `kovan lock`.
    let pw = dir.path().join("chat-password");
    std::fs::write(&pw, "ortak bir parola\n").unwrap();
    let pw = pw.to_str().unwrap();
    let sealed = alice.json(&["seal", "bob", "--password-file", pw]);
    assert_eq!((sealed["sealed"].as_bool(), sealed["locked"].as_bool()), (Some(true), Some(false)));
    eventually("bob sees the chat sealed", || {
        bob.json(&["conversations"]).as_array().unwrap().iter().any(|c| c["locked"] == true)
    });
    let secret = alice.json(&["send", "bob", "mühürlü qxCLISEALqx"]);
    let out = kovan(&bob.home, &["history", "alice"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unlock it"), "{out:?}");
    let listed = kovan(&bob.home, &["conversations"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("[sealed, locked]"), "{listed:?}");
    let wrong = Command::new(bin("kovan"))
        .arg("--home")
        .arg(&bob.home)
        .args(["unlock", "alice"])
        .env("KOVAN_CHAT_PASSWORD", "yanlış bir parola")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong password"), "{wrong:?}");
    bob.json(&["unlock", "alice", "--password-file", pw]);
    eventually("bob reads the sealed text", || {
        bob.json(&["history", "alice"])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == secret["id"] && m["text"] == "mühürlü qxCLISEALqx")
    });
    let out =
        kovan(&alice.home, &["send-file", "bob", dir.path().join("rapor.pdf").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("password-sealed"), "{out:?}");
    let locked = bob.json(&["lock", "alice"]);
    assert_eq!(locked["locked"], true);
    assert!(!kovan(&bob.home, &["history", "alice"]).status.success());

    alice.sigterm();
    bob.sigterm();
    // No daemon: a clear error, and --json says so too.
    let out = kovan(&alice.home, &["status"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no kovan daemon is running"), "{out:?}");
    let out = kovan(&alice.home, &["--json", "status"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "no_daemon");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_killed_mid_stream_gets_every_message_exactly_once() {
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let (mut alice, mut bob) = tokio::task::block_in_place(|| {
        let alice = Person::new(dir.path(), "alice", &relay.url);
        let bob = Person::new(dir.path(), "bob", &relay.url);
        befriend(&alice, "alice", &bob, "bob");
        (alice, bob)
    });
    let mut a = Client::connect(&alice.home).await.unwrap();
    let count = |home: PathBuf| async move {
        let mut c = Client::connect(&home).await.unwrap();
        let mut n = 0usize;
        let mut before: Option<i64> = None;
        loop {
            let page = c
                .call(
                    "history",
                    json!({"with": "alice", "limit": 500, "before": before, "mark_read": false}),
                )
                .await
                .unwrap();
            let page = page.as_array().unwrap().clone();
            if page.is_empty() {
                return (n, Vec::<Value>::new());
            }
            n += page.len();
            before = page.last().unwrap()["seq"].as_i64();
            if page.len() < 500 {
                return (n, page);
            }
        }
    };
    let mut killed = false;
    for i in 0..N {
        a.call("send", json!({"to": "bob", "text": format!("stream {i:04}")})).await.unwrap();
        if !killed && i >= 300 {
            // Kill bob once some messages have landed, while the rest stream in.
            let (got, _) = count(bob.home.clone()).await;
            if got >= 100 {
                bob.sigkill();
                killed = true;
            }
        }
    }
    assert!(killed, "bob was never killed mid-stream");
    tokio::task::block_in_place(|| bob.start());

    // Every message arrives once, in order.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut c = Client::connect(&bob.home).await.unwrap();
        let mut texts = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let page = c
                .call(
                    "history",
                    json!({"with": "alice", "limit": 500, "before": before, "mark_read": false}),
                )
                .await
                .unwrap();
            let page = page.as_array().unwrap().clone();
            if page.is_empty() {
                break;
            }
            before = page.last().unwrap()["seq"].as_i64();
            texts.extend(page.iter().map(|m| m["text"].as_str().unwrap().to_owned()));
        }
        texts.reverse();
        if texts.len() >= N {
            let want: Vec<String> = (0..N).map(|i| format!("stream {i:04}")).collect();
            let first_wrong = texts.iter().zip(&want).position(|(a, b)| a != b);
            assert!(
                texts.len() == N && first_wrong.is_none(),
                "every message exactly once, in order: {} arrived, first out of place at {:?}: {:?}",
                texts.len(),
                first_wrong,
                first_wrong.map(|i| &texts[i..(i + 5).min(texts.len())])
            );
            break;
        }
        assert!(Instant::now() < deadline, "only {} of {N} arrived", texts.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The sender's states end at delivered.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut before: Option<i64> = None;
        let mut states = Vec::new();
        loop {
            let page = a
                .call(
                    "history",
                    json!({"with": "bob", "limit": 500, "before": before, "mark_read": false}),
                )
                .await
                .unwrap();
            let page = page.as_array().unwrap().clone();
            if page.is_empty() {
                break;
            }
            before = page.last().unwrap()["seq"].as_i64();
            states.extend(page.iter().map(|m| m["state"].as_str().unwrap().to_owned()));
        }
        assert_eq!(states.len(), N);
        let undelivered = states.iter().filter(|s| *s != "delivered").count();
        if undelivered == 0 {
            break;
        }
        let mut counts = std::collections::BTreeMap::new();
        for st in &states {
            *counts.entry(st.clone()).or_insert(0) += 1;
        }
        assert!(Instant::now() < deadline, "not all delivered: {counts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(a);
    tokio::task::block_in_place(|| {
        alice.sigterm();
        bob.sigterm();
    });
    let _ = count;
}

/// Every message of a conversation as `field` of each, oldest first.
async fn all_of(c: &mut Client, with: &str, field: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let params = json!({"with": with, "limit": 500, "before": before, "mark_read": false});
        let page = c.call("history", params).await.unwrap();
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        before = page.last().unwrap()["seq"].as_i64();
        out.extend(page.iter().map(|m| m[field].clone()));
    }
    out.reverse();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_receipts_survive_a_receiver_killed_right_after_storing() {
    // Everything goes through the mailbox, so "delivered" depends on the
    // receipts the receiver owes; it is killed again and again while
    // messages stream in, and has read receipts off.
    const N: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let (alice, mut bob) = tokio::task::block_in_place(|| {
        let alice = Person::relay_only(dir.path(), "alice", &relay.url);
        let bob = Person::relay_only(dir.path(), "bob", &relay.url);
        befriend(&alice, "alice", &bob, "bob");
        bob.json(&["read-receipts", "off"]);
        (alice, bob)
    });
    let mut a = Client::connect(&alice.home).await.unwrap();
    let mut kills = 0;
    for i in 0..N {
        a.call("send", json!({"to": "bob", "text": format!("akış {i:04}")})).await.unwrap();
        if i % 80 == 79 {
            // Let a batch land, then kill bob while he is storing it.
            tokio::time::sleep(Duration::from_millis(150)).await;
            tokio::task::block_in_place(|| {
                bob.sigkill();
                bob.start();
            });
            kills += 1;
        }
    }
    assert!(kills >= 4);
    let mut b = Client::connect(&bob.home).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while all_of(&mut b, "alice", "text").await.len() < N {
        assert!(Instant::now() < deadline, "not every message arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let states = all_of(&mut a, "bob", "state").await;
        let stuck: Vec<(usize, &Value)> =
            states.iter().enumerate().filter(|(_, s)| *s != "delivered").collect();
        if stuck.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {N} messages never reached delivered: {:?}…",
            stuck.len(),
            &stuck[..stuck.len().min(20)]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Splits a command line as a shell would for the README's commands:
/// words, and "double-quoted" strings with spaces.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// The first 32-hex-digit id after `marker` in `text`.
fn id_after(text: &str, marker: &str) -> Option<String> {
    text.lines().filter_map(|l| l.split_once(marker).map(|(_, rest)| rest)).find_map(|rest| {
        let id: String = rest.trim_start().chars().take(32).collect();
        (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
    })
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("```sh\n# Bob, in his terminal:").expect("the walkthrough block");
    let block = &readme[start + 6..];
    let block = &block[..block.find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    // Each person has a home (KOVAN_HOME) and a working directory.
    let people = ["Alice", "Bob"];
    let mut daemons: Vec<Child> = Vec::new();
    for p in people {
        std::fs::create_dir_all(dir.path().join(p).join("cwd")).unwrap();
    }
    let alice_cwd = dir.path().join("Alice").join("cwd");
    std::fs::write(alice_cwd.join("rapor.pdf"), b"%PDF-1.4 the report").unwrap();
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    image::DynamicImage::ImageRgb8(img).save(alice_cwd.join("IMG_2041.JPG")).unwrap();

    let mut who = "";
    let (mut message_id, mut last_out, mut listed) = (None::<String>, String::new(), String::new());
    for raw in block.lines() {
        let line = raw.split(" # ").next().unwrap().trim();
        if let Some(rest) = raw.trim().strip_prefix("# ") {
            who = people.into_iter().find(|p| rest.starts_with(p)).unwrap_or(who);
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let home = dir.path().join(who).join("home");
        let cwd = dir.path().join(who).join("cwd");
        let background = line.ends_with('&');
        let line =
            line.trim_end_matches('&').trim().replace("https://relay.example.org", &relay.url);
        let mut args = words(&line);
        assert_eq!(args.remove(0), "kovan", "{line}");
        let command = |args: &[String]| {
            let mut c = Command::new(bin("kovan"));
            c.args(args)
                .current_dir(&cwd)
                .env("KOVAN_HOME", &home)
                .env("KOVAN_PASSPHRASE", "a passphrase for tests")
                .env("KOVAN_PASSWORD", "a relay password");
            c
        };
        if background {
            let child = command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            daemons.push(child);
            let socket = home.join("kovan.sock");
            eventually("the daemon's socket", || {
                std::os::unix::net::UnixStream::connect(&socket).is_ok()
            });
            continue;
        }
        // Placeholders come from what earlier commands printed (a message
        // id from the last `send`, the others from the command that lists
        // them, run again while what it lists is still on its way).
        let deadline = Instant::now() + WAIT;
        let out = loop {
            let mut missing = None;
            for a in &mut args {
                let (value, from) = match a.as_str() {
                    "<MESSAGE_ID>" => (message_id.clone(), "send"),
                    "<INVITATION_ID>" => (id_after(&last_out, ""), "group invitations"),
                    "<FILE_ID>" => (
                        listed
                            .lines()
                            .find(|l| l.contains("rapor.pdf") && l.contains("complete"))
                            .and_then(|l| id_after(l, "")),
                        "files",
                    ),
                    "<VOICE_FILE>" => (
                        listed
                            .lines()
                            .find(|l| l.contains(".ogg") && l.contains("complete"))
                            .and_then(|l| l.split_whitespace().rfind(|w| w.ends_with(".ogg")))
                            .map(str::to_owned),
                        "files",
                    ),
                    _ => continue,
                };
                match value {
                    Some(v) => *a = v,
                    None => missing = Some(from),
                }
            }
            if let Some(from) = missing {
                assert!(Instant::now() < deadline, "{line}: nothing to fill it from: {last_out}");
                std::thread::sleep(Duration::from_millis(300));
                let out = command(&words(from)).output().unwrap();
                last_out = String::from_utf8_lossy(&out.stdout).into_owned();
                if from == "files" {
                    listed = last_out.clone();
                }
                args = words(&line)[1..].to_vec();
                continue;
            }
            let out = command(&args).output().unwrap();
            // Bob lists what came: Alice's request may still be on its way
            // through the relay, as it would be for a person typing this.
            let waiting = who == "Bob"
                && args.starts_with(&["friend".to_owned(), "list".to_owned()])
                && !String::from_utf8_lossy(&out.stdout).contains("Alice");
            if out.status.success() && !waiting {
                break out;
            }
            // Something another device sends may still be on its way.
            assert!(
                Instant::now() < deadline,
                "`{line}` as {who} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(300));
        };
        last_out = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!last_out.trim_start().starts_with('{'), "`{line}` printed JSON: {last_out}");
        if who == "Bob" && args.starts_with(&["friend".to_owned(), "list".to_owned()]) {
            // Alice's name is the one she chose, not her device's.
            assert!(last_out.contains("Alice") && !last_out.contains("laptop"), "{last_out}");
        }
        match args.first().map(String::as_str) {
            Some("send") => message_id = id_after(&last_out, " id "),
            Some("files") => listed = last_out.clone(),
            _ => {}
        }
    }
    // The walkthrough did what it says.
    assert!(dir.path().join("Bob").join("cwd").join("note.wav").exists());
    let bob_home = dir.path().join("Bob").join("home");
    let status = kovan_json(&bob_home, &["status"]);
    assert!(status["username"].is_null(), "bob logged out: {status}");
    for mut d in daemons {
        let _ = d.kill();
        let _ = d.wait();
    }
}

/// `kovan ARGS` in text mode for `p`: (success, stdout, stderr).
/// One control-socket request to `p`'s daemon (for what no command prints).
fn control(p: &Person, method: &str, params: Value) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        Client::connect(&p.home).await.unwrap().call(method, params).await.unwrap()
    })
}

fn text(p: &Person, args: &[&str]) -> (bool, String, String) {
    let out = kovan(&p.home, args);
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), s(&out.stdout), s(&out.stderr))
}

#[test]
fn what_outside_testing_found_in_the_cli_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut alice = Person::new(dir.path(), "alice", &relay.url);
    let bob = Person::new(dir.path(), "bob", &relay.url);
    alice.json(&["register", "alice"]);
    bob.json(&["register", "bob"]);
    alice.json(&["friend", "request", "bob", "--note", "ben Alice"]);
    // The note shows in the list.
    eventually("the request with its note", || {
        text(&bob, &["friend", "list"]).1.contains("ben Alice")
    });
    bob.json(&["friend", "accept", "alice"]);
    eventually("friends", || {
        alice.json(&["friend", "list"]).as_array().unwrap().iter().any(|c| c["state"] == "friend")
    });

    // An empty target is an error, not the only conversation.
    let (ok, _, err) = text(&alice, &["send", "", "kime?"]);
    assert!(!ok && err.contains("say which conversation"), "{err}");
    // A reaction is one emoji.
    let sent = alice.json(&["send", "bob", "selam"]);
    let id = sent["id"].as_str().unwrap();
    let (ok, _, err) = text(&alice, &["react", "bob", id, "not an emoji"]);
    assert!(!ok && err.contains("a reaction is one emoji"), "{err}");
    let (ok, _, err) = text(&alice, &["react", "bob", id, ":nosuchcode:"]);
    assert!(!ok && err.contains("a reaction is one emoji"), "{err}");
    assert!(text(&alice, &["react", "bob", id, ":heart:"]).0);
    // Editing a deleted message says so.
    alice.json(&["delete", "bob", id]);
    let (ok, _, err) = text(&alice, &["edit", "bob", id, "yeni"]);
    assert!(!ok && err.contains("was deleted"), "{err}");
    // File commands take the message's id too, and call ids file ids.
    let file = dir.path().join("not.txt");
    std::fs::write(&file, b"notes").unwrap();
    let announced = alice.json(&["send-file", "bob", file.to_str().unwrap()]);
    let message_id = announced["id"].as_str().unwrap();
    eventually("bob has the file", || {
        bob.json(&["files"]).as_array().unwrap().iter().any(|f| f["state"] == "complete")
    });
    let fetched = bob.json(&["fetch-file", message_id, "--wait"]);
    assert_eq!(fetched["state"], "complete", "{fetched}");
    let (ok, _, err) = text(&bob, &["fetch-file", "zz"]);
    assert!(!ok && err.contains("is not a file id"), "{err}");
    // Groups: "1 member"; two of one name are told apart by id.
    let (ok, out, _) = text(&alice, &["group", "create", "Yalnız"]);
    assert!(ok && out.contains("1 member,"), "{out}");
    assert!(text(&alice, &["group", "create", "Yalnız"]).0);
    let (ok, _, err) = text(&alice, &["send", "Yalnız", "hangisi?"]);
    assert!(!ok && err.contains("several groups are called"), "{err}");
    // Text answers are sentences, not JSON.
    for (args, want) in [
        (&["read-receipts", "off"][..], "Read receipts are off."),
        (&["settings"][..], "friend requests    from everyone"),
        (&["status"][..], "reach this device  /ip4/"),
    ] {
        let (ok, out, err) = text(&alice, args);
        assert!(ok && out.contains(want) && !out.starts_with('{'), "{args:?}: {out}{err}");
    }
    // The addresses status prints can be dialled as they are.
    let status = alice.json(&["status"]);
    let addr = status["dial"][0].as_str().unwrap();
    let (ok, out, err) = text(&bob, &["connect", addr]);
    assert!(ok && out.contains("Connected."), "{out}{err}");
    // `watch` says when the daemon stops; the relay signed in to is
    // remembered: a restart without --relay works.
    let watch = Command::new(bin("kovan"))
        .arg("--home")
        .arg(&alice.home)
        .arg("watch")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    alice.sigterm();
    let watched = watch.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&watched.stderr);
    assert!(err.contains("the daemon stopped") && !err.contains("end of file"), "{err}");
    let config = std::fs::read_to_string(alice.home.join("kovan.toml")).unwrap();
    assert!(config.contains(&relay.url), "{config}");
    let socket = alice.home.join("kovan.sock");
    let mut plain = Command::new(bin("kovan"))
        .arg("--home")
        .arg(&alice.home)
        .args(["daemon", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"])
        .env("KOVAN_PASSPHRASE", "a passphrase for tests")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the daemon's socket", || std::os::unix::net::UnixStream::connect(&socket).is_ok());
    eventually("signed in again", || alice.json(&["status"])["relay_connected"] == true);
    let found = alice.json(&["search", "bo"]);
    assert_eq!(found[0]["username"], "bob", "{found}");
    let _ = plain.kill();
    let _ = plain.wait();
}

#[test]
fn a_fresh_relay_starts_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin("kovan-relay"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("relay"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the relay exited");
    }
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!log.contains("WARN"), "a fresh relay warns: {log}");
}

/// Whether any file under `dir` holds `needle`.
fn any_file_holds(dir: &Path, needle: &[u8]) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                return Some(p);
            }
        }
    }
    None
}

/// X3 from the command line: a leave-no-trace chat between two daemons,
/// one of them killed with SIGKILL in the middle of it.
#[test]
fn a_no_trace_chat_survives_nowhere_after_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut alice = Person::new(dir.path(), "alice", &relay.url);
    let mut bob = Person::new(dir.path(), "bob", &relay.url);
    befriend(&alice, "alice", &bob, "bob");

    let chat = alice.json(&["chat", "new", "bob", "--no-trace"]);
    let id = chat["id"].as_str().unwrap().to_owned();
    // Bob's node keeps it under an id of its own.
    let mut bob_id = String::new();
    eventually("bob is offered the chat", || {
        let list = bob.json(&["conversations"]);
        let found = list.as_array().unwrap().iter().find(|c| c["mode"] == "no_trace").cloned();
        bob_id = found.map(|c| c["id"].as_str().unwrap().to_owned()).unwrap_or_default();
        !bob_id.is_empty()
    });
    let listed = kovan(&bob.home, &["conversations"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("[no trace"), "{listed:?}");
    bob.json(&["chat", "answer", &bob_id, "--accept"]);
    eventually("the chat opens", || {
        kovan(&alice.home, &["--json", "send", &id, "kimse görmesin qxKILLqx"]).status.success()
    });
    eventually("bob has it", || {
        bob.json(&["history", &bob_id])
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "kimse görmesin qxKILLqx")
    });

    bob.sigkill();
    eventually("alice's side ends", || {
        alice.json(&["conversations"]).as_array().unwrap().iter().all(|c| c["id"] != id.as_str())
    });
    let out = kovan(&alice.home, &["send", &id, "still there?"]);
    assert!(!out.status.success(), "{out:?}");
    alice.sigterm();
    for home in [&alice.home, &bob.home] {
        let raw = [hex::decode(&id).unwrap(), hex::decode(&bob_id).unwrap()];
        for needle in [b"qxKILLqx".as_slice(), id.as_bytes(), bob_id.as_bytes(), &raw[0], &raw[1]] {
            assert_eq!(any_file_holds(home, needle), None, "found under {}", home.display());
        }
    }
}

#[test]
fn communities_through_the_cli_post_comment_and_moderate() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let alice = Person::new(dir.path(), "alice", &relay.url);
    let bob = Person::new(dir.path(), "bob", &relay.url);
    alice.json(&["register", "alice"]);
    bob.json(&["register", "bob"]);
    alice.json(&["community", "create", "arilar", "--topic", "Arıcılık", "--description", "Bal"]);
    let found = bob.json(&["community", "search", "aricilik"]);
    assert_eq!(found[0]["name"], "arilar");
    assert_eq!(bob.json(&["community", "join", "arilar"])["state"], "member");
    let post = alice.json(&["post", "arilar", "Kovan sayısı", "Kaç kovanınız var?"]);
    let post_id = post["id"].as_str().unwrap().to_owned();
    let c1 = bob.json(&["comment", &post_id, "Beş"]);
    let c1 = c1["id"].as_str().unwrap().to_owned();
    alice.json(&["comment", &c1, "Az"]);
    bob.json(&["like", &post_id]);
    let repost = bob.json(&["repost", &post_id, "--to", "arilar", "--title", "Okuyun"]);
    assert!(repost["id"].is_string());
    // A post with a file; another member fetches it (relative paths work).
    std::fs::write(dir.path().join("plan.txt"), "kovan planı").unwrap();
    let out = Command::new(bin("kovan"))
        .current_dir(dir.path())
        .args(["--home"])
        .arg(&alice.home)
        .args(["--json", "post", "arilar", "Plan", "--attach", "plan.txt"])
        .env("KOVAN_PASSPHRASE", "a passphrase for tests")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let with_file: Value = serde_json::from_slice(&out.stdout).unwrap();
    let with_file = with_file["id"].as_str().unwrap().to_owned();
    let (_, listed, _) = text(&bob, &["thread", &with_file]);
    assert!(listed.contains("📎 [0] plan.txt"), "{listed}");
    let got_to = dir.path().join("got");
    let fetched = bob.json(&["community", "fetch", &with_file, "--to", got_to.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(fetched["path"].as_str().unwrap()).unwrap(), "kovan planı");

    // The thread as text: the post, then each comment indented below its parent.
    let (ok, out, err) = text(&bob, &["thread", &post_id]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let at = |needle: &str| {
        lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} in {out}"))
    };
    assert!(at("# Kovan sayısı") < at("Beş") && at("Beş") < at("Az"), "{out}");
    assert!(lines[at("Az")].starts_with("    "), "a comment on a comment is indented twice: {out}");
    assert!(out.contains("♥1"), "{out}");
    let feed = bob.json(&["feed"]);
    assert_eq!(feed.as_array().unwrap().len(), 3);
    assert!(feed.as_array().unwrap().iter().all(|i| i["verified"] == true), "{feed}");

    // Report, the moderator's queue, removal, ban, the log.
    bob.json(&["report", &c1, "test"]);
    let (_, queue, _) = text(&alice, &["community", "reports", "arilar"]);
    assert!(queue.contains(&c1), "{queue}");
    alice.json(&["community", "mod", "arilar", "remove", &c1, "--note", "kural 2"]);
    alice.json(&["community", "mod", "arilar", "ban", "bob"]);
    let (ok, _, err) = text(&bob, &["post", "arilar", "Yine", "ben"]);
    assert!(!ok && err.contains("join the community first"), "{err}");
    let (_, log, _) = text(&bob, &["community", "log", "arilar"]);
    assert!(
        log.contains("alice remove") && log.contains("kural 2") && log.contains("alice ban bob"),
        "{log}"
    );
    let (_, thread, _) = text(&alice, &["thread", &post_id]);
    assert!(thread.contains("(removed)"), "{thread}");

    // Archive: read-only; then delete.
    alice.json(&["community", "archive", "arilar"]);
    let (ok, _, err) = text(&alice, &["post", "arilar", "Arşiv", "yazılmaz"]);
    assert!(!ok && err.contains("read-only"), "{err}");
    alice.json(&["community", "delete", "arilar"]);
    let (ok, _, err) = text(&alice, &["community", "show", "arilar"]);
    assert!(!ok && err.contains("not found"), "{err}");
}
