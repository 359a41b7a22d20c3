//! `/v1/admin`: operations on the whole book, for admin keys. A backup is written only into
//! the directory the server was started with (`--backup-dir`), under a name of the
//! server's choosing: a request never names a path.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::error::WriteError;
use super::journal::Trail;
use super::{AppState, Done, Post, Tag};
use crate::error::AppError;

/// A backup written and checked: SQLite's integrity and foreign keys, this binary's
/// migrations, each organization's journal, every row against its latest event, the books.
#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct BackupTaken {
    /// The file's name in the server's `--backup-dir`.
    pub file: String,
    pub bytes: i64,
    /// The book's migrations: a backup restores into a binary that knows as many.
    pub schema_version: i64,
    /// When the copy's snapshot was taken (UTC).
    pub taken_at: String,
    /// Each organization's journal as the copy holds it: events and head hash.
    pub organizations: Vec<String>,
}

impl poem_openapi::types::Example for BackupTaken {
    fn example() -> Self {
        BackupTaken {
            file: "arvalox-20261201T031500.123Z.db".into(),
            bytes: 48_234_496,
            schema_version: crate::db::schema_version(),
            taken_at: "2026-12-01T03:15:00.123Z".into(),
            organizations: vec![
                "organization 'default': 218845 events, head event 218845, hash 6dd3f319…".into(),
            ],
        }
    }
}

#[derive(Default)]
pub(crate) struct AdminApi;

#[OpenApi(tag = "Tag::Admin")]
impl AdminApi {
    /// Back up the book
    ///
    /// An online copy of the whole book (every organization), taken from one read snapshot while writes go on, checked before it is kept, and written into the server's `--backup-dir` as `arvalox-{time}.db`. A server started without `--backup-dir` answers 409. Admin keys only.
    #[oai(
        path = "/v1/admin/backup",
        method = "post",
        operation_id = "create_backup"
    )]
    async fn backup(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key answers the first backup and takes no second one.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Done<BackupTaken>, WriteError> {
        let key = (idempotency_key.0, None);
        let trail = Trail::checked((&auth, &state), "create_backup", key)?;
        let dir = state.backup_dir.clone().ok_or_else(|| {
            AppError::conflict("This server keeps no backups: start it with --backup-dir DIR (or ARVALOX_BACKUP_DIR).")
        })?;
        let post = Post::new(&trail, "/v1/admin/backup", String::new());
        if let Some(first) = post.replay(&state).await? {
            return Ok(first);
        }
        let taken = take_backup(&state, &dir).await;
        crate::metrics::backup("api", taken.is_ok());
        let mut taken = taken?;
        rotate_after(&state, &dir);
        // The book holds every organization; the answer speaks only of the caller's.
        let own = format!("organization '{}':", auth.context().organization);
        taken.organizations.retain(|line| line.starts_with(&own));
        // Stored under the key (if any) for a retry to replay.
        Ok(post.run(&state, move |_, _| Ok((taken, None))).await?)
    }
}

/// `arvalox-{stamp}.db`, or `arvalox-{stamp}-2.db`… when two backups share a millisecond.
fn free_name(dir: &std::path::Path, stamp: &str) -> String {
    (1..)
        .map(|n| match n {
            1 => format!("arvalox-{stamp}.db"),
            n => format!("arvalox-{stamp}-{n}.db"),
        })
        .find(|name| !dir.join(name).exists())
        .unwrap_or_default()
}

/// One backup into `dir`, named by the server's clock, taking a report's turn: the route's
/// and the schedule's.
async fn take_backup(state: &AppState, dir: &std::path::Path) -> Result<BackupTaken, AppError> {
    // One at a time: a name is free only until its copy is written, and two copies in one
    // millisecond would otherwise take the same one (found in review: 409s and 500s).
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let taken_at = state.now_text();
    let file = free_name(dir, &taken_at.replace([':', '-'], ""));
    let Some(book) = state.db.file() else {
        return Err(AppError::conflict(
            "This book is on PostgreSQL, which Arvalox does not copy: back it up with \
             pg_dump or your provider's backups.",
        ));
    };
    let (from, out) = (book.to_path_buf(), dir.join(&file));
    let today = crate::clock::today_in(state.clock.as_ref(), None);
    // A copy reads the whole book: it takes a report's turn.
    let _permit = state.report_permit().await?;
    let done = tokio::task::spawn_blocking(move || crate::ops::backup(&from, &out, false, today))
        .await
        .map_err(|err| AppError::Internal(format!("backup: {err}")))??;
    tracing::info!(file = %done.file.display(), bytes = done.bytes, "backup written and checked");
    Ok(BackupTaken {
        file,
        bytes: i64::try_from(done.bytes).unwrap_or(i64::MAX),
        schema_version: done.schema_version,
        taken_at,
        organizations: done.organizations,
    })
}

/// Removes all but the newest `--backup-keep` of the directory's backups, logging each.
fn rotate_after(state: &AppState, dir: &std::path::Path) {
    let Some(book) = state.db.file() else {
        return;
    };
    match crate::ops::rotate(dir, state.backup_keep, book) {
        Ok(gone) => gone.iter().for_each(|path| {
            tracing::info!(file = %path.display(), keep = state.backup_keep, "old backup removed");
        }),
        Err(err) => tracing::error!(error = %err, "backup rotation failed"),
    }
}

/// A scheduled backup: taken, then the directory rotated. Failures are logged (and the
/// next one is tried on time): the server goes on.
pub async fn scheduled_backup(state: &AppState) {
    let Some(dir) = state.backup_dir.clone() else {
        return;
    };
    let taken = take_backup(state, &dir).await;
    crate::metrics::backup("scheduled", taken.is_ok());
    match taken {
        Ok(_) => rotate_after(state, &dir),
        Err(err) => tracing::error!(error = %err, "scheduled backup failed"),
    }
}

/// Takes a backup every `every` until the server stops.
pub fn spawn_scheduled_backups(state: std::sync::Arc<AppState>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut closing = state.closing.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => scheduled_backup(&state).await,
                _ = closing.changed() => return,
            }
        }
    });
}
