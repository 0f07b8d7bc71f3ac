//! Images (I2, SPEC.md §6.6) and voice notes (I3, §6.7) between real nodes: a photo carrying a GPS
//! position, an orientation, XMP and a comment arrives upright with none
//! of them, its thumbnail shows before the file is fetched, in a chat and
//! in a group; damaged images and decompression bombs are refused on the
//! sender, and a malformed description from a peer shows as unsupported.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Rgb, RgbImage};
use kovan_node::node::{FileOptions, VoiceSource};
use kovan_node::{Event, FileView, NodeErrorKind};
use kovan_spec::wire;

use crate::groups::{answer, group_until, people};
use crate::harness::{TestNode, TestRelay, befriend};

/// 41°0'30.5"N 28°58'42"E, as the photo's EXIF writes it.
const LAT: [(u32, u32); 3] = [(41, 1), (0, 1), (305, 10)];
const LON: [(u32, u32); 3] = [(28, 1), (58, 1), (42, 1)];
const XMP_MARK: &[u8] = b"http://ns.adobe.com/xap/1.0/";
const COMMENT: &[u8] = b"Canon EOS 5D serial 0123456789";

fn rationals(v: &[(u32, u32)]) -> Vec<u8> {
    v.iter().flat_map(|(n, d)| [n.to_be_bytes(), d.to_be_bytes()].concat()).collect()
}

/// A big-endian TIFF: IFD0 with an orientation (6: rotate 90° clockwise)
/// and a pointer to a GPS IFD holding latitude and longitude.
fn exif() -> Vec<u8> {
    let entry = |tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        [tag.to_be_bytes().as_slice(), &typ.to_be_bytes(), &count.to_be_bytes(), &value].concat()
    };
    let off = |o: u32| o.to_be_bytes();
    // Layout: header 8 | IFD0 at 8: 2 + 2×12 + 4 = 30 → GPS IFD at 38:
    // 2 + 4×12 + 4 = 54 → data at 92 (lat 24 bytes, lon 24 bytes).
    let mut t = b"MM\0\x2a".to_vec();
    t.extend(off(8));
    t.extend(2u16.to_be_bytes());
    t.extend(entry(0x0112, 3, 1, [0, 6, 0, 0]));
    t.extend(entry(0x8825, 4, 1, off(38)));
    t.extend(off(0));
    t.extend(4u16.to_be_bytes());
    t.extend(entry(0x0001, 2, 2, *b"N\0\0\0"));
    t.extend(entry(0x0002, 5, 3, off(92)));
    t.extend(entry(0x0003, 2, 2, *b"E\0\0\0"));
    t.extend(entry(0x0004, 5, 3, off(116)));
    t.extend(off(0));
    assert_eq!(t.len(), 92);
    t.extend(rationals(&LAT));
    t.extend(rationals(&LON));
    t
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    [&[0xff, marker][..], &len.to_be_bytes(), payload].concat()
}

