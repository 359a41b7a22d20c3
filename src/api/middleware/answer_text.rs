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
/// `text` may be a `Bytes` shared by every answer that sends it (the spec, the docs page):
/// then no answer copies it.
pub(crate) fn text_answer(content_type: &'static str, text: impl Into<bytes::Bytes>) -> Response {
    let text: bytes::Bytes = text.into();
    if text.len() <= ANSWER_PIECE {
        return Response::builder().content_type(content_type).body(text);
    }
    let length = text.len();
    pieces_answer(
        content_type,
        WrittenAnswer {
            length,
            source: Box::new(TextPieces(text)),
        },
    )
}

/// Where an answer written piece by piece gets its next piece; `None` once all is given.
pub(crate) trait PieceSource: Send + 'static {
    fn next_piece(&mut self) -> Option<bytes::Bytes>;
}

/// An answer written as it is sent: `length` bytes in all, the pieces of `source`. Only
/// one piece is held at a time, so a long report need not be held whole.
pub(crate) struct WrittenAnswer {
    pub(crate) length: usize,
    pub(crate) source: Box<dyn PieceSource>,
}

/// The answer of `written`, length-framed, one piece at a time.
pub(crate) fn pieces_answer(content_type: &'static str, written: WrittenAnswer) -> Response {
    Response::builder()
        .content_type(content_type)
        // A streamed body has no size of its own; the header keeps the answer length-framed.
        .header(header::CONTENT_LENGTH, written.length)
        .body(pieces_body(written.source))
}

/// A body of `bytes` handed to the HTTP layer in [`ANSWER_PIECE`] pieces (see
/// [`text_answer`]); the caller sets `Content-Length`.
pub(crate) fn bytes_in_pieces(bytes: bytes::Bytes) -> poem::Body {
    pieces_body(Box::new(TextPieces(bytes)))
}

fn pieces_body(source: Box<dyn PieceSource>) -> poem::Body {
    poem::Body::from_bytes_stream(Pieces {
        source,
        pause: false,
    })
}

/// A text already written, cut into [`ANSWER_PIECE`] pieces.
struct TextPieces(bytes::Bytes);

impl PieceSource for TextPieces {
    fn next_piece(&mut self) -> Option<bytes::Bytes> {
        let size = ANSWER_PIECE.min(self.0.len());
        (size > 0).then(|| self.0.split_to(size))
    }
}

/// An answer's pieces, yielding to the connection between two of them.
struct Pieces {
    source: Box<dyn PieceSource>,
    pause: bool,
}

impl futures_util::Stream for Pieces {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.pause {
            // Pending ends hyper's buffering loop, so it flushes what it holds; the wake
            // brings it straight back for the next piece.
            self.pause = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pause = true;
        Poll::Ready(self.source.next_piece().map(Ok))
    }
}
