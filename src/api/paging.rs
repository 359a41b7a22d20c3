//! Lists: the `limit`/`offset` bounds every list takes.

/// `limit` (1–500, default 50) and `offset` (≥ 0, default 0); bad values go to `errors`.
pub fn page_bounds(
    limit: Option<i64>,
    offset: Option<i64>,
    errors: &mut crate::error::FieldErrorsBuilder,
) -> (i64, i64) {
    let limit = limit.unwrap_or(50);
    let offset = offset.unwrap_or(0);
    if !(1..=500).contains(&limit) {
        errors.add("limit", format!("must be between 1 and 500 (got {limit})"));
    }
    if offset < 0 {
        errors.add("offset", format!("must be 0 or more (got {offset})"));
    }
    (limit, offset)
}
