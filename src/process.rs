//! The process around the server: the allocator's arenas, set before anything runs, and
//! the signals that stop it gracefully.

/// glibc gives each thread that allocates an arena of its own (up to eight per core), and
/// memory freed in one arena is not reused by another: under the benchmark's mixed load
/// that alone added about 10 MB to the server's peak RSS. Two arenas serve two workers, the
/// writer and the read pool well. glibc reads the limit only at process start, so `serve`
/// re-executes itself once with it set; an explicit `MALLOC_ARENA_MAX` is left alone.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            // `exec` returns only if it failed; the server then runs without the limit.
            let _ = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("MALLOC_ARENA_MAX", "2")
                .exec();
        }
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: the socket listens from then on, and a SIGTERM must never
/// meet the default action (an abrupt exit) while the server is starting.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
