//! Locations: `share-location` (a point, or live for a while from a GPX
//! track) and `location stop`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::output::print_message;
use crate::{Context, remote};

/// Share where you are: a point, or live for a while (from a GPX track).
#[derive(Debug, Args)]
pub struct ShareLocation {
    /// A contact or conversation id.
    to: String,
    /// Latitude in degrees (with --lon; else the track's first point).
    #[arg(long, allow_hyphen_values = true)]
    lat: Option<f64>,
    /// Longitude in degrees.
    #[arg(long, allow_hyphen_values = true)]
    lon: Option<f64>,
    /// Radius of uncertainty in metres.
    #[arg(long, default_value_t = 0)]
    accuracy: u32,
    /// A name for the place.
    #[arg(long, default_value = "")]
    label: String,
    /// Share live for this long ("15m", "1h", at most "24h").
    #[arg(long, value_name = "DURATION")]
    live: Option<String>,
    /// With --live: how often an update goes out.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    every: String,
    /// A GPX-style file whose track points (lat/lon attributes) are
    /// sent one per interval.
    #[arg(long, value_name = "FILE")]
    gpx: Option<PathBuf>,
}

impl ShareLocation {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { to, lat, lon, accuracy, label, live, every, gpx } = self;
        let mut track = match gpx {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                gpx_points(&text).with_context(|| format!("{}", path.display()))?
            }
            None => Vec::new(),
        };
        let (lat, lon) = match (lat, lon) {
            (Some(lat), Some(lon)) => (*lat, *lon),
            (None, None) if !track.is_empty() => track.remove(0),
            _ => anyhow::bail!("give --lat and --lon, or a --gpx file with track points"),
        };
        let mut params = json!({
            "to": to, "lat": lat, "lon": lon, "accuracy_m": accuracy, "label": label,
        });
        if let Some(live) = live {
            let d = humantime::parse_duration(live).with_context(|| format!("--live {live:?}"))?;
            let e =
                humantime::parse_duration(every).with_context(|| format!("--every {every:?}"))?;
            params["live_secs"] = json!(d.as_secs());
            params["every_secs"] = json!(e.as_secs().max(1));
            params["track"] = track
                .iter()
                .map(|(lat, lon)| json!({ "lat": lat, "lon": lon, "accuracy_m": accuracy }))
                .collect();
        } else if !track.is_empty() {
            anyhow::bail!("a track is sent one point per interval: give --live too");
        }
        remote::run(ctx, "share_location", params, print_message)
    }
}

/// Live locations: stop sharing.
#[derive(Debug, Subcommand)]
pub enum Location {
    /// Stop a live location you share, for everyone, now.
    Stop {
        /// A contact or conversation id.
        with: String,
        /// The location message's id.
        id: String,
    },
}

impl Location {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Location::Stop { with, id } => {
                remote::run(ctx, "location_stop", json!({ "with": with, "id": id }), print_message)
            }
        }
    }
}

/// The points of a GPX-style file: every `lat="…" lon="…"` pair of its
/// `trkpt`, `rtept` and `wpt` elements, in order.
fn gpx_points(text: &str) -> anyhow::Result<Vec<(f64, f64)>> {
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[at..].find('"')?;
        tag[at..at + end].trim().parse().ok()
    };
    let mut out = Vec::new();
    for piece in text.split('<').skip(1) {
        let Some(tag) = piece.split('>').next() else { continue };
        if !["trkpt", "rtept", "wpt"].iter().any(|t| tag.starts_with(&format!("{t} "))) {
            continue;
        }
        match (attr(tag, "lat"), attr(tag, "lon")) {
            (Some(lat), Some(lon)) => out.push((lat, lon)),
            _ => anyhow::bail!("a track point without a number in lat= and lon=: <{tag}>"),
        }
        if out.len() > 10_000 {
            anyhow::bail!("more than 10,000 track points");
        }
    }
    Ok(out)
}
