//! Values between the shared model (SQLite's storage classes) and PostgreSQL's types.
//!
//! A parameter is converted to the type PostgreSQL inferred for its place (an integer
//! bound to a BOOLEAN column is a boolean, a decimal's text bound to NUMERIC a number),
//! and a column is read back into the class SQLite would have stored it in: integers and
//! booleans as integers, NUMERIC as its decimal text (scale kept: '1.50' stays '1.50').

use std::error::Error;
use std::str::FromStr;

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql as PgToSql, Type};

use super::value::{ToSql, Value};
use super::{StoreError, StoreResult};

type BoxError = Box<dyn Error + Sync + Send>;

/// One parameter, as the shared model holds it.
#[derive(Debug)]
pub(super) struct PgParam(pub(super) Value);

impl PgParam {
    pub(super) fn from_sql_value(value: &dyn ToSql) -> StoreResult<PgParam> {
        Ok(PgParam(owned(value)?))
    }
}

/// `value` as the shared model holds it.
pub(super) fn owned(value: &dyn ToSql) -> StoreResult<Value> {
    use rusqlite::types::ToSqlOutput;
    match value.to_sql()? {
        ToSqlOutput::Borrowed(borrowed) => Ok(owned_value(borrowed)),
        ToSqlOutput::Owned(owned) => Ok(owned),
        _ => Err(StoreError::Misused(
            "a parameter of a kind PostgreSQL cannot take".into(),
        )),
    }
}

impl PgToSql for PgParam {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(number) => integer_to_sql(*number, ty, out),
            Value::Real(number) => match *ty {
                Type::FLOAT4 => put(*number as f32, ty, out),
                Type::FLOAT8 => put(*number, ty, out),
                _ => put(Decimal::try_from(*number)?, ty, out),
            },
            Value::Text(text) => text_to_sql(text, ty, out),
            Value::Blob(bytes) => put(bytes.as_slice(), ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn integer_to_sql(number: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT8 => put(number, ty, out),
        Type::INT4 => put(i32::try_from(number)?, ty, out),
        Type::INT2 => put(i16::try_from(number)?, ty, out),
        Type::BOOL => put(number != 0, ty, out),
        Type::NUMERIC => put(Decimal::from(number), ty, out),
        Type::FLOAT8 => put(number as f64, ty, out),
        _ => put(number.to_string(), ty, out),
    }
}

fn text_to_sql(text: &str, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::DATE => put(NaiveDate::parse_from_str(text, "%Y-%m-%d")?, ty, out),
        Type::TIMESTAMPTZ => put(
            DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
            ty,
            out,
        ),
        Type::JSON => {
            out.extend_from_slice(text.as_bytes());
            Ok(IsNull::No)
        }
        Type::JSONB => {
            // JSONB's binary form: a version byte, then the text.
            out.extend_from_slice(&[1]);
            out.extend_from_slice(text.as_bytes());
            Ok(IsNull::No)
        }
        Type::NUMERIC => put(Decimal::from_str(text)?, ty, out),
        Type::INT8 => put(i64::from_str(text)?, ty, out),
        Type::INT4 => put(i32::from_str(text)?, ty, out),
        _ => put(text, ty, out),
    }
}

fn owned_value(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(number) => Value::Integer(number),
        ValueRef::Real(number) => Value::Real(number),
        ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
    }
}

/// Writes `value` as PostgreSQL's binary form of `ty`.
fn put<T: PgToSql>(value: T, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    value.to_sql(ty, out)
}

/// Column `index` of `row`, in the shared model.
pub(super) fn column_value(row: &tokio_postgres::Row, index: usize) -> StoreResult<Value> {
    let Some(ty) = row
        .columns()
        .get(index)
        .map(|column| column.type_().clone())
    else {
        return Err(super::rows::no_column(index));
    };
    let value = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Value::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)?
            .map(|n| Value::Integer(n.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)?
            .map(|n| Value::Integer(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)?
            .map(|b| Value::Integer(b.into())),
        Type::NUMERIC => row
            .try_get::<_, Option<Decimal>>(index)?
            .map(|d| Value::Text(d.to_string())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map(Value::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(index)?
            .map(|n| Value::Real(n.into())),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(index)?.map(Value::Blob),
        // What a function run for its effect answers (`pg_advisory_xact_lock`).
        Type::VOID => None,
        Type::DATE => row
            .try_get::<_, Option<NaiveDate>>(index)?
            .map(|date| Value::Text(date.format("%Y-%m-%d").to_string())),
        Type::TIMESTAMPTZ => row
            .try_get::<_, Option<DateTime<Utc>>>(index)?
            .map(|at| Value::Text(crate::db::timestamp(at))),
        Type::JSON | Type::JSONB => row
            .try_get::<_, Option<JsonText>>(index)?
            .map(|json| Value::Text(json.0)),
        _ => row.try_get::<_, Option<String>>(index)?.map(Value::Text),
    };
    Ok(value.unwrap_or(Value::Null))
}

/// A JSON or JSONB column's text, as stored (JSON) or as the server prints it (JSONB).
struct JsonText(String);

impl<'a> tokio_postgres::types::FromSql<'a> for JsonText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let text = match *ty {
            Type::JSONB => raw.get(1..).unwrap_or_default(),
            _ => raw,
        };
        Ok(JsonText(std::str::from_utf8(text)?.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}

/// Whether column `index` is NUMERIC: its text also reads as an integer (a `SUM` of
/// integers is NUMERIC on PostgreSQL, where SQLite answers an integer).
pub(super) fn is_numeric(row: &tokio_postgres::Row, index: usize) -> bool {
    row.columns()
        .get(index)
        .is_some_and(|column| *column.type_() == Type::NUMERIC)
}
