//! Locations (SPEC.md §6.5).

use super::*;

/// A position: degrees × 10^7 and an accuracy radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Latitude × 10^7.
    pub lat_e7: i32,
    /// Longitude × 10^7.
    pub lon_e7: i32,
    /// Metres (0: unknown).
    pub accuracy_m: u32,
}

impl Point {
    /// Checks the ranges (§6.5).
    pub fn new(lat_e7: i32, lon_e7: i32, accuracy_m: u32) -> Result<Self, String> {
        if !(-900_000_000..=900_000_000).contains(&lat_e7)
            || !(-1_800_000_000..=1_800_000_000).contains(&lon_e7)
        {
            return Err("latitude must be within ±90° and longitude within ±180°".into());
        }
        if accuracy_m > limits::MAX_LOCATION_ACCURACY_M {
            return Err("accuracy must be at most 1,000 km".into());
        }
        Ok(Self { lat_e7, lon_e7, accuracy_m })
    }

    /// From degrees (rounded to 10^-7°, about a centimetre).
    pub fn from_degrees(lat: f64, lon: f64, accuracy_m: u32) -> Result<Self, String> {
        if !lat.is_finite() || !lon.is_finite() || lat.abs() > 90.0 || lon.abs() > 180.0 {
            return Err("latitude must be within ±90° and longitude within ±180°".into());
        }
        Self::new((lat * 1e7).round() as i32, (lon * 1e7).round() as i32, accuracy_m)
    }
}

/// A shared location, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Where.
    pub point: Point,
    /// A name for it.
    pub label: String,
    /// End of live sharing (sender's clock, ms); None for a fixed point.
    pub live_until_ms: Option<u64>,
}

pub(super) fn place(l: wire::Location, timestamp_ms: u64) -> Result<Place, String> {
    let point = Point::new(l.lat_e7, l.lon_e7, l.accuracy_m)?;
    if l.label.len() > limits::MAX_LOCATION_LABEL {
        return Err("location label must be at most 256 bytes".into());
    }
    let live_until_ms = match l.live_until_ms {
        0 => None,
        t if t > timestamp_ms && t - timestamp_ms <= limits::MAX_LIVE_LOCATION_MS => Some(t),
        _ => return Err("live location must end within 24 h after it starts".into()),
    };
    Ok(Place { point, label: l.label, live_until_ms })
}
