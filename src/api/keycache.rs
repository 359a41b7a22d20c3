//! Live API keys by hash, so authenticating a request does not touch the database.
//!
//! Revocation through the API clears the cache before it answers. A revocation made by
//! another process (`arvalox keys revoke` against a running server) is seen by
//! [`watch_revocations`] within its polling interval.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use std::sync::Arc;

use super::auth::AuthContext;
use crate::db::Db;

/// Distinct keys remembered at most; the cache starts over when full.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    live: Mutex<Entries>,
}

/// The cached keys and how many times the cache was cleared: a record read from the
/// database before a clear may describe a key revoked since, so it is not kept.
#[derive(Default)]
struct Entries {
    keys: HashMap<String, Arc<AuthContext>>,
    generation: u64,
}

impl KeyCache {
    fn table(&self) -> MutexGuard<'_, Entries> {
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached key, or the generation to pass to `insert` after reading the database.
    pub fn get(&self, hash: &str) -> Result<Arc<AuthContext>, u64> {
        let table = self.table();
        table.keys.get(hash).cloned().ok_or(table.generation)
    }

    /// Keeps `key`, read at `generation`, unless the cache was cleared since.
    pub fn insert(&self, hash: String, key: Arc<AuthContext>, generation: u64) {
        let mut table = self.table();
        if table.generation != generation {
            return;
        }
        if table.keys.len() >= CAPACITY {
            table.keys.clear();
        }
        table.keys.insert(hash, key);
    }

    pub fn clear(&self) {
        let mut table = self.table();
        table.keys.clear();
        table.generation += 1;
    }
}

/// How often another process's revocations are looked for.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Clears `cache` whenever the set of revoked keys changes. Runs until the task is dropped.
pub async fn watch_revocations(db: Db, cache: std::sync::Arc<KeyCache>) {
    let mut last = None;
    loop {
        tokio::time::sleep(WATCH_INTERVAL).await;
        let seen = db.read(crate::db::keys::revocation_marker).await.ok();
        // The first reading clears too: a key revoked before it may already be cached.
        if seen.is_some() && seen != last {
            cache.clear();
            last = seen;
        }
    }
}
