//! Answers that are files (a PDF), and the choice between JSON and a file by the request's
//! `Accept` header.

use poem::http::header::{self, HeaderMap};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::ApiResponse;

use super::answer::{required_header, One};
use crate::documents::layout::Paper;
use crate::error::AppError;

pub(crate) const PDF: &str = "application/pdf";
pub(crate) const CSV: &str = "text/csv; charset=utf-8";

/// A form an answer can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Pdf,
    Csv,
}

/// The form a client prefers among `offered` (the first is the default), by its `Accept`
/// header: by quality, then by order. A media type not offered is passed over; `*/*`,
/// `application/*`, no header or nothing offered gives the default, as before files existed.
pub(crate) fn preferred(headers: &HeaderMap, offered: &[Format]) -> Format {
    let default = offered.first().copied().unwrap_or(Format::Json);
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return default;
    };
    let mut best: Option<(u16, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map(|(_, value)| value.trim())
            .and_then(|q| q.parse::<f32>().ok())
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
        let format = match media.as_str() {
            "application/pdf" => Format::Pdf,
            "text/csv" => Format::Csv,
            "application/json" | "application/*" | "*/*" => default,
            _ => continue,
        };
        if !offered.contains(&format) {
            continue;
        }
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, format));
        }
    }
    best.map_or(default, |(_, format)| format)
}

/// Whether the client prefers a PDF to JSON.
pub(crate) fn wants_pdf(headers: &HeaderMap) -> bool {
    preferred(headers, &[Format::Json, Format::Pdf]) == Format::Pdf
}

/// Lays a document out on a blocking thread, two at a time (they share the report
/// builds' turns): a long statement takes tens of milliseconds of CPU, which on the async
/// workers would hold up every other request.
pub(crate) async fn render(
    state: &super::AppState,
    layout: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
) -> Result<Result<Vec<u8>, String>, AppError> {
    let _turn = state.report_permit().await?;
    tokio::task::spawn_blocking(layout)
        .await
        .map_err(|e| AppError::Internal(format!("PDF layout: {e}")))
}

/// A PDF answer, shown inline with a file name for saving.
pub(crate) struct PdfFile {
    pub(crate) file_name: String,
    pub(crate) bytes: Vec<u8>,
}

impl PdfFile {
    /// `rendered` (a document layout's result) as an answer; a layout failure is ours.
    pub(crate) fn of(
        file_name: String,
        rendered: Result<Vec<u8>, String>,
    ) -> Result<Self, AppError> {
        let bytes = rendered.map_err(|e| AppError::Internal(format!("PDF layout: {e}")))?;
        Ok(PdfFile { file_name, bytes })
    }
}

impl IntoResponse for PdfFile {
    fn into_response(self) -> Response {
        // File names come from document numbers: keep them to characters a header can carry.
        let name: String = self
            .file_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Response::builder()
            .content_type(PDF)
            .header(
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            )
            .body(self.bytes)
    }
}

/// File names come from document numbers: kept to characters a header can carry.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn pdf_media() -> MetaMediaType {
    MetaMediaType {
        content_type: PDF,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary"))),
    }
}

fn disposition_header() -> poem_openapi::registry::MetaHeader {
    required_header::<String>(
        "Content-Disposition",
        "`inline` (a PDF) or `attachment` (CSV), with the file name to save it under.",
    )
}

impl ApiResponse for PdfFile {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The PDF.",
                status: Some(200),
                status_range: None,
                content: vec![pdf_media()],
                headers: vec![disposition_header()],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

/// A CSV answer (RFC 4180, a header row first), offered for download.
pub(crate) struct CsvFile {
    file_name: String,
    body: poem::Body,
    /// The body's length when it is sent in pieces (a long CSV written whole).
    length: Option<usize>,
}

impl CsvFile {
    /// `header`, then `rows`, written as CSV.
    pub(crate) fn of<R>(file_name: String, header: &[&str], rows: R) -> Result<Self, AppError>
    where
        R: IntoIterator<Item = Vec<String>>,
    {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| AppError::Internal(format!("CSV: {e}"));
        writer.write_record(header).map_err(failed)?;
        for row in rows {
            writer.write_record(&row).map_err(failed)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| AppError::Internal(format!("CSV: {e}")))?;
        if bytes.len() <= crate::api::middleware::ANSWER_PIECE {
            let (body, length) = (bytes.into(), None);
            return Ok(CsvFile {
                file_name,
                body,
                length,
            });
        }
        // In pieces, as a long JSON answer is (see `text_answer`).
        let length = Some(bytes.len());
        let body = crate::api::middleware::bytes_in_pieces(bytes.into());
        Ok(CsvFile {
            file_name,
            body,
            length,
        })
    }

