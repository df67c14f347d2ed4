//! `bk-bench`: measure the login service against its speed targets (see bench/README.md).
//! Prints a Markdown report on stdout; exits 2 when a target is missed.

use std::path::PathBuf;

use bk_bins::bench::run::{self, Options};
use clap::Parser;

// The allocator of `bk` itself, so the argon2id timings (a 19 MiB buffer per call) are
// those the service sees.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// wrk connections for the throughput runs.
    #[arg(long, default_value_t = 64)]
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
    /// Also measure with `BK_LOG=warn` (access log off) when the targets are met.
    #[arg(long)]
    diagnose: bool,
    /// Keep the temporary directory (configs, logs).
    #[arg(long)]
    keep: bool,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
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
        diagnose: a.diagnose,
        keep: a.keep,
    };
    let report = run::run(&opts)?;
    print!("{}", report.render());
    if report.failed() {
        std::process::exit(2);
    }
    Ok(())
}
