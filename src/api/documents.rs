//! Answers that are files (a PDF), and the choice between JSON and a file by the request's
//! `Accept` header.

use poem::http::header::{self, HeaderMap};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;

use super::answer::{required_header, One};
use crate::documents::layout::Paper;
use crate::error::AppError;

pub(crate) const PDF: &str = "application/pdf";

/// What a client asked for in `Accept`: a PDF only when it names `application/pdf` and
/// prefers it to JSON (by quality, then by order). Anything else, or no header, is JSON, as
/// before PDFs existed.
pub(crate) fn wants_pdf(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut best: Option<(u16, bool)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
        let pdf = match media.as_str() {
            PDF => true,
            "application/json" | "application/*" | "*/*" => false,
            _ => continue,
        };
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, pdf));
        }
    }
    best.is_some_and(|(_, pdf)| pdf)
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

fn pdf_media() -> MetaMediaType {
    MetaMediaType {
        content_type: PDF,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary"))),
    }
}

fn disposition_header() -> poem_openapi::registry::MetaHeader {
    required_header::<String>(
        "Content-Disposition",
        "`inline`, with the file name to save it under (the document's number).",
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

/// One resource as JSON (with its `ETag`), or as a PDF when `Accept` asks for one.
pub(crate) enum OneOrPdf<T> {
    Json(One<T>),
    Pdf(PdfFile),
}

impl<T: Send> IntoResponse for OneOrPdf<T> {
    fn into_response(self) -> Response {
        match self {
            OneOrPdf::Json(one) => one.into_response(),
            OneOrPdf::Pdf(file) => file.into_response(),
        }
    }
}

impl<T: Type + Send> ApiResponse for OneOrPdf<T> {
    fn meta() -> MetaResponses {
        let mut meta = One::<T>::meta();
        for response in &mut meta.responses {
            response.description = "OK: JSON, or the PDF when `Accept` prefers `application/pdf` (then `Content-Disposition` instead of `ETag`).";
            response.content.push(pdf_media());
            // Each header belongs to one of the two forms.
            for header in &mut response.headers {
                header.required = false;
            }
            let mut disposition = disposition_header();
            disposition.required = false;
            response.headers.push(disposition);
        }
        meta
    }

    fn register(registry: &mut Registry) {
        One::<T>::register(registry);
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
        assert!(!wants_pdf(&HeaderMap::new()));
    }
}
