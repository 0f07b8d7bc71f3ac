//! Calls from the CLI: two daemons on loopback, and two in network
//! namespaces that reach only the relay (and so talk through its TURN).

use super::*;

/// The pitch of a recorded call's tone and the share of its middle half
/// that carried it: crossings are counted inside each 20 ms frame loud
/// enough to be the tone (a concealed or silent frame — a late packet,
/// the wait for the hang-up — is left out, not averaged in).
fn tone_in(heard: &[f32]) -> (f32, f32) {
    let middle = &heard[heard.len() / 4..heard.len() * 3 / 4];
    let frames: Vec<&[f32]> = middle.chunks_exact(960).collect();
    let loud: Vec<&&[f32]> =
        frames.iter().filter(|f| kovan_node::call::devices::rms(f) > 0.25).collect();
    let crossings: usize =
        loud.iter().map(|f| f.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count()).sum();
    let seconds = loud.len() as f32 * 959.0 / 48_000.0;
    (crossings as f32 / 2.0 / seconds.max(1e-3), loud.len() as f32 / frames.len().max(1) as f32)
}

#[test]
fn a_call_between_two_daemons_from_the_cli_records_the_callers_tone_and_shows_her_video() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let alice = Person::new(dir.path(), "alice", &relay.url);
    let bob = Person::new(dir.path(), "bob", &relay.url);
    befriend(&alice, "alice", &bob, "bob");
    let (ok, _, err) = text(&alice, &["call", "bob", "--tone", "5"]);
    assert!(!ok && err.contains("20 to 20,000"), "{err}");
    let call = alice.json(&["call", "bob", "--tone", "440", "--test-pattern", "320x240"]);
    assert_eq!(call["state"], "calling");
    eventually("bob's phone rings", || bob.json(&["calls"])["current"]["state"] == "ringing");
    let (_, listed, _) = text(&bob, &["calls"]);
    assert!(listed.contains("from alice") && listed.contains("ringing"), "{listed}");
    let wav = dir.path().join("heard.wav");
    let answered = bob.json(&["answer", "--record", wav.to_str().unwrap()]);
    assert_eq!(answered["id"], call["id"]);
    eventually("the call connects", || alice.json(&["calls"])["current"]["state"] == "active");
    // Her test pattern shows on his side, picture by picture.
    eventually("her pictures", || {
        let p = control(&bob, "call_picture", json!({}));
        p["width"] == 320 && p["test_pattern"].as_u64().is_some_and(|n| n > 10)
    });
    let (_, now, _) = text(&bob, &["calls"]);
    assert!(now.contains("video out off") && now.contains("in 320x240"), "{now}");
    let (ok, _, err) = text(&bob, &["camera", "--device", "/nonexistent/video0"]);
    assert!(!ok && err.contains("no camera at"), "{err}");
    let off = alice.json(&["camera", "--off"]);
    assert_eq!(off["video"]["on"], false);
    // She shares a screen of her own (an Xvfb with a red window on it).
    let x = crate::screens::Xvfb::start(320, 240);
    let (_keep, red) = x.window((10, 10), (50, 40), 0xdd2020);
    let (_, listed, _) = text(&alice, &["share-screen", "--list", "--display", &x.display]);
    assert!(listed.contains("the whole screen"), "{listed}");
    let window = format!("{red:#x}");
    let shared = alice.json(&["share-screen", "--display", &x.display, "--window", &window]);
    assert_eq!(shared["screen"]["on"], true);
    eventually("her window on his side", || {
        control(&bob, "call_picture", json!({"screen": true}))["width"] == 50
    });
    let (_, now, _) = text(&bob, &["calls"]);
    assert!(now.contains("screen out off") && now.contains("in 50x40"), "{now}");
    let (ok, _, err) = text(&alice, &["share-screen", "--display", ":9999"]);
    assert!(!ok && err.contains("cannot reach the display :9999"), "{err}");
    alice.json(&["share-screen", "--off"]);
    std::thread::sleep(Duration::from_secs(1));
    alice.json(&["hangup"]);
    eventually("bob's side ends", || bob.json(&["calls"])["current"].is_null());
    eventually("the recording", || std::fs::metadata(&wav).is_ok_and(|m| m.len() > 96_000));
    let heard = kovan_node::voice::read_wav(std::fs::File::open(&wav).unwrap()).unwrap();
    let (f, loud) = tone_in(&heard);
    assert!(loud > 0.8, "the tone filled {loud} of the call");
    assert!((f - 440.0).abs() < 5.0, "{f} Hz");
    let (_, log, _) = text(&alice, &["calls"]);
    assert!(log.contains("to   bob") && log.contains("ended (hangup) after 0:0"), "{log}");
}

/// Three network namespaces made for one test and removed after it: the
/// relay's, and Alice's and Bob's, each joined to the relay's by a veth
/// pair. The relay's namespace does not forward (a new namespace's
/// default), so Alice and Bob reach the relay and never each other.
struct Networks {
    relay: String,
    alice: String,
    bob: String,
}

