//! The `kovan` command as a user runs it: a real process, a real home dir.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn kovan(home: &Path, pass: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kovan"))
        .arg("--home")
        .arg(home)
        .arg("--json")
        .args(args)
        .env("KOVAN_PASSPHRASE", pass)
        .env_remove("KOVAN_HOME")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn init_whoami_safety_number_and_passwd() {
    let dir = tempfile::tempdir().unwrap();
    let alice = dir.path().join("alice");
    let bob = dir.path().join("bob");

    let a = kovan(&alice, "alice passphrase", &["init", "--device-name", "alice-laptop"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let a = json(&a);
    assert_eq!(a["device_name"], "alice-laptop");
    assert!(a["peer_id"].as_str().unwrap().starts_with("12D3KooW"));
    let b = json(&kovan(&bob, "bob passphrase", &["init"]));

    // A second init refuses to overwrite the identity.
    let again = kovan(&alice, "alice passphrase", &["init"]);
    assert!(!again.status.success());
    assert_eq!(json(&again)["kind"], "AlreadyExists");

    let who = json(&kovan(&alice, "alice passphrase", &["whoami"]));
    assert_eq!(who["account"], a["account"]);

    let wrong = kovan(&alice, "not it", &["whoami"]);
    assert!(!wrong.status.success());
    assert_eq!(json(&wrong)["kind"], "WrongPassphrase");

    // Both sides compute the same safety number.
    let ab = json(&kovan(
        &alice,
        "alice passphrase",
        &["safety-number", b["account"].as_str().unwrap()],
    ));
    let ba =
        json(&kovan(&bob, "bob passphrase", &["safety-number", a["account"].as_str().unwrap()]));
    assert_eq!(ab["digits"], ba["digits"]);
    assert_eq!(ab["digits"].as_str().unwrap().len(), 60);

    let bad = kovan(&alice, "alice passphrase", &["safety-number", "zz"]);
    assert!(!bad.status.success());

    let changed = Command::new(env!("CARGO_BIN_EXE_kovan"))
        .arg("--home")
        .arg(&alice)
        .args(["--json", "passwd"])
        .env("KOVAN_PASSPHRASE", "alice passphrase")
        .env("KOVAN_NEW_PASSPHRASE", "a new passphrase")
        .output()
        .unwrap();
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stdout));
    assert_eq!(json(&kovan(&alice, "a new passphrase", &["whoami"]))["account"], a["account"]);
    assert_eq!(json(&kovan(&alice, "alice passphrase", &["whoami"]))["kind"], "WrongPassphrase");
}

#[test]
fn a_damaged_keystore_is_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("h");
    assert!(kovan(&home, "a passphrase", &["init"]).status.success());
    let ks = home.join("keystore.kovan");
    let mut bytes = std::fs::read(&ks).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&ks, &bytes).unwrap();
    let out = kovan(&home, "a passphrase", &["whoami"]);
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(1), "must exit cleanly, not panic");
    assert_eq!(json(&out)["kind"], "StorageCorrupted");

    std::fs::write(&ks, &bytes[..40]).unwrap();
    let out = kovan(&home, "a passphrase", &["whoami"]);
    assert_eq!(json(&out)["kind"], "StorageCorrupted");
}

/// Runs `kovan` in text mode (no `--json`), with no passphrase anywhere.
fn kovan_text(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kovan"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("KOVAN_HOME")
        .env_remove("KOVAN_PASSPHRASE")
        .env_remove("KOVAN_PASSWORD")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn newcomer_traps_at_init_are_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("h");
    // A one-character passphrase is refused, and nothing is created.
    let short = kovan(&home, "x", &["init"]);
    assert!(!short.status.success());
    assert!(json(&short)["error"].as_str().unwrap().contains("at least 8 characters"));
    assert!(!home.join("keystore.kovan").exists());
    assert!(kovan(&home, "a passphrase", &["init", "--name", "Ayşe"]).status.success());
    // The display name is kept for the daemon; the device name is not it.
    let config = std::fs::read_to_string(home.join("kovan.toml")).unwrap();
    assert!(config.contains("display_name = \"Ayşe\""), "{config}");
    // A second init says the identity exists before asking for anything.
    let again = kovan_text(&home, &["--json", "init"]);
    assert_eq!(json(&again)["kind"], "AlreadyExists", "{}", stderr(&again));
    // whoami shows dates, not Unix seconds.
    let who = Command::new(env!("CARGO_BIN_EXE_kovan"))
        .arg("--home")
        .arg(&home)
        .arg("whoami")
        .env("KOVAN_PASSPHRASE", "a passphrase")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&who.stdout);
    let line = text.lines().find(|l| l.starts_with("certificate")).unwrap();
    assert!(line.contains("valid until 20") && !line.contains("unix"), "{line}");
}

#[test]
fn bad_arguments_get_a_clear_bounded_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("h");
    let cases: &[(&[&str], &str)] = &[
        (&["history", "bob", "--before", "-1"], "-1 is not in 0.."),
        (&["history", "bob", "--limit", "0"], "0 is not in 1..=500"),
        (&["send-voice", "bob", "--tone", "0"], "a tone is 20 to 20000 Hz"),
        (&["send-voice", "bob", "--tone", "440", "--seconds", "100000"], "at most 600 seconds"),
        (&["verify", "bob"], "--digits <DIGITS>|--compared"),
        (&["register", "a b"], "a username is 3 to 32"),
    ];
    for (args, want) in cases {
        let out = kovan_text(&home, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = stderr(&out);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
    // The password rule is said before the relay is asked (no daemon runs).
    let out = Command::new(env!("CARGO_BIN_EXE_kovan"))
        .arg("--home")
        .arg(&home)
        .args(["register", "ayse"])
        .env("KOVAN_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(stderr(&out).contains("8 to 1024 bytes"), "{}", stderr(&out));
    // A relay that is not a URL is refused at start, and a huge argument
    // is not echoed back whole.
    assert!(kovan(&home, "a passphrase", &["init"]).status.success());
    for relay in ["not-a-url".to_owned(), "x".repeat(100_000)] {
        let out = Command::new(env!("CARGO_BIN_EXE_kovan"))
            .arg("--home")
            .arg(&home)
            .args(["daemon", "--relay", &relay, "--no-mdns"])
            .env("KOVAN_PASSPHRASE", "a passphrase")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains("is not a relay address like https://"), "{err}");
        assert!(err.len() < 400, "the error echoes {} bytes", err.len());
    }
    // A cause is said once ("Not a directory" was printed twice).
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = kovan(&file.join("home"), "a passphrase", &["init"]);
    let err = json(&out)["error"].as_str().unwrap().to_owned();
    assert_eq!(err.matches("os error 20").count(), 1, "{err}");
}
