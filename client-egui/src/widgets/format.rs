//! Text as the screens show it: shortened strings, days, times, names.

use kovan_node::node::ContactView;

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

/// Days since 1970-01-01 (UTC) of a time in ms.
pub fn civil_day(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// "2026-12-01" for a day number (Howard Hinnant's civil-from-days).
pub fn format_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// "14:05" (UTC) of a time in ms.
pub fn clock(ms: i64) -> String {
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}", s / 3600, s % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_times_and_short_text() {
        assert_eq!(format_day(civil_day(0)), "1970-01-01");
        assert_eq!(format_day(civil_day(1_796_083_200_000)), "2026-12-01");
        assert_eq!(clock(1_796_083_200_000 + 14 * 3_600_000 + 5 * 60_000), "14:05");
        assert_eq!(short("merhaba", 3), "mer…");
        assert_eq!(short("çay", 3), "çay");
    }
}
