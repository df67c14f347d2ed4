//! RFC 3339 UTC timestamps with microseconds (`2026-11-18T11:06:40.123456Z`), as the
//! other log lines carry them, written without the formatting machinery: the date and
//! time of the current second are formatted once per second and thread, then only the
//! microseconds are written per line.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of a timestamp.
pub const LEN: usize = 27;

/// `YYYY-MM-DDTHH:MM:SS.` of one second.
type Prefix = [u8; 20];

thread_local! {
    static LAST: Cell<(u64, Prefix)> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// The timestamp of `t` into `out`.
pub fn write(t: SystemTime, out: &mut [u8; LEN]) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let prefix = LAST.with(|last| {
        let (s, p) = last.get();
        if s == secs {
            return p;
        }
        let p = prefix(secs);
        last.set((secs, p));
        p
    });
    out[..20].copy_from_slice(&prefix);
    digits(u64::from(d.subsec_micros()), &mut out[20..26]);
    out[26] = b'Z';
}

/// `t` as a `String` (tests, rare callers).
pub fn format(t: SystemTime) -> String {
    let mut b = [0u8; LEN];
    write(t, &mut b);
    String::from_utf8_lossy(&b).into_owned()
}

fn prefix(secs: u64) -> Prefix {
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut p = *b"0000-00-00T00:00:00.";
    let n = |v: i64| v.clamp(0, 9999) as u64;
    digits(n(year), &mut p[0..4]);
    digits(n(month), &mut p[5..7]);
    digits(n(day), &mut p[8..10]);
    digits(n(rem / 3600), &mut p[11..13]);
    digits(n(rem % 3600 / 60), &mut p[14..16]);
    digits(n(rem % 60), &mut p[17..19]);
    p
}

/// `v` as exactly `out.len()` decimal digits (zero-padded, high digits cut).
pub fn digits(mut v: u64, out: &mut [u8]) {
    for o in out.iter_mut().rev() {
        *o = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        assert_eq!(format(t), "2026-11-18T11:06:40.123456Z");
        // The same second again (cached prefix), other microseconds.
        let t2 = UNIX_EPOCH + Duration::from_micros(1_795_000_000_999_001);
        assert_eq!(format(t2), "2026-11-18T11:06:40.999001Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format(leap), "2000-02-29T00:00:00.000000Z");
        let end = UNIX_EPOCH + Duration::from_secs(1_767_225_599); // 2025-12-31T23:59:59
        assert_eq!(format(end), "2025-12-31T23:59:59.000000Z");
    }
}
