//! `Procfile`: one `<type>: <command>` per line, `#` comments and blank lines allowed. It
//! defines processes of the default module and wins over app_desc.yaml for the types it names.

use super::PackageError;
use super::rules::check_process_name;

/// The descriptor's file name.
pub const PROCFILE: &str = "Procfile";

/// One process line of a Procfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcfileEntry {
    /// Process type.
    pub name: String,
    /// Shell command line.
    pub command: String,
    /// 1-based line number, for messages.
    pub line: usize,
}

/// Parse a Procfile; a bad line is an error naming its number.
pub fn parse_procfile(text: &str) -> Result<Vec<ProcfileEntry>, PackageError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<ProcfileEntry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let bad = |reason: String| PackageError::Procfile { line, reason };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, command)) = trimmed.split_once(':') else {
            return Err(bad("expected `<type>: <command>`".into()));
        };
        let name = name.trim();
        check_process_name(name).map_err(bad)?;
        let command = command.trim();
        if command.is_empty() {
            return Err(bad(format!("process `{name}` has an empty command")));
        }
        if let Some(first) = out.iter().find(|e| e.name == name) {
            return Err(bad(format!(
                "process `{name}` is already defined on line {}",
                first.line
            )));
        }
        out.push(ProcfileEntry {
            name: name.to_owned(),
            command: command.to_owned(),
            line,
        });
    }
    if out.is_empty() {
        return Err(PackageError::Procfile {
            line: 1,
            reason: "no processes defined".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types_commands_comments_and_blank_lines() {
        let text = "\u{feff}# web first\r\nweb: python3 server.py --port $PORT\r\n\n  worker :  sh -c 'a: b'\n";
        let entries = parse_procfile(text).unwrap();
        assert_eq!(
            entries,
            vec![
                ProcfileEntry {
                    name: "web".into(),
                    command: "python3 server.py --port $PORT".into(),
                    line: 2
                },
                ProcfileEntry {
                    name: "worker".into(),
                    command: "sh -c 'a: b'".into(),
                    line: 4
                },
            ]
        );
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        let cases = [
            ("web: ok\njust words\n", 2, "expected `<type>: <command>`"),
            ("# c\n\nWeb_1: x\n", 3, "process type `Web_1`"),
            ("web: a\nweb: b\n", 2, "already defined on line 1"),
            ("web:   \n", 1, "empty command"),
            ("# only comments\n", 1, "no processes"),
        ];
        for (text, line, needle) in cases {
            let e = parse_procfile(text).unwrap_err();
            let PackageError::Procfile { line: l, .. } = &e else {
                panic!("{e:?}")
            };
            assert_eq!(*l, line, "{text:?}");
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("Procfile: line {line}: ")),
                "{msg}"
            );
            assert!(msg.contains(needle), "{msg}");
        }
    }
}
