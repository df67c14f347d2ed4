//! Instance logs on disk: `<root>/<instance id>/run-<n>/<offset>.log`.
//!
//! Each start of an instance's process is a new run with its own rotating files (see
//! [`writer`]); the store keeps the current run and the one before it (the "previous
//! instance" log, which shows why the last process died) and deletes older ones. Readers
//! ask for a run and a logical offset ([`reader`]), so tail, follow and previous are one
//! code path. A container runner copies container output into the same writer.

mod reader;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bk_core::instance::InstanceId;

use crate::AgentError;
pub use reader::LogChunk;
pub use writer::LogWriter;

/// Largest chunk one read returns.
pub const MAX_READ: usize = 1 << 20;

/// How much log each run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPolicy {
    /// A file is rotated before it would grow past this size.
    pub max_file_bytes: u64,
    /// Files kept per run, the live one included (at least 1).
    pub keep_files: usize,
}

impl Default for LogPolicy {
    /// 10 MiB × 5 files per run.
    fn default() -> Self {
        Self {
            max_file_bytes: 10 << 20,
            keep_files: 5,
        }
    }
}

/// Which run of an instance to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The newest run (the running process, or the last one).
    Current,
    /// The run before it (the previous instance).
    Previous,
}

/// All instance logs of an agent.
#[derive(Debug, Clone)]
pub struct LogStore {
    root: PathBuf,
    policy: LogPolicy,
}

const RUN_PREFIX: &str = "run-";

impl LogStore {
    /// Logs under `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>, policy: LogPolicy) -> Result<Self, AgentError> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| AgentError::io(format!("create log directory {}", root.display()), e))?;
        Ok(Self { root, policy })
    }

    /// Where the logs live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Start a new run for `id`: the current run becomes the previous one, older runs go.
    pub fn open_run(&self, id: &InstanceId) -> Result<Arc<LogWriter>, AgentError> {
        let dir = self.instance_dir(id);
        let ctx = |what: &str| format!("{what} {}", dir.display());
        std::fs::create_dir_all(&dir)
            .map_err(|e| AgentError::io(ctx("create log directory"), e))?;
        let runs = self.runs(id)?;
        let next = runs.last().map_or(1, |r| r + 1);
        for old in runs.iter().filter(|r| **r + 1 < next) {
            let path = dir.join(run_name(*old));
            std::fs::remove_dir_all(&path)
                .map_err(|e| AgentError::io(format!("remove old log {}", path.display()), e))?;
        }
        let writer = LogWriter::create(dir.join(run_name(next)), self.policy)
            .map_err(|e| AgentError::io(ctx("create log run in"), e))?;
        Ok(Arc::new(writer))
    }

    /// The runs kept for `id`, oldest first (empty if it never ran).
    pub fn runs(&self, id: &InstanceId) -> Result<Vec<u64>, AgentError> {
        let dir = self.instance_dir(id);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(AgentError::io(format!("list {}", dir.display()), e)),
        };
        let mut runs: Vec<u64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(parse_run_name))
            .collect();
        runs.sort_unstable();
        Ok(runs)
    }

    /// Up to `max` bytes (capped at [`MAX_READ`]) of the current or previous run from
    /// logical `offset`; `None` when there is no such run.
    pub fn read(
        &self,
        id: &InstanceId,
        which: Which,
        offset: u64,
        max: usize,
    ) -> Result<Option<LogChunk>, AgentError> {
        let runs = self.runs(id)?;
        let run = match which {
            Which::Current => runs.last(),
            Which::Previous => runs.len().checked_sub(2).and_then(|i| runs.get(i)),
        };
        match run {
            Some(&run) => self.read_run(id, run, offset, max).map(Some),
            None => Ok(None),
        }
    }

    /// Up to `max` bytes of run `run` from logical `offset` (what a follower calls with the
    /// `run` and `next` of its previous chunk).
    pub fn read_run(
        &self,
        id: &InstanceId,
        run: u64,
        offset: u64,
        max: usize,
    ) -> Result<LogChunk, AgentError> {
        let dir = self.instance_dir(id).join(run_name(run));
        reader::read_run(&dir, run, offset, max.min(MAX_READ)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                AgentError::NotFound(format!("{id} (log run {run} is not kept)"))
            }
            _ => AgentError::io(format!("read log {}", dir.display()), e),
        })
    }

    /// The last `bytes` bytes (at most [`MAX_READ`]) of the current or previous run.
    pub fn tail(
        &self,
        id: &InstanceId,
        which: Which,
        bytes: usize,
    ) -> Result<Option<LogChunk>, AgentError> {
        let Some(probe) = self.read(id, which, u64::MAX, 0)? else {
            return Ok(None);
        };
        let bytes = bytes.min(MAX_READ);
        let from = probe.end.saturating_sub(bytes as u64);
        self.read_run(id, probe.run, from, bytes).map(Some)
    }

    /// Delete every log of `id` (when the agent forgets the instance for good).
    pub fn remove(&self, id: &InstanceId) -> Result<(), AgentError> {
        let dir = self.instance_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(AgentError::io(format!("remove {}", dir.display()), e))
            }
            _ => Ok(()),
        }
    }

    fn instance_dir(&self, id: &InstanceId) -> PathBuf {
        // Instance ids are DNS labels: safe as one path component.
        self.root.join(id.as_str())
    }
}

