//! What a storage call can fail with, whatever the engine.

/// A failed storage call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A query that must answer a row answered none.
    #[error("the query answered no rows")]
    NoRows,
    /// A stored value this binary cannot read, named by its column and row.
    #[error("column {column}: {what}")]
    Unreadable { column: usize, what: String },
    /// A statement the storage layer itself got wrong (a parameter it did not give).
    #[error("{0}")]
    Misused(String),
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NoRows,
            other => StoreError::Sqlite(other),
        }
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(err: rusqlite::types::FromSqlError) -> Self {
        StoreError::Sqlite(err.into())
    }
}

/// Turns "no rows" into `None`, for lookups that may find nothing.
pub trait OptionalExtension<T> {
    fn optional(self) -> StoreResult<Option<T>>;
}

impl<T> OptionalExtension<T> for StoreResult<T> {
    fn optional(self) -> StoreResult<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(StoreError::NoRows) => Ok(None),
            Err(err) => Err(err),
        }
    }
}
