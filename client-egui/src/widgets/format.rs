//! Text as the screens show it: shortened strings, sizes, days, times
//! (in the local time zone), names.

use std::sync::RwLock;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use kovan_node::node::ContactView;

/// The time zone times are shown in, when not the system's (tests).
static ZONE: RwLock<Option<TimeZone>> = RwLock::new(None);

/// Shows times in `tz` from now on instead of the system's time zone
/// (`None`: the system's again). For tests and screenshots that must look
/// the same everywhere.
pub fn set_time_zone(tz: Option<TimeZone>) {
    *ZONE.write().unwrap_or_else(|e| e.into_inner()) = tz;
}

fn zone() -> TimeZone {
    let set = ZONE.read().unwrap_or_else(|e| e.into_inner()).clone();
    set.unwrap_or_else(system_zone)
}

/// The system's time zone, looked up at most once a minute per thread: a
/// frame formats dozens of times, and the lookup reads the system's files.
fn system_zone() -> TimeZone {
    thread_local! {
        static SYSTEM: std::cell::RefCell<Option<(TimeZone, std::time::Instant)>> =
            const { std::cell::RefCell::new(None) };
    }
    SYSTEM.with(|s| {
        let mut s = s.borrow_mut();
        match &*s {
            Some((tz, at)) if at.elapsed() < std::time::Duration::from_secs(60) => tz.clone(),
            _ => {
                let tz = TimeZone::system();
                *s = Some((tz.clone(), std::time::Instant::now()));
                tz
            }
        }
    })
}

/// The first `n` characters of `s`, with "…" if it was longer.
pub fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// A contact's username, else the name they gave.
pub fn contact_name(c: &ContactView) -> String {
    c.username.clone().unwrap_or_else(|| c.display_name.clone())
}

/// A size as people read it: "1 byte", "900 bytes", "12 KB", "3.4 MB",
/// "1.2 GB" (powers of 1000, one decimal under ten).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return tr!("widgets-bytes", n = bytes);
    }
    let mut v = bytes as f64 / 1000.0;
    let mut unit = 0;
    // Rounded as shown: 999.6 KB reads "1.0 MB", not "1000 KB".
    while v.round() >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if v < 9.95 { format!("{v:.1} {}", UNITS[unit]) } else { format!("{v:.0} {}", UNITS[unit]) }
}

fn at(ms: i64, tz: &TimeZone) -> jiff::Zoned {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone())
}

/// The local day of a time in ms.
pub fn civil_day(ms: i64) -> Date {
    at(ms, &zone()).date()
}

/// "2026-12-01".
pub fn format_day(day: Date) -> String {
    day.strftime("%Y-%m-%d").to_string()
}

/// A day separator: "Today", "Yesterday", else the date.
pub fn day_label(day: Date, today: Date) -> String {
    if day == today {
        tr!("widgets-today")
    } else if today.yesterday().is_ok_and(|y| y == day) {
        tr!("widgets-yesterday")
    } else {
        format_day(day)
    }
}

/// A time in ms as a local date and time.
pub fn local(ms: i64) -> jiff::civil::DateTime {
    at(ms, &zone()).datetime()
}

/// A local date and time as ms (a time skipped by a clock change moves
/// forward, as people expect).
pub fn local_ms(dt: jiff::civil::DateTime) -> Option<i64> {
    dt.to_zoned(zone()).ok().map(|z| z.timestamp().as_millisecond())
}

/// "14:05" (local time) of a time in ms.
pub fn clock(ms: i64) -> String {
    clock_in(ms, &zone())
}

fn clock_in(ms: i64, tz: &TimeZone) -> String {
    at(ms, tz).strftime("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_times_and_short_text() {
        let utc = TimeZone::UTC;
        let istanbul = TimeZone::fixed(jiff::tz::offset(3));
        assert_eq!(format_day(at(0, &utc).date()), "1970-01-01");
        let t = 1_796_083_200_000 + 14 * 3_600_000 + 5 * 60_000;
        assert_eq!(format_day(at(t, &utc).date()), "2026-12-01");
        assert_eq!(clock_in(t, &utc), "14:05");
        assert_eq!(clock_in(t, &istanbul), "17:05");
        // Late in the evening UTC is already tomorrow in Istanbul.
        let late = 1_796_083_200_000 + 22 * 3_600_000;
        assert_eq!(format_day(at(late, &istanbul).date()), "2026-12-02");
        assert_eq!(short("merhaba", 3), "mer…");
        assert_eq!(short("çay", 3), "çay");
    }

    #[test]
    fn today_yesterday_and_dates() {
        crate::i18n::set(crate::i18n::Lang::En);
        let today = jiff::civil::date(2026, 12, 1);
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(jiff::civil::date(2026, 11, 30), today), "Yesterday");
        assert_eq!(day_label(jiff::civil::date(2026, 11, 29), today), "2026-11-29");
        assert_eq!(day_label(jiff::civil::date(2026, 12, 2), today), "2026-12-02");
    }

    #[test]
    fn sizes_as_people_read_them() {
        crate::i18n::set(crate::i18n::Lang::En);
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(1_300), "1.3 KB");
        assert_eq!(human_size(12_345), "12 KB");
        assert_eq!(human_size(999_700), "1.0 MB");
        assert_eq!(human_size(3_400_000), "3.4 MB");
        assert_eq!(human_size(250_000_000), "250 MB");
        assert_eq!(human_size(1_200_000_000), "1.2 GB");
    }
}
