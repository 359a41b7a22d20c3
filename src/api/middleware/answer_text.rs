//! Writing an answer's text: long answers in pieces, and a panic as a JSON 500.

use poem::http::header;
use poem::Response;

use crate::api::error::render;
use crate::error::AppError;

/// A panic in a handler answers that request alone with a JSON 500.
pub(crate) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    render(&AppError::Internal("a handler panicked".into()))
}

/// Answers longer than this are handed to the HTTP layer in pieces of this size.
pub(crate) const ANSWER_PIECE: usize = 16 * 1024;

/// An answer of `text`. poem's connections do not offer vectored writes, so hyper
/// copies each body into a per-connection write buffer that keeps its largest size for the
/// connection's life: sixty-four keep-alive clients of a 1.6 MB aging report held about
/// 75 MB. Long answers therefore go out in [`ANSWER_PIECE`] pieces, pausing after each one
/// so hyper writes it to the socket before taking the next; the buffer stays one piece.
pub(crate) fn text_answer(content_type: &'static str, text: String) -> Response {
    if text.len() <= ANSWER_PIECE {
        return Response::builder().content_type(content_type).body(text);
    }
    Response::builder()
        .content_type(content_type)
        // A streamed body has no size of its own; the header keeps the answer length-framed.
        .header(header::CONTENT_LENGTH, text.len())
        .body(poem::Body::from_bytes_stream(Pieces {
            rest: bytes::Bytes::from(text),
            pause: false,
        }))
}

/// A text's pieces, yielding to the connection between two of them.
struct Pieces {
    rest: bytes::Bytes,
    pause: bool,
}

impl futures_util::Stream for Pieces {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        if self.pause {
            // Pending ends hyper's buffering loop, so it flushes what it holds; the wake
            // brings it straight back for the next piece.
            self.pause = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pause = true;
        let size = ANSWER_PIECE.min(self.rest.len());
        Poll::Ready(Some(Ok(self.rest.split_to(size))))
    }
}
