//! The report: a header saying under what conditions the figures were taken, one table
//! (metric, ours, baseline, ratio, target, verdict), and notes.

use std::fmt::Write as _;

/// Whether a row has a target and met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Target met.
    Pass,
    /// Target missed.
    Fail,
    /// No target: context for reading the others.
    Info,
}

/// One table row.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub metric: String,
    /// Our figure.
    pub ours: String,
    /// The baseline's figure, or `—`.
    pub baseline: String,
    /// ours / baseline, or `—`.
    pub ratio: String,
    /// The target, or `—`.
    pub target: String,
    /// Verdict.
    pub verdict: Verdict,
}

impl Row {
    /// A row with a baseline; `ratio` = ours / baseline.
    pub fn compared(
        metric: impl Into<String>,
        ours: f64,
        baseline: f64,
        unit: &str,
        digits: usize,
    ) -> Self {
        let ratio = if baseline > 0.0 {
            format!("{:.2}", ours / baseline)
        } else {
            "—".into()
        };
        Self {
            metric: metric.into(),
            ours: format!("{ours:.digits$} {unit}"),
            baseline: format!("{baseline:.digits$} {unit}"),
            ratio,
            target: "—".into(),
            verdict: Verdict::Info,
        }
    }

    /// A row without a baseline.
    pub fn alone(metric: impl Into<String>, ours: String) -> Self {
        Self {
            metric: metric.into(),
            ours,
            baseline: "—".into(),
            ratio: "—".into(),
            target: "—".into(),
            verdict: Verdict::Info,
        }
    }

    /// Attach a target and whether it was met.
    pub fn target(mut self, target: impl Into<String>, met: bool) -> Self {
        self.target = target.into();
        self.verdict = if met { Verdict::Pass } else { Verdict::Fail };
        self
    }
}

/// The whole report.
#[derive(Debug, Default)]
pub struct Report {
    /// `- key: value` lines above the table.
    pub header: Vec<String>,
    /// The table.
    pub rows: Vec<Row>,
    /// Lines below the table.
    pub notes: Vec<String>,
}

impl Report {
    /// Whether any target was missed.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Fail)
    }

    /// Markdown.
    pub fn render(&self) -> String {
        let mut s = String::from("# bk-bench: login service speed targets\n\n");
        for h in &self.header {
            let _ = writeln!(s, "- {h}");
        }
        s.push_str("\n| metric | ours | baseline | ratio | target | result |\n|---|---:|---:|---:|---|---|\n");
        for r in &self.rows {
            let v = match r.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "**FAIL**",
                Verdict::Info => "info",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {v} |",
                r.metric, r.ours, r.baseline, r.ratio, r.target
            );
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                let _ = writeln!(s, "{n}");
            }
        }
        let pass = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .count();
        let fail = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .count();
        let _ = writeln!(s, "\n**Targets: {pass} passed, {fail} failed.**");
        s
    }
}
