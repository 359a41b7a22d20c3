//! Lists: the `limit`/`offset` bounds every list takes.

/// `limit` (1–500, default 50) and `offset` (≥ 0, default 0); bad values go to `errors`.
pub(crate) fn page_bounds(
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

/// Declares a list answer: one page of `$item`s, the filtered total, and the bounds used.
/// `$total_doc` documents `total` in the spec.
macro_rules! list_answer {
    ($name:ident of $item:ty, $total_doc:tt) => {
        #[derive(poem_openapi::Object, Debug, Clone, serde::Serialize)]
        pub(crate) struct $name {
            pub items: Vec<$item>,
            #[doc = $total_doc]
            pub total: i64,
            pub limit: i64,
            pub offset: i64,
        }

        impl $name {
            /// The page's rows as answer items.
            pub(crate) fn from_page<T>(
                page: $crate::db::paging::Page<T>,
                to_item: impl FnMut(T) -> $item,
            ) -> Self {
                $name {
                    items: page.items.into_iter().map(to_item).collect(),
                    total: page.total,
                    limit: page.limit,
                    offset: page.offset,
                }
            }
        }
    };
}
pub(crate) use list_answer;
