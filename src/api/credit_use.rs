//! The later uses of a credit source's credit (allocate, refund, void), which payments and
//! credit notes take alike: one idempotent write that runs the `db::credit` change on the
//! source and answers the source as it then stands.

use chrono::NaiveDate;
use serde::Serialize;

use crate::api::auth::ApiKeyAuth;
use crate::api::error::ChangeError;
use crate::api::journal::Trail;
use crate::api::types::{JsonBody, Received};
use crate::api::{AppState, One, Post};
use crate::db::conn::Conn;
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

    /// Source `id` of `org` as it stands.
    fn read(conn: &Conn, org: i64, id: i64) -> Result<Self, AppError>;

    /// Runs `change` on source `id` of `org` and reads it back, as the answer.
    fn changed(
        tx: &WriteTx,
        org: i64,
        id: i64,
        change: impl FnOnce(&SourceFacts) -> Result<(), AppError>,
    ) -> Result<Self, AppError>;
}

/// What a later use of a source's credit does: the last segment of its route and the
/// event it records.
#[derive(Clone, Copy)]
pub(crate) enum CreditAction {
    Allocate,
    Refund,
    Void,
}

impl CreditAction {
    /// `{PATH}/{id}/{segment}`, the route's last segment.
    fn segment(self) -> &'static str {
        match self {
            CreditAction::Allocate => "allocations",
            CreditAction::Refund => "refunds",
            CreditAction::Void => "void",
        }
    }

    /// The journal event's verb: `payment.allocated`.
    fn done(self) -> &'static str {
        match self {
            CreditAction::Allocate => "allocated",
            CreditAction::Refund => "refunded",
            CreditAction::Void => "voided",
        }
    }
}

