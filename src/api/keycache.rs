//! Live API keys by hash, so authenticating a request does not touch the database.
//!
//! Revocation through the API drops the revoked key before it answers. A revocation made
//! by another process (`arvalox keys revoke` against a running server) is seen by
//! [`watch_revocations`] within its polling interval. Only revoked keys are dropped: a
//! key that stays cached keeps working from an address throttled for failed guesses.

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

/// The cached keys and how many times keys were dropped: a record read from the
/// database before a drop may describe a key revoked since, so it is not kept.
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
    pub(crate) fn get(&self, hash: &str) -> Result<Arc<AuthContext>, u64> {
        let table = self.table();
        table.keys.get(hash).cloned().ok_or(table.generation)
    }

    /// Keeps `key`, read at `generation`, unless keys were dropped since.
    pub(crate) fn insert(&self, hash: String, key: Arc<AuthContext>, generation: u64) {
        let mut table = self.table();
        if table.generation != generation {
            return;
        }
        if table.keys.len() >= CAPACITY {
            table.keys.clear();
        }
        table.keys.insert(hash, key);
    }

    /// Drops every cached key whose id `revoked` names.
    pub(crate) fn forget(&self, revoked: impl Fn(i64) -> bool) {
        let mut table = self.table();
        table.keys.retain(|_, key| !revoked(key.key_id));
        table.generation += 1;
    }
}

/// How often another process's revocations are looked for.
pub(crate) const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Drops revoked keys from `cache` whenever the set of revoked keys changes. Runs until
/// the task is dropped.
pub async fn watch_revocations(db: Db, cache: std::sync::Arc<KeyCache>) {
    let mut last = None;
    loop {
        tokio::time::sleep(WATCH_INTERVAL).await;
        let seen = db.read(crate::db::keys::revocation_marker).await.ok();
        // The first reading counts as a change: a key revoked before it may be cached.
        if seen.is_none() || seen == last {
            continue;
        }
        if let Ok(revoked) = db.read(crate::db::keys::revoked_key_ids).await {
            cache.forget(|id| revoked.contains(&id));
            last = seen;
        }
    }
}
