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

    let a = kovan(&alice, "alice pw", &["init", "--device-name", "alice-laptop"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let a = json(&a);
    assert_eq!(a["device_name"], "alice-laptop");
    assert!(a["peer_id"].as_str().unwrap().starts_with("12D3KooW"));
    let b = json(&kovan(&bob, "bob pw", &["init"]));

    // A second init refuses to overwrite the identity.
    let again = kovan(&alice, "alice pw", &["init"]);
    assert!(!again.status.success());
    assert_eq!(json(&again)["kind"], "AlreadyExists");

    let who = json(&kovan(&alice, "alice pw", &["whoami"]));
    assert_eq!(who["account"], a["account"]);

    let wrong = kovan(&alice, "not it", &["whoami"]);
    assert!(!wrong.status.success());
    assert_eq!(json(&wrong)["kind"], "WrongPassphrase");

    // Both sides compute the same safety number.
    let ab = json(&kovan(&alice, "alice pw", &["safety-number", b["account"].as_str().unwrap()]));
    let ba = json(&kovan(&bob, "bob pw", &["safety-number", a["account"].as_str().unwrap()]));
    assert_eq!(ab["digits"], ba["digits"]);
    assert_eq!(ab["digits"].as_str().unwrap().len(), 60);

    let bad = kovan(&alice, "alice pw", &["safety-number", "zz"]);
    assert!(!bad.status.success());

    let changed = Command::new(env!("CARGO_BIN_EXE_kovan"))
        .arg("--home")
        .arg(&alice)
        .args(["--json", "passwd"])
        .env("KOVAN_PASSPHRASE", "alice pw")
        .env("KOVAN_NEW_PASSPHRASE", "new pw")
        .output()
        .unwrap();
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stdout));
    assert_eq!(json(&kovan(&alice, "new pw", &["whoami"]))["account"], a["account"]);
    assert_eq!(json(&kovan(&alice, "alice pw", &["whoami"]))["kind"], "WrongPassphrase");
}

#[test]
fn a_damaged_keystore_is_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("h");
    assert!(kovan(&home, "pw", &["init"]).status.success());
    let ks = home.join("keystore.kovan");
    let mut bytes = std::fs::read(&ks).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&ks, &bytes).unwrap();
    let out = kovan(&home, "pw", &["whoami"]);
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(1), "must exit cleanly, not panic");
    assert_eq!(json(&out)["kind"], "StorageCorrupted");

    std::fs::write(&ks, &bytes[..40]).unwrap();
    let out = kovan(&home, "pw", &["whoami"]);
    assert_eq!(json(&out)["kind"], "StorageCorrupted");
}
