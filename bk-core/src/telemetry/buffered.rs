//! A shared buffered writer for log lines with a periodic flusher thread.

use std::io::{self, BufWriter, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

const FLUSH_EVERY: Duration = Duration::from_millis(100);
const CAPACITY: usize = 64 * 1024;

type Shared = Arc<Mutex<BufWriter<Box<dyn Write + Send>>>>;

fn lock(s: &Shared) -> MutexGuard<'_, BufWriter<Box<dyn Write + Send>>> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hands the formatter a writer into the shared buffer.
#[derive(Clone)]
pub struct BufferedWriter(Shared);

/// One event's write: the formatter writes a whole line in one `write_all`.
pub struct Line<'a>(MutexGuard<'a, BufWriter<Box<dyn Write + Send>>>);

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Flushing is the flusher's job; a per-line flush would defeat the buffer.
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line(lock(&self.0))
    }
}

/// Flushes the buffer when dropped (keep it alive in `main`).
pub struct LogGuard(Shared);

impl Drop for LogGuard {
    fn drop(&mut self) {
        let _ = lock(&self.0).flush();
    }
}

/// A buffered stdout and its guard; a background thread flushes every 100 ms.
pub fn stdout() -> (BufferedWriter, LogGuard) {
    to(Box::new(io::stdout()))
}

/// The same over any writer (tests).
pub fn to(w: Box<dyn Write + Send>) -> (BufferedWriter, LogGuard) {
    let shared: Shared = Arc::new(Mutex::new(BufWriter::with_capacity(CAPACITY, w)));
    let weak = Arc::downgrade(&shared);
    let _ = thread::Builder::new()
        .name("bk-log-flush".into())
        .spawn(move || {
            while let Some(s) = weak.upgrade() {
                let _ = lock(&s).flush();
                drop(s);
                thread::sleep(FLUSH_EVERY);
            }
        });
    (BufferedWriter(shared.clone()), LogGuard(shared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_buffered_then_flushed_by_time_or_guard() {
        let sink = Sink::default();
        let (w, guard) = to(Box::new(sink.clone()));
        w.make_writer().write_all(b"one\n").unwrap();
        // Flushed by the background thread within a few periods.
        let mut seen = false;
        for _ in 0..50 {
            if sink.0.lock().unwrap().as_slice() == b"one\n" {
                seen = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(seen, "periodic flush");
        w.make_writer().write_all(b"two\n").unwrap();
        drop(guard);
        assert_eq!(
            sink.0.lock().unwrap().as_slice(),
            b"one\ntwo\n",
            "guard flushes on drop"
        );
    }
}