fn run_name(run: u64) -> String {
    format!("{RUN_PREFIX}{run:010}")
}

fn parse_run_name(name: &str) -> Option<u64> {
    name.strip_prefix(RUN_PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_file_bytes: u64, keep_files: usize) -> (tempfile::TempDir, LogStore) {
        let tmp = tempfile::tempdir().unwrap();
        let store = LogStore::new(
            tmp.path().join("logs"),
            LogPolicy {
                max_file_bytes,
                keep_files,
            },
        )
        .unwrap();
        (tmp, store)
    }

    fn id() -> InstanceId {
        InstanceId::parse("web-1").unwrap()
    }

    #[test]
    fn reads_follow_across_rotation() {
        let (_tmp, store) = store(16, 100);
        let w = store.open_run(&id()).unwrap();
        let mut followed = Vec::new();
        let mut next = 0;
        for i in 0..20 {
            w.write(format!("line {i:02}\n").as_bytes());
            // A follower reading small pieces sees every byte once, in order.
            let c = store.read(&id(), Which::Current, next, 5).unwrap().unwrap();
            assert_eq!(c.offset, next);
            followed.extend_from_slice(&c.data);
            next = c.next;
        }
        loop {
            let c = store.read_run(&id(), 1, next, 7).unwrap();
            if c.data.is_empty() {
                break;
            }
            followed.extend_from_slice(&c.data);
            next = c.next;
        }
        let expect: String = (0..20).map(|i| format!("line {i:02}\n")).collect();
        assert_eq!(String::from_utf8(followed).unwrap(), expect);
    }

    #[test]
    fn rotated_away_bytes_are_reported_as_skipped() {
        let (_tmp, store) = store(16, 2);
        let w = store.open_run(&id()).unwrap();
        for i in 0..10 {
            w.write(format!("line {i:02}\n").as_bytes());
        }
        let c = store
            .read(&id(), Which::Current, 0, MAX_READ)
            .unwrap()
            .unwrap();
        assert_eq!(c.skipped, 48, "three 16-byte files were deleted");
        assert_eq!(c.offset, 48);
        assert_eq!(
            String::from_utf8(c.data).unwrap(),
            "line 06\nline 07\nline 08\nline 09\n"
        );
        assert_eq!(c.end, 80);
        let t = store.tail(&id(), Which::Current, 8).unwrap().unwrap();
        assert_eq!(t.data, b"line 09\n");
    }

    #[test]
    fn a_new_run_keeps_the_previous_one_only() {
        let (_tmp, store) = store(1024, 2);
        assert!(store.read(&id(), Which::Current, 0, 10).unwrap().is_none());
        for n in 1..=3 {
            store
                .open_run(&id())
                .unwrap()
                .write(format!("run {n}\n").as_bytes());
        }
        assert_eq!(store.runs(&id()).unwrap(), [2, 3]);
        let cur = store.read(&id(), Which::Current, 0, 100).unwrap().unwrap();
        let prev = store.read(&id(), Which::Previous, 0, 100).unwrap().unwrap();
        assert_eq!((cur.run, &cur.data[..]), (3, &b"run 3\n"[..]));
        assert_eq!((prev.run, &prev.data[..]), (2, &b"run 2\n"[..]));
        let gone = store.read_run(&id(), 1, 0, 10).unwrap_err();
        assert!(matches!(gone, AgentError::NotFound(_)), "{gone}");
        store.remove(&id()).unwrap();
        assert!(store.runs(&id()).unwrap().is_empty());
    }
}