/// The POST to `{PATH}/{id}/{segment}`: checks the key's scope for `operation`, the body
/// (every bad field at once), then runs `change` in one idempotent write.
pub(crate) async fn use_credit<A, B, U>(
    (auth, state): (ApiKeyAuth, &AppState),
    (operation, id, action): (&str, i64, CreditAction),
    ((key, if_match), body): ((Option<String>, Option<String>), JsonBody<B>),
    change: CreditChange<U>,
) -> Result<One<A>, ChangeError>
where
    A: SourceAnswer,
    U: TryFrom<Received<B>, Error = AppError> + Clone + Send + 'static,
{
    let trail = Trail::checked((&auth, state), operation, (key, if_match))?;
    let (org, today) = (trail.org, trail.today());
    let whose = match A::ENTITY {
        EntityType::Payment => Whose::Payment(id),
        _ => Whose::CreditNote(id),
    };
    let currency = state.currency_for(org, whose)?;
    let (received, hash) = body.received(today, currency);
    let use_of = U::try_from(received)?;
    let path = format!("{}/{id}/{}", A::PATH, action.segment());
    let done = action.done();
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

/// Declares `$api`, the routes payments and credit notes share, and the answer's
/// [`SourceAnswer`] impl over `db::$store` (`get` and `change_credit`) at `$base`: GET
/// `$get_path`, the source as it stands, then the POSTs allocate, void and refund, each a
/// [`use_credit`] of its `CreditAction` with its body type and `db::credit` change. Only
/// what the spec shows differs between the two sources, and poem-openapi reads each path,
/// operation id and doc as a literal of its own (they are taken as `tt` so it gets plain
/// literals), so each source names those and the handlers are written once. Each path
/// must be `$base` and, for a POST, its action's segment: the committed spec and the scope
/// test fail on any other.
macro_rules! credit_source_routes {
    (
        $api:ident, tag $tag:tt, answer $answer:ty, kept by $store:ident at $base:tt as $entity:ident;
        $(#[doc = $get_doc:tt])* get $get_path:tt $get_op:tt;
        $(#[doc = $allocate_doc:tt])* allocate $allocate_path:tt $allocate_op:tt;
        $(#[doc = $void_doc:tt])* void $void_path:tt $void_op:tt;
        $(#[doc = $refund_doc:tt])* refund $refund_path:tt $refund_op:tt;
    ) => {
        impl $crate::api::credit_use::SourceAnswer for $answer {
            const PATH: &'static str = $base;
            const ENTITY: $crate::domain::journal::EntityType =
                $crate::domain::journal::EntityType::$entity;

            fn read(
                conn: &$crate::db::conn::Conn,
                org: i64,
                id: i64,
            ) -> Result<Self, $crate::error::AppError> {
                Ok($crate::db::$store::get(conn, org, id)?.into())
            }

            fn changed(
                tx: &$crate::db::WriteTx,
                org: i64,
                id: i64,
                change: impl FnOnce(
                    &$crate::db::sources::SourceFacts,
                ) -> Result<(), $crate::error::AppError>,
            ) -> Result<Self, $crate::error::AppError> {
                Ok($crate::db::$store::change_credit(tx, org, id, change)?.into())
            }
        }

        $crate::api::credit_use::credit_source_routes! {
            @handlers $api, $tag, $answer;
            $(#[doc = $get_doc])* get $get_path $get_op;
            $(#[doc = $allocate_doc])* allocate $allocate_path $allocate_op
                ($crate::api::payments::CreditAllocation => Allocate, $crate::db::credit::allocate_credit);
            $(#[doc = $void_doc])* void $void_path $void_op
                ($crate::api::payments::PaymentVoid => Void, $crate::db::credit::void);
            $(#[doc = $refund_doc])* refund $refund_path $refund_op
                ($crate::api::payments::RefundCreate => Refund, $crate::db::credit::refund);
        }
    };
    (
        @handlers $api:ident, $tag:tt, $answer:ty;
        $(#[doc = $get_doc:tt])* get $get_path:tt $get_op:tt;
        $(
            $(#[doc = $doc:tt])*
            $handler:ident $path:tt $op:tt ($body:ty => $action:ident, $change:path);
        )*
    ) => {
        #[derive(Default)]
        pub(crate) struct $api;

        #[::poem_openapi::OpenApi(tag = $tag)]
        impl $api {
            $(#[doc = $get_doc])*
            #[oai(path = $get_path, method = "get", operation_id = $get_op)]
            async fn get(
                &self,
                auth: $crate::api::auth::ApiKeyAuth,
                state: ::poem::web::Data<&std::sync::Arc<$crate::api::AppState>>,
                id: ::poem_openapi::param::Path<i64>,
            ) -> Result<$crate::api::One<$answer>, $crate::api::error::ReadError> {
                use $crate::api::credit_use::SourceAnswer as _;
                let scope = $crate::api::scopes::scope_of($get_op);
                let org = auth.require(scope)?.organization_id;
                let source = state.db.read_point(|conn| <$answer>::read(conn, org, id.0))?;
                Ok($crate::api::One::of(&source))
            }

            $(
                $(#[doc = $doc])*
                #[oai(path = $path, method = "post", operation_id = $op)]
                async fn $handler(
                    &self,
                    auth: $crate::api::auth::ApiKeyAuth,
                    state: ::poem::web::Data<&std::sync::Arc<$crate::api::AppState>>,
                    id: ::poem_openapi::param::Path<i64>,
                    /// Makes a retry safe: the same key and body return the first answer and write nothing.
                    #[oai(name = "Idempotency-Key")]
                    idempotency_key: ::poem_openapi::param::Header<Option<String>>,
                    /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
                    #[oai(name = "If-Match")]
                    if_match: ::poem_openapi::param::Header<Option<String>>,
                    body: $crate::api::types::JsonBody<$body>,
                ) -> Result<$crate::api::One<$answer>, $crate::api::error::ChangeError> {
                    let call = ($op, id.0, $crate::api::credit_use::CreditAction::$action);
                    let input = ((idempotency_key.0, if_match.0), body);
                    $crate::api::credit_use::use_credit((auth, &state), call, input, $change).await
                }
            )*
        }
    };
}
pub(crate) use credit_source_routes;
