//! Lists as CSV: every list answers `Accept: text/csv` or `?format=csv` with the same rows
//! its JSON pages hold, one CSV row each, streamed from one read snapshot so an export of
//! any size runs in constant memory. Without `limit` the whole filtered list comes out.

use std::sync::Arc;

use bytes::Bytes;
use poem::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use super::documents::{inert, preferred, CsvFile, Format};
use super::AppState;
use crate::db::conn::Conn;
use crate::error::AppError;

/// How many bytes of CSV are sent at a time.
const PIECE: usize = 64 * 1024;

/// How long a client may take to read the next piece before its export is abandoned
/// (which frees the connection and the thread it holds).
const STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The record that ends an export the server could not finish: one field where every other
/// record has several, so a strict CSV reader fails on it and a person reads why.
const FAILED: &str = "EXPORT FAILED: the server could not read the rest of the list and this file is incomplete: retry the request";

/// How a list is asked for: `json` (pages) or `csv` (an export).
#[derive(poem_openapi::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub(crate) enum ListFormat {
    Json,
    Csv,
}

/// Whether a list request wants CSV: `?format=` first, else `Accept`.
pub(crate) fn wants_csv(format: Option<ListFormat>, headers: &HeaderMap) -> bool {
    match format {
        Some(format) => format == ListFormat::Csv,
        None => preferred(headers, &[Format::Json, Format::Csv]) == Format::Csv,
    }
}

/// One JSON value as a CSV cell: text as itself (made inert when a spreadsheet would run
/// it), numbers and booleans as JSON writes them, null as empty, nested values as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => inert(text),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => inert(&value.to_string()),
    }
}

/// The `columns` of `value`'s JSON answer, as CSV cells.
pub(crate) fn cells<T: Serialize>(value: &T, columns: &[&str]) -> Vec<String> {
    let json = serde_json::to_value(value).unwrap_or_default();
    columns
        .iter()
        .map(|column| json.get(column).map(cell).unwrap_or_default())
        .collect()
}

/// Bytes of CSV sent on in pieces of `PIECE`, waiting while the client is slow (the
/// channel is bounded) and failing once it has gone.
struct Pieces {
    piece: Vec<u8>,
    sender: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
}

impl Pieces {
    /// Hands the piece on, waiting for a slow client up to [`STALL_LIMIT`].
    fn send(&mut self) -> std::io::Result<()> {
        use tokio::sync::mpsc::error::TrySendError;
        if self.piece.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(PIECE));
        let mut waiting = Ok(Bytes::from(piece));
        let started = std::time::Instant::now();
        loop {
            match self.sender.try_send(waiting) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(_)) => {
                    return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
                }
                Err(TrySendError::Full(again)) if started.elapsed() < STALL_LIMIT => {
                    waiting = again;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(TrySendError::Full(_)) => {
                    return Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
                }
            }
        }
    }
}

impl std::io::Write for Pieces {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.piece.extend_from_slice(bytes);
        if self.piece.len() >= PIECE {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// A row handed to an export; answers false once the client has gone.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(Vec<String>) -> bool;

/// A list's CSV download: each row `each` reads, as its JSON answer `to_answer` makes
/// it, in `columns` (streamed as [`stream`] does).
pub(crate) fn rows<R, A, E>(
    state: &Arc<AppState>,
    (file_name, columns): (&'static str, &'static [&'static str]),
    to_answer: impl Fn(R) -> A + Send + 'static,
    each: E,
) -> CsvFile
where
    A: Serialize,
    E: FnOnce(&Conn, &mut dyn FnMut(R) -> bool) -> Result<(), AppError> + Send + 'static,
{
    stream(state, file_name.into(), columns, move |conn, sink| {
        each(conn, &mut |row| sink(cells(&to_answer(row), columns)))
    })
}

/// `header`, then the rows `produce` hands on, as a CSV download streamed while a
/// blocking thread reads them (two exports at a time; more wait their turn). A failure
/// part way ends the file with the one-field record [`FAILED`], so it cannot pass for a
/// complete one; a client that stops reading for [`STALL_LIMIT`] loses its export.
pub(crate) fn stream<F>(
    state: &Arc<AppState>,
    file_name: String,
    header: &'static [&'static str],
    produce: F,
) -> CsvFile
where
    F: FnOnce(&Conn, Sink<'_>) -> Result<(), AppError> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let state = Arc::clone(state);
    tokio::spawn(async move {
        // Waiting here holds no connection and no thread.
        let Ok(_turn) = Arc::clone(&state.exports).acquire_owned().await else {
            return;
        };
        let failures = sender.clone();
        let written = state
            .db
            .read(move |conn| {
                let pieces = Pieces {
                    piece: Vec::with_capacity(PIECE),
                    sender,
                };
                let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(pieces);
                let mut open = writer.write_record(header).is_ok();
                let produced = produce(conn, &mut |row| {
                    open = open && writer.write_record(&row).is_ok();
                    open
                });
                if produced.is_err() && open {
                    let _ = writer.write_record([FAILED]);
                }
                // A client that left or stalled is not a failure of the export.
                let _ = writer.flush();
                produced
            })
            .await;
        if let Err(error) = written {
            tracing::error!(%error, "CSV export failed part way");
            let _ = failures
                .send(Err(std::io::Error::other("export failed")))
                .await;
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    CsvFile::streamed(file_name, poem::Body::from_bytes_stream(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_stay_numbers_and_text_is_made_inert() {
        let row = serde_json::json!({
            "amount": "-12.50", "id": 7, "name": "=cmd|' /C calc'!A0", "ok": true,
            "none": null, "note": "-2+3", "plain": "Acme"
        });
        let columns = [
            "id", "amount", "name", "ok", "none", "note", "plain", "missing",
        ];
        assert_eq!(
            cells(&row, &columns),
            [
                "7",
                "-12.50",
                "'=cmd|' /C calc'!A0",
                "true",
                "",
                "'-2+3",
                "Acme",
                ""
            ]
        );
    }
}