/// A 320×200 JPEG as a phone writes it: EXIF (orientation, GPS), XMP with
/// the position again, and a comment naming the camera.
fn phone_photo(dir: &Path) -> PathBuf {
    let img = RgbImage::from_fn(320, 200, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
    let xmp =
        [XMP_MARK, b"\0<x:xmpmeta><exif:GPSLatitude>41,0.508N</exif:GPSLatitude></x:xmpmeta>"]
            .concat();
    let app1 = segment(0xe1, &[b"Exif\0\0".as_slice(), &exif()].concat());
    let mut out = jpeg[..2].to_vec();
    out.extend(app1);
    out.extend(segment(0xe1, &xmp));
    out.extend(segment(0xfe, COMMENT));
    out.extend(&jpeg[2..]);
    let path = dir.join("IMG_2041.JPG");
    std::fs::write(&path, &out).unwrap();
    path
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What a decoder finds in the file: its size and whether it has EXIF.
fn inspect(bytes: &[u8]) -> (u32, u32, Option<Vec<u8>>, image::metadata::Orientation) {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().unwrap();
    let mut decoder = reader.into_decoder().unwrap();
    let (w, h) = decoder.dimensions();
    (w, h, decoder.exif_metadata().unwrap(), decoder.orientation().unwrap())
}

/// The photo as it left the phone has what the test says it has (so the
/// test cannot pass by feeding a clean photo).
fn assert_has_metadata(bytes: &[u8]) {
    let (w, h, exif, orientation) = inspect(bytes);
    assert_eq!((w, h), (320, 200));
    assert!(exif.is_some_and(|e| contains(&e, &rationals(&LAT))), "the source has GPS in EXIF");
    assert_eq!(orientation, image::metadata::Orientation::Rotate90);
    assert!(contains(bytes, XMP_MARK) && contains(bytes, COMMENT));
}

/// Received: upright (200×320), no EXIF, no XMP, no comment, no position.
fn assert_clean(bytes: &[u8]) {
    let (w, h, _, _) = inspect(bytes);
    assert_eq!((w, h), (200, 320), "turned upright by its orientation");
    assert_no_metadata(bytes);
}

fn assert_no_metadata(bytes: &[u8]) {
    let (_, _, exif, _) = inspect(bytes);
    assert!(exif.is_none(), "no EXIF");
    for needle in [b"Exif\0".as_slice(), XMP_MARK, COMMENT, b"GPS", &rationals(&LAT)] {
        assert!(!contains(bytes, needle), "{:?} survived", String::from_utf8_lossy(needle));
    }
}

async fn file_done(n: &mut TestNode, id: &str) -> FileView {
    let Event::File { file } = n
        .wait(
            "the image complete",
            |e| matches!(e, Event::File { file } if file.id == id && file.state == "complete"),
        )
        .await
    else {
        unreachable!()
    };
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_arrives_upright_without_its_gps_position_and_its_thumbnail_shows_first() {
    let dir = tempfile::tempdir().unwrap();
    let photo = phone_photo(dir.path());
    let original = std::fs::read(&photo).unwrap();
    assert_has_metadata(&original);

    // Bob fetches nothing by himself: the message must show without it.
    let relay = TestRelay::start(dir.path()).await;
    let manual = FileOptions { auto_download_max: 0, ..FileOptions::default() };
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::with_files(dir.path(), "bob", Some(&relay.url), manual).await;
    befriend(&mut alice, &mut bob).await;
    let sent = alice.h.send_image("bob", &photo, "Sultanahmet", None).await.unwrap();
    assert_eq!(sent.kind, "image");
    let ev = bob
        .wait("the image message", |e| {
            matches!(e, Event::Message { message } if !message.outgoing && message.kind == "image")
        })
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    let meta = message.file.unwrap();
    let image = meta.image.unwrap();
    assert_eq!((image.width, image.height, meta.mime.as_str()), (200, 320, "image/jpeg"));
    assert_eq!((meta.name.as_str(), meta.caption.as_str()), ("IMG_2041.jpg", "Sultanahmet"));
    assert_eq!(bob.h.file(&meta.id).await.unwrap().state, "offered", "not fetched yet");
    let thumb = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, image.thumbnail)
        .unwrap();
    let shown = kovan_node::media::decode_for_display(&thumb).unwrap();
    assert_eq!((shown.width(), shown.height()), (80, 128), "an upright thumbnail");
    assert_no_metadata(&thumb);

    bob.h.fetch_file(&meta.id).await.unwrap();
    let done = file_done(&mut bob, &meta.id).await;
    assert_clean(&std::fs::read(done.path.unwrap()).unwrap());
    // The sender's own record points at the photo it picked, untouched.
    let mine = alice.h.file(&meta.id).await.unwrap();
    assert_eq!(mine.path.as_deref(), Some(photo.to_str().unwrap()));
    assert_eq!(std::fs::read(&photo).unwrap(), original);
    // No clean copy is left behind in the sender's files.
    let out = dir.path().join("alice").join("files").join("out");
    let left: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".sealed"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_sent_to_a_group_reaches_every_member_clean() {
    let dir = tempfile::tempdir().unwrap();
    let photo = phone_photo(dir.path());
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol"]).await;
    let [alice, mut bob, mut carol]: [TestNode; 3] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let g = alice.h.group_create("fotoğraflar", "", false).await.unwrap();
    for (who, n) in [("bob", &mut bob), ("carol", &mut carol)] {
        alice.h.group_invite(&g.id, who).await.unwrap();
        answer(n, true).await;
    }
    group_until(&alice, &g.id, "three members", |g| g.members.len() == 3).await;
    let sent = alice.h.send_image(&g.id, &photo, "", None).await.unwrap();
    let id = sent.file.unwrap().id;
    for n in [&mut bob, &mut carol] {
        let done = file_done(n, &id).await;
        assert_eq!(done.conversation, g.id);
        assert_clean(&std::fs::read(done.path.unwrap()).unwrap());
    }
    // A voice note to the group: every member hears the same tone.
    let tone = VoiceSource::Tone { hz: 523.0, ms: 1500 };
    let sent = alice.h.send_voice(&g.id, tone, "", None).await.unwrap();
    let id = sent.file.unwrap().id;
    for n in [&mut bob, &mut carol] {
        let done = file_done(n, &id).await;
        let note =
            kovan_node::voice::decode(std::fs::File::open(done.path.unwrap()).unwrap()).unwrap();
        assert_eq!(note.duration_ms, 1500);
        let f = kovan_node::voice::tone_frequency(&note.samples[4800..]);
        assert!((f - 523.0).abs() < 5.0, "{f} Hz");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_note_keeps_its_length_and_pitch_and_shows_its_waveform_first() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let manual = FileOptions { auto_download_max: 0, ..FileOptions::default() };
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::with_files(dir.path(), "bob", Some(&relay.url), manual).await;
    befriend(&mut alice, &mut bob).await;
    // A WAV at 44.1 kHz stereo, as a recorder writes it: a 440 Hz tone.
    let wav = dir.path().join("not.wav");
    {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&wav, spec).unwrap();
        for i in 0..3 * 44_100 {
            let t = i as f32 / 44_100.0;
            let s = (0.5 * (2.0 * std::f32::consts::PI * 440.0 * t).sin() * 32767.0) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }
    let sent =
        alice.h.send_voice("bob", VoiceSource::Wav(wav.clone()), "dinle", None).await.unwrap();
    assert_eq!(sent.kind, "voice");
    let ev = bob
        .wait("the voice message", |e| {
            matches!(e, Event::Message { message } if !message.outgoing && message.kind == "voice")
        })
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    let meta = message.file.unwrap();
    let voice = meta.voice.unwrap();
    assert_eq!(
        (voice.duration_ms, meta.mime.as_str(), meta.name.as_str()),
        (3000, "audio/ogg", "not.ogg")
    );
    assert_eq!(voice.waveform.len(), kovan_node::voice::WAVEFORM_LEVELS);
    assert!(voice.waveform.iter().all(|&l| l > 100), "a steady tone: {:?}", voice.waveform);
    assert_eq!(bob.h.file(&meta.id).await.unwrap().state, "offered", "shown before it is fetched");
    bob.h.fetch_file(&meta.id).await.unwrap();
    let done = file_done(&mut bob, &meta.id).await;
    let note = kovan_node::voice::decode(std::fs::File::open(done.path.unwrap()).unwrap()).unwrap();
    assert_eq!(note.duration_ms, 3000);
    let f = kovan_node::voice::tone_frequency(&note.samples[4800..]);
    assert!((f - 440.0).abs() < 5.0, "{f} Hz");
    // Not a WAV: refused before anything is sent.
    let err = alice.h.send_voice("bob", VoiceSource::Wav(dir.path().join("absent.wav")), "", None);
    assert_eq!(err.await.unwrap_err().kind(), NodeErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_images_and_bombs_are_refused_and_malformed_image_messages_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;

    let photo = std::fs::read(phone_photo(dir.path())).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &photo[..photo.len() / 2]).unwrap();
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "not an image at all").unwrap();
    // A PNG whose header claims 15,000 × 15,000 pixels (900 MB of RGBA)
    // in a few hundred bytes: allowed sides, too much memory.
    let bomb = dir.path().join("bomb.png");
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::new(1, 1))
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    png[16..24].copy_from_slice(&[0, 0, 0x3a, 0x98, 0, 0, 0x3a, 0x98]);
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&bomb, &png).unwrap();
    for (path, says) in [(&cut, "damaged"), (&text, "not an image"), (&bomb, "too large")] {
        let err = alice.h.send_image("bob", path, "", None).await.unwrap_err();
        assert_eq!(err.kind(), NodeErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(says), "{path:?}: {err}");
    }
    let history = alice.h.history("bob", None, 10).await.unwrap();
    assert!(history.iter().all(|m| m.kind != "image"), "nothing was sent");

    // From a peer: a description that breaks §6.6 is kept as unsupported.
    let file = |mime: &str, image: Option<wire::ImageInfo>| wire::FileRef {
        file_id: vec![9; 16],
        name: "x.png".into(),
        mime: mime.into(),
        size: 10,
        sha256: vec![1; 32],
        key: vec![2; 32],
        chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
        image,
        ..Default::default()
    };
    let bad = [
        file("image/png", Some(wire::ImageInfo { width: 0, height: 5, thumbnail: vec![] })),
        file("text/html", Some(wire::ImageInfo { width: 5, height: 5, thumbnail: vec![] })),
        file(
            "image/png",
            Some(wire::ImageInfo { width: 5, height: 5, thumbnail: b"<svg/>".to_vec() }),
        ),
        wire::FileRef {
            voice: Some(wire::VoiceInfo { duration_ms: 0, waveform: vec![] }),
            ..file("audio/ogg", None)
        },
    ];
    for f in bad {
        bob.h.send_raw_content("alice", wire::app_envelope::Content::File(f)).await.unwrap();
        let ev = alice
            .wait(
                "the malformed image",
                |e| matches!(e, Event::Message { message } if !message.outgoing),
            )
            .await;
        let Event::Message { message } = ev else { unreachable!() };
        assert_eq!(message.kind, "unsupported");
        assert!(message.file.is_none());
    }
    assert!(alice.h.files(None, 10).await.unwrap().is_empty(), "no transfer was started");
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn the_source_photo_really_carries_its_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(phone_photo(dir.path())).unwrap();
    assert_has_metadata(&bytes);
    let prepared = kovan_node::media::prepare_image(&bytes).unwrap();
    assert_clean(&prepared.bytes);
}
