//! SQL written for SQLite, as PostgreSQL takes it.
//!
//! The storage functions write one SQL text for both engines, in the subset both accept
//! (`RETURNING`, `ON CONFLICT`, `TRUE`/`FALSE`, `CAST`). What is left differs only in
//! form, and is rewritten here once per statement:
//! - parameters: SQLite's `?N` and `?` become `$M`, numbered over the ones the text
//!   uses (SQLite lets a statement leave a bound parameter unused; PostgreSQL cannot
//!   type one it never sees), so binding picks [`Translated::positions`] from the list;
//! - `INDEXED BY name`, SQLite's planner hint, is dropped (PostgreSQL plans alone);
//! - `LIKE` becomes `ILIKE`: SQLite's LIKE ignores ASCII case, PostgreSQL's does not;
//! - `json_extract(column, '$.key')` becomes `(CAST(column AS JSON) ->> 'key')`.
//!
//! Quoted text ('...'), quoted names ("...") and comments (/* ... */) are copied as they are.

/// A statement in PostgreSQL's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    pub(crate) sql: String,
    /// For each `$M` in order, the 0-based index of the SQLite parameter it binds.
    pub(crate) positions: Vec<usize>,
}

/// Rewrites `sql` for PostgreSQL.
pub(crate) fn to_postgres(sql: &str) -> Translated {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut positions: Vec<usize> = Vec::new();
    // SQLite numbers a bare `?` one past the largest number given so far.
    let mut largest = 0;
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, inner) in chars.by_ref() {
                    out.push(inner);
                    if inner == c {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|&(_, next)| next == '*') => {
                // A comment is copied as it is: a quote or `?` inside it is only words.
                let end = sql[at + 2..]
                    .find("*/")
                    .map_or(sql.len(), |len| at + 4 + len);
                out.push_str(&sql[at..end]);
                while chars.peek().is_some_and(|&(next, _)| next < end) {
                    chars.next();
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                let number = digits.parse::<usize>().unwrap_or(largest + 1);
                largest = largest.max(number);
                let index = number.saturating_sub(1);
                let dollar = match positions.iter().position(|&p| p == index) {
                    Some(seen) => seen + 1,
                    None => {
                        positions.push(index);
                        positions.len()
                    }
                };
                out.push('$');
                out.push_str(&dollar.to_string());
            }
            c if c.is_ascii_alphabetic() && !ends_word(&out) => {
                let word_end = sql[at..]
                    .find(|w: char| !(w.is_ascii_alphanumeric() || w == '_'))
                    .map_or(sql.len(), |len| at + len);
                let word = &sql[at..word_end];
                for _ in word.chars().skip(1) {
                    chars.next();
                }
                if word.eq_ignore_ascii_case("INDEXED") && skip_index_hint(&mut chars, sql) {
                    trim_trailing_space(&mut out);
                    continue;
                }
                if word.eq_ignore_ascii_case("LIKE") {
                    out.push_str("ILIKE");
                } else {
                    out.push_str(word);
                }
            }
            c => out.push(c),
        }
    }
    Translated {
        sql: json_fields(out),
        positions,
    }
}

/// Rewrites each `json_extract(expression, '$.key')` (a top-level key of a text column
/// holding JSON) as PostgreSQL reads the same field.
fn json_fields(mut sql: String) -> String {
    const CALL: &str = "json_extract(";
    while let Some(start) = sql.find(CALL) {
        let inside = start + CALL.len();
        let Some(comma) = sql[inside..].find(", '$.").map(|at| inside + at) else {
            break;
        };
        let key_start = comma + ", '$.".len();
        let Some(key_end) = sql[key_start..].find("')").map(|at| key_start + at) else {
            break;
        };
        let rewritten = format!(
            "(CAST({} AS JSON) ->> '{}')",
            &sql[inside..comma],
            &sql[key_start..key_end]
        );
        sql.replace_range(start..key_end + 2, &rewritten);
    }
    sql
}

/// Whether the text so far ends inside a word (so a letter continues it).
fn ends_word(out: &str) -> bool {
    out.chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// After `INDEXED`: skips ` BY name` and answers true, or answers false (and skips
/// nothing) when the word was not the hint.
fn skip_index_hint(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, sql: &str) -> bool {
    let Some(&(at, _)) = chars.peek() else {
        return false;
    };
    let rest = &sql[at..];
    let after_space = rest.trim_start();
    let Some(after_by) = after_space
        .get(..2)
        .filter(|by| by.eq_ignore_ascii_case("BY"))
        .map(|_| after_space[2..].trim_start())
    else {
        return false;
    };
    let name_len = after_by
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after_by.len());
    let skip = rest.len() - after_by.len() + name_len;
    let skip_chars = rest[..skip].chars().count();
    for _ in 0..skip_chars {
        chars.next();
    }
    true
}

fn trim_trailing_space(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_copied_whole_and_the_text_after_it_still_rewritten() {
        let translated = to_postgres("SELECT /* it's ?9, LIKE */ a FROM t WHERE b LIKE ?2 /* end");
        assert_eq!(
            translated.sql,
            "SELECT /* it's ?9, LIKE */ a FROM t WHERE b ILIKE $1 /* end"
        );
        assert_eq!(translated.positions, vec![1]);
        assert_eq!(to_postgres("SELECT 4/2, ?1").sql, "SELECT 4/2, $1");
    }

    #[test]
    fn numbered_parameters_are_renumbered_over_the_ones_used() {
        let translated = to_postgres("VALUES (?1, ?3, ?4, ?3)");
        assert_eq!(translated.sql, "VALUES ($1, $2, $3, $2)");
        assert_eq!(translated.positions, vec![0, 2, 3]);
    }

    #[test]
    fn bare_parameters_count_in_order() {
        let translated = to_postgres("a = ? AND b IN (?, ?)");
        assert_eq!(translated.sql, "a = $1 AND b IN ($2, $3)");
        assert_eq!(translated.positions, vec![0, 1, 2]);
    }

    #[test]
    fn a_bare_parameter_follows_the_largest_numbered_one() {
        let translated = to_postgres("SELECT ?1, ?3 WHERE a = ? AND b = ?");
        assert_eq!(translated.sql, "SELECT $1, $2 WHERE a = $3 AND b = $4");
        assert_eq!(translated.positions, vec![0, 2, 3, 4]);
    }

    #[test]
    fn quoted_text_and_names_are_left_alone() {
        let translated = to_postgres("SELECT '?1 like', \"LIKE?\" FROM t WHERE x LIKE ?1");
        assert_eq!(
            translated.sql,
            "SELECT '?1 like', \"LIKE?\" FROM t WHERE x ILIKE $1"
        );
    }

    #[test]
    fn index_hints_are_dropped_and_like_ignores_case() {
        let translated =
            to_postgres("FROM invoices i INDEXED BY invoices_by_due\n WHERE name LIKE ?2");
        assert_eq!(translated.sql, "FROM invoices i\n WHERE name ILIKE $1");
        assert_eq!(translated.positions, vec![1]);
    }

    #[test]
    fn a_json_field_is_read_with_postgresqls_operator() {
        let translated = to_postgres("WHERE json_extract(e.data, '$.status') <> 'draft'");
        assert_eq!(
            translated.sql,
            "WHERE (CAST(e.data AS JSON) ->> 'status') <> 'draft'"
        );
    }

    #[test]
    fn words_containing_the_keywords_are_kept() {
        let translated = to_postgres("SELECT unlike, likely, reindexed, indexed_at FROM t");
        assert_eq!(
            translated.sql,
            "SELECT unlike, likely, reindexed, indexed_at FROM t"
        );
    }
}
