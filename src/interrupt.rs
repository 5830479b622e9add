//! Ctrl-C and SIGTERM for the batch commands (`scan`, `rescan`).
//!
//! A first signal asks the run to stop: the walker sends no more files, workers skip what is
//! still queued, and the sink commits what was already judged, so index and ledger stay
//! consistent and a rerun picks up the rest. The command then exits with 130. A second signal
//! exits at once with 130; the last commit is intact either way (tantivy's and redb's commits are
//! atomic), which the SIGKILL tests in `tests/rescan.rs` check for the harder case.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs the handlers (once; later calls do nothing). `serve` keeps its own tokio handlers.
pub fn install() {
    let mut first = false;
    let flag = FLAG.get_or_init(|| {
        first = true;
        Arc::new(AtomicBool::new(false))
    });
    if !first {
        return;
    }
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered before the flag setter, so it sees the flag as the previous signal left it:
        // set means this is the second signal, and the process exits with 130 at once.
        let shutdown = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(flag));
        let set = signal_hook::flag::register(sig, Arc::clone(flag));
        if let Err(e) = shutdown.and(set) {
            tracing::warn!("cannot install the signal handler for {sig}: {e}");
        }
    }
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::Relaxed))
}
