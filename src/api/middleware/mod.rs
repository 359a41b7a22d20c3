//! Cross-cutting HTTP layers, one file each: the access log (`access_log`), the header and
//! body limits (`limits`), what each route takes (`routes`: `Allow` on 405, unknown query
//! parameters), and how answer text is written (`answer_text`), and the request's id (`request_id`). The `Idempotency-Key`
//! check is in `api::idempotency`, the per-key rate limit in `api::rate_limit`, the 403 of
//! a key out of its scope in `api::scopes`, and the order they all run in is `api::app`.

mod access_log;
mod answer_text;
mod limits;
mod request_id;
mod routes;

pub(crate) use access_log::access_log;
pub(crate) use answer_text::{
    bytes_in_pieces, panic_response, pieces_answer, text_answer, PieceSource, WrittenAnswer,
    ANSWER_PIECE,
};
pub(crate) use limits::{limit_body, limit_headers, refuse_after_body, BODY_LIMIT};
pub(crate) use request_id::{current_request_id, request_id};
pub(crate) use routes::{allow_header, refuse_unknown_query, RouteTable};
