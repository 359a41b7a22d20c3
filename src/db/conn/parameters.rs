//! The parameters of a statement, in the forms the storage functions write them.

use super::value::ToSql;

/// A statement's parameters, handed to the engine as one list.
pub trait Params {
    /// Calls `bind` with the values in order.
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R;
}

/// No parameters.
impl Params for () {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(&[])
    }
}

/// A slice of values of one type, or of mixed ones (`params![..]`).
impl<T: ToSql> Params for &[T] {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let values: Vec<&dyn ToSql> = self.iter().map(|value| value as &dyn ToSql).collect();
        bind(&values)
    }
}

impl<T: ToSql> Params for &Vec<T> {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        self.as_slice().with_values(bind)
    }
}

/// A fixed list of values of one type: `[org]`, `[org, id]`.
impl<T: ToSql, const N: usize> Params for [T; N] {
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let values: Vec<&dyn ToSql> = self.iter().map(|value| value as &dyn ToSql).collect();
        bind(&values)
    }
}

/// Values gathered from an iterator, for a list whose length is known only at run time.
pub struct ParamsFromIter<I>(I);

/// Takes the values `values` yields as one parameter list.
pub fn params_from_iter<I>(values: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(values)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn with_values<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let values: Vec<I::Item> = self.0.into_iter().collect();
        values.as_slice().with_values(bind)
    }
}
