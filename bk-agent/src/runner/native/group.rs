//! The process group of an instance: every native instance runs in its own group
//! (`process_group(0)`), so one signal reaches the process and everything it forked.
//!
//! "Is anything left?" ignores zombies: a member whose parent died is re-parented to PID 1
//! (or to the agent, if it made itself a subreaper with [`become_subreaper`]), and a PID 1
//! that does not reap (as in some containers) would otherwise keep a group "alive" forever.

use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::time::Instant;

/// How often a stopping group is checked for survivors.
const POLL: Duration = Duration::from_millis(50);
/// How long SIGKILLed members may take to disappear (they may be in uninterruptible sleep).
const AFTER_KILL: Duration = Duration::from_secs(2);

/// Send `signal` to every process in group `pgid`; a group that is already gone is fine.
pub(crate) fn signal(pgid: i32, signal: Signal) -> Result<(), nix::Error> {
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether any process of group `pgid` is alive (zombies do not count).
pub fn has_live_members(pgid: i32) -> bool {
    // Cheap first: no process at all, not even a zombie.
    if matches!(killpg(Pid::from_raw(pgid), None), Err(Errno::ESRCH)) {
        return false;
    }
    !live_members(pgid).is_empty()
}

/// Pids of the live (non-zombie) processes of group `pgid`, from `/proc`.
pub fn live_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_stat(&s))
                .is_some_and(|(state, group)| group == pgid && state != 'Z' && state != 'X')
        })
        .collect()
}

/// State and process group from a `/proc/<pid>/stat` line. The command name is in
/// parentheses and may itself hold spaces or parentheses, so parse from the last `)`.
fn parse_stat(line: &str) -> Option<(char, i32)> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Reap exited members of group `pgid` that were re-parented to this process (only when it
/// is a subreaper). Call only after the group leader itself has been reaped, or this
/// could take the leader's exit status from its owner.
pub(crate) fn reap_orphans(pgid: i32) {
    loop {
        match waitpid(Pid::from_raw(-pgid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// Wait until group `pgid` has no live member or `deadline` passes; then SIGKILL whatever
/// is left and wait for it to go. Returns whether SIGKILL was needed.
pub(crate) async fn drain(pgid: i32, deadline: Instant) -> bool {
    while has_live_members(pgid) {
        if Instant::now() >= deadline {
            let _ = signal(pgid, Signal::SIGKILL);
            let give_up = Instant::now() + AFTER_KILL;
            while has_live_members(pgid) && Instant::now() < give_up {
                reap_orphans(pgid);
                tokio::time::sleep(POLL).await;
            }
            reap_orphans(pgid);
            return true;
        }
        reap_orphans(pgid);
        tokio::time::sleep(POLL).await;
    }
    reap_orphans(pgid);
    false
}

/// Make this process the reaper of its orphaned descendants, so that instance processes
/// whose parent died are reaped by the agent (and stop counting as zombies of PID 1).
/// Meant for the agent binary at start-up; it changes the whole process.
pub fn become_subreaper() -> Result<(), nix::Error> {
    nix::sys::prctl::set_child_subreaper(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines_with_odd_names() {
        let line = "4242 (we ird) (name)) S 1 4240 4240 0 -1 4194560 100 0 0 0";
        assert_eq!(parse_stat(line), Some(('S', 4240)));
        assert_eq!(parse_stat("garbage"), None);
        let own = std::fs::read_to_string("/proc/self/stat").unwrap();
        let (state, group) = parse_stat(&own).unwrap();
        // /proc/self/stat describes the main thread, which waits for this test thread.
        assert!(state != 'Z' && state.is_ascii_uppercase(), "{state}");
        assert_eq!(group, nix::unistd::getpgrp().as_raw());
    }
}