    /// A CSV body written while it is sent (see `api::export`).
    pub(crate) fn streamed(file_name: String, body: poem::Body) -> Self {
        CsvFile {
            file_name,
            body,
            length: None,
        }
    }
}

/// A text cell made safe for spreadsheets (see `domain::text::spreadsheet_safe`).
pub(crate) fn inert(text: &str) -> String {
    crate::domain::text::spreadsheet_safe(text)
}

impl IntoResponse for CsvFile {
    fn into_response(self) -> Response {
        let mut response = Response::builder().content_type(CSV).header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", safe_name(&self.file_name)),
        );
        if let Some(length) = self.length {
            // A body in pieces has no size of its own: the header keeps it length-framed.
            response = response.header(header::CONTENT_LENGTH, length);
        }
        response.body(self.body)
    }
}

fn csv_media() -> MetaMediaType {
    MetaMediaType {
        content_type: CSV,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
    }
}

/// One answer in the form the client asked for: JSON (`J`, the usual answer type), a PDF
/// when `PDF`, CSV when `CSV`.
pub(crate) enum Answer<J, const PDF: bool, const CSV: bool> {
    Json(J),
    Pdf(PdfFile),
    Csv(CsvFile),
}

/// One resource as JSON (with its `ETag`), or as a PDF when `Accept` asks for one.
pub(crate) type OneOrPdf<T> = Answer<One<T>, true, false>;

impl<J: IntoResponse, const PDF: bool, const CSV: bool> IntoResponse for Answer<J, PDF, CSV> {
    fn into_response(self) -> Response {
        let mut response = match self {
            Answer::Json(json) => json.into_response(),
            Answer::Pdf(file) => file.into_response(),
            Answer::Csv(file) => file.into_response(),
        };
        // The form depends on the request's Accept: a cache must key on it.
        response
            .headers_mut()
            .append(header::VARY, poem::http::HeaderValue::from_static("Accept"));
        response
    }
}

impl<J: ApiResponse, const PDF: bool, const CSV: bool> ApiResponse for Answer<J, PDF, CSV> {
    fn meta() -> MetaResponses {
        let mut meta = J::meta();
        for response in meta.responses.iter_mut().filter(|r| r.status == Some(200)) {
            response.description = match (PDF, CSV) {
                (true, false) => "OK: JSON, or the PDF when `Accept` prefers `application/pdf` (then `Content-Disposition` instead of `ETag`).",
                (false, true) => "OK: JSON, or CSV when `Accept` prefers `text/csv` or `?format=csv` asks (then with `Content-Disposition`).",
                _ => "OK: JSON, or the PDF or CSV that `Accept` prefers or `?format=` asks for (then with `Content-Disposition`).",
            };
            if PDF {
                response.content.push(pdf_media());
            }
            if CSV {
                response.content.push(csv_media());
            }
            // Each header belongs to some of the forms only.
            for header in &mut response.headers {
                header.required = false;
            }
            let mut disposition = disposition_header();
            disposition.required = false;
            response.headers.push(disposition);
            response.headers.push(required_header::<String>(
                "Vary",
                "`Accept`: the answer's form depends on it.",
            ));
        }
        meta
    }

    fn register(registry: &mut Registry) {
        J::register(registry);
    }
}

/// The paper a PDF is laid out for: the request's, else the organization's.
pub(crate) fn paper_or(asked: Option<super::types::PaperSize>, organization: Paper) -> Paper {
    asked.map_or(organization, Paper::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn pdf_only_when_preferred() {
        assert!(wants_pdf(&accept("application/pdf")));
        assert!(wants_pdf(&accept(
            "application/json;q=0.5, application/pdf"
        )));
        assert!(!wants_pdf(&accept("application/json, application/pdf")));
        assert!(!wants_pdf(&accept("application/pdf;q=0, */*")));
        assert!(!wants_pdf(&accept("*/*")));
        assert!(!wants_pdf(&accept("text/html")));
        assert!(!wants_pdf(&accept(
            "application/pdf; Q=0.1, application/json;q=0.5"
        )));
        assert!(!wants_pdf(&HeaderMap::new()));
    }

    #[test]
    fn a_format_not_offered_is_passed_over() {
        let all = [Format::Json, Format::Pdf, Format::Csv];
        assert_eq!(preferred(&accept("text/csv"), &all), Format::Csv);
        assert_eq!(
            preferred(&accept("text/csv"), &[Format::Json, Format::Pdf]),
            Format::Json
        );
        assert_eq!(
            preferred(&accept("application/pdf;q=0.4, text/csv;q=0.5"), &all),
            Format::Csv
        );
    }

    #[test]
    fn formulas_are_made_inert() {
        for hostile in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(hostile), format!("'{hostile}"));
        }
        assert_eq!(inert("Acme = good"), "Acme = good");
    }
}
