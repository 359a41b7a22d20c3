//! How far the WAL is on disk, for the readers that must not pass on a commit before it is.
//!
//! With the WAL flushed apart from the commit (`wal_flush`), a read can see a batch that
//! is committed but not yet on disk. For most answers that is harmless (no writer has been
//! answered for it yet, as with InnoDB's readers), but not for what leaves the server as
//! a promise: a journal event sent to a webhook or read from the feed by its id, or a
//! stored idempotent answer replayed. After a power cut in that window, the id could come
//! back naming another event. Those readers read, then wait here until every commit that
//! had begun when their read ended is flushed.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

use crate::error::AppError;

/// Batches the writer has begun to commit, and batches the flusher has put on disk,
/// counted from 1 in commit order. The flusher owns the sending side ([`Flushed`]): once
/// its thread is gone (or the writer's, which ends it), waiters get an error, not a hang.
pub(crate) struct DurableMark {
    committing: AtomicU64,
    flushed: watch::Receiver<u64>,
}

/// The flusher's side of a [`DurableMark`].
pub(super) struct Flushed(watch::Sender<u64>);

impl DurableMark {
    pub(super) fn new() -> (DurableMark, Flushed) {
        let (sender, flushed) = watch::channel(0);
        let mark = DurableMark {
            committing: AtomicU64::new(0),
            flushed,
        };
        (mark, Flushed(sender))
    }

    /// Numbers the batch the writer is about to commit. Taken just before COMMIT, so a
    /// reader that sees the batch's rows also sees the number (`until_seen_is_durable`).
    pub(super) fn next_commit(&self) -> u64 {
        self.committing.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once every batch begun before this call is on disk: call it after the read
    /// whose rows must be durable before they are passed on. Returns at once when nothing
    /// is waiting for a flush.
    pub(crate) async fn until_seen_is_durable(&self) -> Result<(), AppError> {
        let seen = self.committing.load(Ordering::SeqCst);
        let started = std::time::Instant::now();
        let mut flushed = self.flushed.clone();
        let waited = flushed
            .wait_for(|flushed| *flushed >= seen)
            .await
            .map(|_| ())
            .map_err(|_| AppError::Internal("the WAL flusher has stopped".into()));
        crate::metrics::durable_wait(started.elapsed());
        waited
    }
}

impl Flushed {
    /// Every batch up to `sequence` is on disk.
    pub(super) fn through(&self, sequence: u64) {
        self.0.send_if_modified(|flushed| {
            let moved = sequence > *flushed;
            *flushed = (*flushed).max(sequence);
            moved
        });
    }
}

#[cfg(test)]
mod tests {
    use super::DurableMark;
    use std::sync::Arc;

    #[tokio::test]
    async fn nothing_begun_is_durable_at_once() {
        let (mark, flushed) = DurableMark::new();
        mark.until_seen_is_durable().await.unwrap();
        let first = mark.next_commit();
        flushed.through(first);
        mark.until_seen_is_durable().await.unwrap();
    }

    #[tokio::test]
    async fn a_reader_waits_for_the_flush_of_every_batch_begun_before_it() {
        let (mark, flushed) = DurableMark::new();
        let mark = Arc::new(mark);
        let (first, second) = (mark.next_commit(), mark.next_commit());
        assert_eq!((first, second), (1, 2));
        let waiting = tokio::spawn({
            let mark = mark.clone();
            async move { mark.until_seen_is_durable().await }
        });
        flushed.through(first);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "batch 2 is not flushed yet");
        // A batch begun after the read is not waited for.
        let third = mark.next_commit();
        flushed.through(second);
        waiting.await.unwrap().unwrap();
        assert_eq!(third, 3);
    }

    #[tokio::test]
    async fn a_late_flush_report_never_moves_the_mark_back() {
        let (mark, flushed) = DurableMark::new();
        let (first, second) = (mark.next_commit(), mark.next_commit());
        flushed.through(second);
        flushed.through(first);
        assert_eq!(*mark.flushed.borrow(), 2);
    }

    #[tokio::test]
    async fn a_reader_gets_an_error_not_a_hang_once_the_flusher_is_gone() {
        let (mark, flushed) = DurableMark::new();
        mark.next_commit();
        drop(flushed);
        let err = mark.until_seen_is_durable().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "internal error: the WAL flusher has stopped"
        );
    }
}
