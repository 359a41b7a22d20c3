//! Live API keys by hash, so authenticating a request does not touch the database.
//!
//! Revocation through the API clears the cache before it answers. A revocation made by
//! another process (`arvalox keys revoke` against a running server) is seen by
//! [`watch_revocations`] within its polling interval.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::db::keys::KeyRecord;
use crate::db::Db;

/// Distinct keys remembered at most; the cache starts over when full.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    live: Mutex<HashMap<String, KeyRecord>>,
}

impl KeyCache {
    fn table(&self) -> MutexGuard<'_, HashMap<String, KeyRecord>> {
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, hash: &str) -> Option<KeyRecord> {
        self.table().get(hash).cloned()
    }

    pub fn insert(&self, hash: String, key: KeyRecord) {
        let mut table = self.table();
        if table.len() >= CAPACITY {
            table.clear();
        }
        table.insert(hash, key);
    }

    pub fn clear(&self) {
        self.table().clear();
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
