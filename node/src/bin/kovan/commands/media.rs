//! Voice notes: `send-voice` (from a WAV file or a test tone) and
//! `voice-to-wav` (a received note, decoded to play it).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;

use super::files::Extras;
use crate::output::{self, print_message};
use crate::{Context, remote};

/// Send a voice note (Opus in Ogg) from a WAV file or a generated tone.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("sound").required(true).args(["wav", "tone"]))]
pub struct SendVoice {
    /// A contact, group or conversation id.
    to: String,
    /// A WAV file (any rate, mixed down to mono).
    #[arg(long)]
    wav: Option<PathBuf>,
    /// A sine tone at this frequency, 20 to 20000 Hz (a test signal).
    #[arg(long, value_name = "HZ", value_parser = tone_hz)]
    tone: Option<f32>,
    /// The tone's length, seconds (up to 600, as a recording).
    #[arg(long, default_value_t = 3.0, requires = "tone", value_parser = seconds)]
    seconds: f32,
    #[command(flatten)]
    extras: Extras,
}

impl SendVoice {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { to, wav, tone, seconds, extras } = self;
        // The daemon has its own working directory.
        let wav = wav
            .as_ref()
            .map(|p| std::path::absolute(p).with_context(|| format!("{}", p.display())))
            .transpose()?;
        let params = json!({
            "to": to, "wav": wav, "tone_hz": tone, "ms": (seconds * 1000.0) as u64,
            "caption": extras.caption, "reply_to": extras.reply_to,
        });
        remote::run(ctx, "send_voice", params, print_message)
    }
}

/// Decode a received voice note (Ogg/Opus) to a WAV file to play it.
#[derive(Debug, Args)]
pub struct VoiceToWav {
    /// The voice note (a received file's path; see `kovan files`).
    input: PathBuf,
    /// The WAV file to write.
    output: PathBuf,
}

impl VoiceToWav {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { input, output: wav } = self;
        let f = std::fs::File::open(input).with_context(|| format!("{}", input.display()))?;
        let note = kovan_node::voice::decode(std::io::BufReader::new(f))
            .with_context(|| format!("{}", input.display()))?;
        let out = std::fs::File::create(wav).with_context(|| format!("{}", wav.display()))?;
        kovan_node::voice::write_wav(std::io::BufWriter::new(out), &note.samples)?;
        let v =
            json!({ "duration_ms": note.duration_ms, "wav": wav, "rate": kovan_node::voice::RATE });
        output::print_value(ctx.json, &v, |_| {
            println!("{:.1} s → {}", f64::from(note.duration_ms) / 1000.0, wav.display())
        });
        Ok(())
    }
}

fn tone_hz(s: &str) -> Result<f32, String> {
    let hz: f32 = s.parse().map_err(|_| format!("{s} is not a number of Hz"))?;
    let range = kovan_node::voice::TONE_HZ;
    if !range.contains(&hz) {
        return Err(format!("a tone is {} to {} Hz", range.start(), range.end()));
    }
    Ok(hz)
}

fn seconds(s: &str) -> Result<f32, String> {
    let secs: f32 = s.parse().map_err(|_| format!("{s} is not a number of seconds"))?;
    let max = kovan_node::voice::MAX_SEND_MS as f32 / 1000.0;
    if !(secs > 0.0 && secs <= max) {
        return Err(format!("a voice note lasts more than 0 and at most {max} seconds"));
    }
    Ok(secs)
}
