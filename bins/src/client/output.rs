//! Printing answers: aligned tables for people, the raw JSON with `--json` for scripts.

use serde_json::Value;

/// A text cell of `v[key]` (strings as-is, null empty, the rest as JSON).
pub fn cell(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Render rows under headers, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            let pad = widths[i].saturating_sub(c.chars().count());
            s.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

/// Print `data` as JSON (`json`) or through `human`.
pub fn print(json: bool, data: &Value, human: impl FnOnce(&Value) -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(data).unwrap_or_else(|_| data.to_string())
        );
    } else {
        print!("{}", human(data));
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM` UTC.
pub fn time(ms: &Value) -> String {
    let Some(ms) = ms.as_i64() else {
        return String::new();
    };
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_trim() {
        let t = table(
            &["CODE", "NAME"],
            &[
                vec!["a".into(), "Alpha".into()],
                vec!["bbbb".into(), "".into()],
            ],
        );
        assert_eq!(t, "CODE  NAME\na     Alpha\nbbbb\n");
    }

    #[test]
    fn cells_and_times() {
        let v = json!({"s": "x", "n": 3, "z": null});
        assert_eq!(cell(&v, "s"), "x");
        assert_eq!(cell(&v, "n"), "3");
        assert_eq!(cell(&v, "z"), "");
        assert_eq!(cell(&v, "missing"), "");
        assert_eq!(time(&json!(0)), "1970-01-01 00:00");
        assert_eq!(time(&json!(1_796_256_000_000_i64)), "2026-12-03 00:00");
        assert_eq!(time(&json!("x")), "");
    }
}
