//! The later uses of a credit source's credit (allocate, refund, void), which payments and
//! credit notes take alike: one idempotent write that runs the `db::credit` change on the
//! source and answers the source as it then stands.

use chrono::NaiveDate;
use serde::Serialize;

use crate::api::auth::ApiKeyAuth;
use crate::api::error::ChangeError;
use crate::api::journal::Trail;
use crate::api::scopes::scope_of;
use crate::api::types::{JsonBody, Received};
use crate::api::{AppState, One, Post};
use crate::db::organization::Whose;
use crate::db::sources::SourceFacts;
use crate::db::WriteTx;
use crate::domain::journal::EntityType;
use crate::error::AppError;

/// A change to a source's credit, as `db::credit` writes it.
pub(crate) type CreditChange<U> =
    fn(&WriteTx, i64, &SourceFacts, U, (NaiveDate, &str)) -> Result<(), AppError>;

/// A source as its routes answer it.
pub(crate) trait SourceAnswer: Serialize + Send + Sized + 'static {
    /// Where its routes live: `/v1/payments`.
    const PATH: &'static str;
    /// What its journal events are about.
    const ENTITY: EntityType;

    /// Runs `change` on source `id` of `org` and reads it back, as the answer.
    fn changed(
        tx: &WriteTx,
        org: i64,
        id: i64,
        change: impl FnOnce(&SourceFacts) -> Result<(), AppError>,
    ) -> Result<Self, AppError>;
}

/// The POST to `{PATH}/{id}/{action}`: checks the key's scope for `operation`, the body
/// (every bad field at once), then runs `change` in one idempotent write.
pub(crate) async fn use_credit<A, B, U>(
    (auth, state): (ApiKeyAuth, &AppState),
    (operation, id, action): (&str, i64, &str),
    ((key, if_match), body): ((Option<String>, Option<String>), JsonBody<B>),
    change: CreditChange<U>,
) -> Result<One<A>, ChangeError>
where
    A: SourceAnswer,
    U: TryFrom<Received<B>, Error = AppError> + Clone + Send + 'static,
{
    let ctx = auth.require(scope_of(operation))?;
    let (org, today) = (ctx.organization_id, state.today_for(ctx));
    let trail = Trail::of(ctx, today).keyed(key).guarded(if_match)?;
    let whose = match A::ENTITY {
        EntityType::Payment => Whose::Payment(id),
        _ => Whose::CreditNote(id),
    };
    let currency = state.currency_for(org, whose)?;
    let (received, hash) = body.received(today, currency);
    let use_of = U::try_from(received)?;
    let path = format!("{}/{id}/{action}", A::PATH);
    let done = match action {
        "allocations" => "allocated",
        "refunds" => "refunded",
        _ => "voided",
    };
    Ok(Post::new(&trail, path, hash)
        .run(state, move |tx, now| {
            trail.check_unchanged(tx, (A::ENTITY, id))?;
            let answer = A::changed(tx, org, id, |facts| {
                change(tx, org, facts, use_of, (today, now))
            })?;
            trail.record_answer(tx, now, (A::ENTITY, id), done, &answer)?;
            Ok((answer, None))
        })
        .await?)
}