impl Networks {
    fn ip(args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("the ip command (iproute2)");
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn new() -> Self {
        let tag = std::process::id() % 100_000;
        let n = |who: &str| format!("kovan{tag}{who}");
        let nets = Self { relay: n("r"), alice: n("a"), bob: n("b") };
        for ns in [&nets.relay, &nets.alice, &nets.bob] {
            Self::ip(&["netns", "add", ns]);
            Self::ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        for (ns, net, side) in [(&nets.alice, "1", "a"), (&nets.bob, "2", "b")] {
            let (inner, outer) = (format!("kv{tag}{side}"), format!("kv{tag}{side}r"));
            Self::ip(&["link", "add", &inner, "type", "veth", "peer", "name", &outer]);
            Self::ip(&["link", "set", &inner, "netns", ns]);
            Self::ip(&["link", "set", &outer, "netns", &nets.relay]);
            let (host, relay) = (format!("10.77.{net}.2/24"), format!("10.77.{net}.1/24"));
            Self::ip(&["-n", ns, "addr", "add", &host, "dev", &inner]);
            Self::ip(&["-n", &nets.relay, "addr", "add", &relay, "dev", &outer]);
            Self::ip(&["-n", ns, "link", "set", &inner, "up"]);
            Self::ip(&["-n", &nets.relay, "link", "set", &outer, "up"]);
            let via = format!("10.77.{net}.1");
            Self::ip(&["-n", ns, "route", "add", "10.77.0.0/16", "via", &via]);
        }
        let forward = Command::new("ip")
            .args(["netns", "exec", &nets.relay, "cat", "/proc/sys/net/ipv4/ip_forward"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&forward.stdout).trim(), "0", "the relay forwards");
        nets
    }

    /// A command run inside namespace `ns`.
    fn command(ns: &str, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(program);
        c
    }
}

impl Drop for Networks {
    fn drop(&mut self) {
        // Removing a namespace removes its end of each veth pair, and the pair.
        for ns in [&self.alice, &self.bob, &self.relay] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

#[test]
fn two_nodes_that_can_reach_only_the_relay_talk_through_its_turn() {
    let nets = Networks::new();
    let dir = tempfile::tempdir().unwrap();
    // The relay in its namespace, on its side of Alice's link; TURN there
    // too (Bob reaches that address through his own link to the relay).
    let mut serve = Networks::command(&nets.relay, &bin("kovan-relay"));
    serve
        .args(["serve", "--listen", "10.77.1.1:0", "--turn-listen", "10.77.1.1:0", "--data-dir"])
        .arg(dir.path().join("relay"));
    let relay = start_relay(serve);
    let url = relay.url.clone();
    let person = |name: &str, ns: &str| {
        let home = dir.path().join(name);
        kovan_json(&home, &["init", "--device-name", name]);
        let child = Networks::command(ns, &bin("kovan"))
            .arg("--home")
            .arg(&home)
            .args(["daemon", "--no-mdns", "--relay", &url, "--listen", "/ip4/0.0.0.0/tcp/0"])
            .env("KOVAN_PASSPHRASE", "a passphrase for tests")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let socket = home.join("kovan.sock");
        eventually("the daemon's socket", || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        });
        Person { home, daemon: Some(child), relay: url.clone() }
    };
    let alice = person("alice", &nets.alice);
    let bob = person("bob", &nets.bob);
    befriend(&alice, "alice", &bob, "bob");
    let call = alice.json(&["call", "bob", "--tone", "440"]);
    eventually("bob's phone rings", || bob.json(&["calls"])["current"]["state"] == "ringing");
    let wav = dir.path().join("heard.wav");
    bob.json(&["answer", "--record", wav.to_str().unwrap()]);
    eventually("the call connects", || alice.json(&["calls"])["current"]["state"] == "active");
    // Relayed media can start a while after the call connects on a busy
    // machine (TURN permissions and channels): the two seconds of tone
    // count from when he hears her.
    eventually("he hears her", || {
        let audio = &bob.json(&["calls"])["current"]["audio"];
        audio["played"].as_u64().is_some_and(|n| n > 25) && audio["level_in"].as_u64() > Some(300)
    });
    std::thread::sleep(Duration::from_secs(2));
    alice.json(&["hangup"]);
    eventually("the recording", || std::fs::metadata(&wav).is_ok_and(|m| m.len() > 96_000));
    let heard = kovan_node::voice::read_wav(std::fs::File::open(&wav).unwrap()).unwrap();
    // From the first frame he heard her in (silence before it is the wait).
    let first = heard.chunks(960).position(|f| kovan_node::call::devices::rms(f) > 0.25);
    let (f, loud) = tone_in(&heard[first.unwrap_or(0) * 960..]);
    assert!((f - 440.0).abs() < 5.0 && loud > 0.8, "{f} Hz in {loud} of the call, through TURN");
    assert_eq!(bob.json(&["calls"])["log"][0]["id"], call["id"]);
}
