//! SIGINT/SIGTERM during `apply`: the first stops starting tasks (running steps finish, each write
//! stays whole), the run ends with its recap and retry file; a second signal exits at once.
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit code of an interrupted run (ansible-playbook's "user interrupted execution").
pub const EXIT_INTERRUPTED: i32 = 99;

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Listen for SIGINT and SIGTERM (call inside the runtime, from the CLI only: library callers keep
/// their own signal handling).
pub fn install() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            seen += 1;
            if seen == 1 {
                INTERRUPTED.store(true, Ordering::Relaxed);
                eprintln!("\ninterrupted: no new tasks start; the running ones finish, then the recap (signal again to stop at once)");
            } else {
                eprintln!("\ninterrupted again: stopping now");
                std::process::exit(130);
            }
        }
    });
}
