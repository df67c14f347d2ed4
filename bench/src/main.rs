//! `bk-bench`: measure the login service against its speed targets (see bench/README.md).
//! Prints a Markdown report on stdout; exits 2 when a target is missed.

use std::alloc::{GlobalAlloc, Layout};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use bk_bench::inproc::{self, ALLOCATIONS, Endpoint};
use bk_bench::run::{self, Options};
use clap::Parser;

/// The allocator of `bk` itself, so the argon2id timings (a 19 MiB buffer per call) and
/// the in-process driver's figures are those the service sees, counting allocations for
/// the driver (one relaxed atomic add each).
struct Counting;

// SAFETY: every call is forwarded unchanged to mimalloc.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is mimalloc's.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Benchmark `bk up` against nginx on this machine.
#[derive(Debug, Parser)]
#[command(
    name = "bk-bench",
    about = "Measure the login service's speed targets against baselines from the same run"
)]
struct Args {
    /// The `bk` binary [default: next to this one].
    #[arg(long)]
    bk: Option<PathBuf>,
    /// wrk threads.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// wrk connections for the throughput runs.
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// Seconds per measured wrk run.
    #[arg(long, default_value_t = 10)]
    duration: u32,
    /// Seconds of unrecorded load on each server first.
    #[arg(long, default_value_t = 3)]
    warmup: u32,
    /// Throughput runs per server (alternating); the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Mean pause per connection in the fixed-rate run, ms.
    #[arg(long, default_value_t = 10)]
    delay_ms: u32,
    /// Start-up measurements.
    #[arg(long, default_value_t = 10)]
    starts: usize,
    /// argon2id hashes and verifications timed.
    #[arg(long, default_value_t = 10)]
    argon_n: usize,
    /// Keep the temporary directory (configs, logs).
    #[arg(long)]
    keep: bool,
    /// Skip the in-process figures (instructions and allocations per request).
    #[arg(long)]
    no_inproc: bool,
    /// Internal: run the in-process driver on this endpoint (is_login, healthz, bare)
    /// and print the allocations counted.
    #[arg(long, hide = true)]
    drive: Option<Endpoint>,
    /// Internal: requests the driver counts.
    #[arg(long, hide = true, default_value_t = 10_000)]
    drive_n: u64,
    /// Internal: requests the driver sends before counting.
    #[arg(long, hide = true, default_value_t = 200)]
    drive_warmup: u64,
    /// Internal: the driver's log filter (`info`: access log on).
    #[arg(long, hide = true, default_value = "info")]
    drive_log: String,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if let Some(e) = a.drive {
        let log = bk_core::telemetry::LogConfig {
            filter: a.drive_log.clone(),
            ..Default::default()
        };
        let n = inproc::drive(e, a.drive_warmup, a.drive_n, log)?;
        // After the access lines (flushed when the driver's log guard dropped).
        println!("bk-bench-allocations: {n}");
        return Ok(());
    }
    let bk = match a.bk {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("bk"),
    };
    let opts = Options {
        bk,
        threads: a.threads,
        connections: a.connections,
        duration_s: a.duration,
        warmup_s: a.warmup,
        rounds: a.rounds,
        delay_ms: a.delay_ms,
        starts: a.starts,
        argon_n: a.argon_n,
        keep: a.keep,
        inproc: !a.no_inproc,
    };
    let report = run::run(&opts)?;
    print!("{}", report.render());
    if report.failed() {
        std::process::exit(2);
    }
    Ok(())
}
