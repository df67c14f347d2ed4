//! The writing side of an instance's log: one run's output, in size-rotated files.
//!
//! Offsets are logical: byte `n` of a run is byte `n` however many files it has been
//! rotated through. Each file is named after the logical offset of its first byte
//! (`00000000000000065536.log`), so a reader finds any offset from the names alone and
//! "follow" keeps working across a rotation.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::LogPolicy;

/// Appends one run's output to rotating files.
#[derive(Debug)]
pub struct LogWriter {
    dir: PathBuf,
    policy: LogPolicy,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    /// Logical offset of the current file's first byte.
    file_start: u64,
    file_len: u64,
    /// Whether the last write failed (warn once per failure streak, not per line).
    failing: bool,
}

/// The file name of a log file starting at logical `offset`.
pub(super) fn file_name(offset: u64) -> String {
    format!("{offset:020}.log")
}

/// The logical start offset encoded in a log file's name.
pub(super) fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl LogWriter {
    /// A writer for a new, empty run directory `dir`.
    pub(super) fn create(dir: PathBuf, policy: LogPolicy) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let file = open_new(&dir, 0)?;
        Ok(Self {
            dir,
            policy,
            state: Mutex::new(State {
                file,
                file_start: 0,
                file_len: 0,
                failing: false,
            }),
        })
    }

    /// Append `data`. A failing disk must not stop the app, so errors are logged (once
    /// per streak) and the data dropped.
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let result = self.append(&mut st, data);
        match result {
            Ok(()) => st.failing = false,
            Err(e) if !st.failing => {
                st.failing = true;
                tracing::warn!(dir = %self.dir.display(), error = %e, "instance log write failed; dropping output until it recovers");
            }
            Err(_) => {}
        }
    }

    /// Bytes written to this run so far (the logical end offset).
    pub fn written(&self) -> u64 {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.file_start + st.file_len
    }

    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write `data`, rotating so that no file grows past the limit. A piece that does not
    /// fit is cut after its last newline that fits, so lines stay whole in one file unless
    /// a single line is longer than a file.
    fn append(&self, st: &mut State, data: &[u8]) -> io::Result<()> {
        let max = self.policy.max_file_bytes.max(1);
        let mut rest = data;
        while !rest.is_empty() {
            let room = usize::try_from(max.saturating_sub(st.file_len)).unwrap_or(usize::MAX);
            if rest.len() <= room {
                return write(st, rest);
            }
            match rest[..room].iter().rposition(|b| *b == b'\n') {
                Some(i) => {
                    write(st, &rest[..=i])?;
                    rest = &rest[i + 1..];
                }
                None if st.file_len > 0 => {}
                None => {
                    write(st, &rest[..room])?;
                    rest = &rest[room..];
                }
            }
            self.rotate(st)?;
        }
        Ok(())
    }

    fn rotate(&self, st: &mut State) -> io::Result<()> {
        let start = st.file_start + st.file_len;
        st.file = open_new(&self.dir, start)?;
        st.file_start = start;
        st.file_len = 0;
        self.prune()
    }

    /// Keep the newest `keep_files` files.
    fn prune(&self) -> io::Result<()> {
        let mut starts = list_files(&self.dir)?;
        let keep = self.policy.keep_files.max(1);
        if starts.len() > keep {
            starts.sort_unstable();
            for start in &starts[..starts.len() - keep] {
                std::fs::remove_file(self.dir.join(file_name(*start)))?;
            }
        }
        Ok(())
    }
}

fn write(st: &mut State, data: &[u8]) -> io::Result<()> {
    st.file.write_all(data)?;
    st.file_len += data.len() as u64;
    Ok(())
}

fn open_new(dir: &Path, start: u64) -> io::Result<File> {
    OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(dir.join(file_name(start)))
}

/// Start offsets of the log files in `dir`, unsorted.
pub(super) fn list_files(dir: &Path) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(start) = entry.file_name().to_str().and_then(parse_file_name) {
            out.push(start);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(file_name(65_536), "00000000000000065536.log");
        assert_eq!(parse_file_name(&file_name(65_536)), Some(65_536));
        assert_eq!(parse_file_name("0.log"), None);
        assert_eq!(parse_file_name("0000000000000000000x.log"), None);
    }

    #[test]
    fn a_large_write_is_cut_at_lines_and_no_file_exceeds_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let policy = LogPolicy {
            max_file_bytes: 16,
            keep_files: 100,
        };
        let w = LogWriter::create(tmp.path().join("run"), policy).unwrap();
        // Lines of 6 bytes, then one 40-byte line longer than a file.
        let long = format!("{}\n", "x".repeat(39));
        w.write(format!("aaaaa\nbbbbb\nccccc\n{long}ddddd\n").as_bytes());
        let mut files = list_files(w.dir()).unwrap();
        files.sort_unstable();
        let contents: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(w.dir().join(file_name(*f))).unwrap())
            .collect();
        assert!(contents.iter().all(|c| c.len() <= 16), "{contents:?}");
        assert_eq!(contents[0], "aaaaa\nbbbbb\n");
        assert_eq!(contents[1], "ccccc\n");
        assert_eq!(
            contents.concat(),
            format!("aaaaa\nbbbbb\nccccc\n{long}ddddd\n")
        );
        assert_eq!(w.written(), 64);
    }

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let tmp = tempfile::tempdir().unwrap();
        let policy = LogPolicy {
            max_file_bytes: 10,
            keep_files: 3,
        };
        let w = LogWriter::create(tmp.path().join("run"), policy).unwrap();
        for i in 0..10 {
            w.write(format!("line {i:02}\n").as_bytes()); // 8 bytes: one line per file
        }
        assert_eq!(w.written(), 80);
        let mut files = list_files(w.dir()).unwrap();
        files.sort_unstable();
        assert_eq!(files, [56, 64, 72]);
        let last = std::fs::read_to_string(w.dir().join(file_name(72))).unwrap();
        assert_eq!(last, "line 09\n");
    }
}
