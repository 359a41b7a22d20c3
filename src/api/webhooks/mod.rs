//! `/v1/webhook-endpoints` (admin): endpoints and their deliveries. The delivery worker is
//! `deliver`; the wire types and body checks are `wire`.

mod deliver;
mod public_only;
mod wire;

pub use deliver::spawn_deliveries;
pub(crate) use wire::WebhookEndpoint;

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::OpenApi;
use rand::RngCore;

use super::auth::ApiKeyAuth;
use super::error::{ChangeError, ReadError, WriteError};
use super::journal::Trail;
use super::scopes::scope_of;
use super::types::{JsonBody, Opt};
use super::{page_bounds, AppState, Created, Deleted, Json, One, Post, Tag};
use crate::db::webhooks::{self as store, EndpointFields};
use crate::domain::journal::EntityType;
use crate::domain::text::lower_hex;
use crate::error::FieldErrorsBuilder;
use wire::{
    checked_description, checked_types, checked_url, CreatedWebhookEndpoint, WebhookDeliveryList,
    WebhookEndpointCreate, WebhookEndpointList, WebhookEndpointUpdate,
};

/// A new signing secret: `whsec_` and 48 hex digits (192 random bits).
fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", lower_hex(&bytes))
}

#[derive(Default)]
pub(crate) struct WebhooksApi;

#[OpenApi(tag = "Tag::Webhooks")]
impl WebhooksApi {
    /// Create a webhook endpoint
    ///
    /// From now on each journal event of a type it lists is POSTed to `url`, in event order, signed with the secret this answer shows once. Any 2xx within 10 seconds is delivered; anything else is tried again after 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, then every 10 h, and three days of failures turn the endpoint off.
    #[oai(
        path = "/v1/webhook-endpoints",
        method = "post",
        operation_id = "create_webhook_endpoint"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<WebhookEndpointCreate>,
    ) -> Result<Created<CreatedWebhookEndpoint>, WriteError> {
        let trail = Trail::checked(
            (&auth, &state),
            "create_webhook_endpoint",
            (idempotency_key.0, None),
        )?;
        let org = trail.org;
        let (value, mut errors, hash) = body.into_parts();
        let url = value.url.required("url", &mut errors);
        let types = value.event_types.required("event_types", &mut errors);
        let description = value.description.optional("description", &mut errors);
        let fields = EndpointFields {
            url: checked_url(url, &mut errors),
            event_types: checked_types(types, &mut errors),
            description: checked_description(description, &mut errors),
            enabled: true,
        };
        errors.finish()?;
        let post = Post::new(&trail, "/v1/webhook-endpoints", hash).redacting("secret");
        Ok(post
            .create(&state, move |tx, now| {
                let secret = new_secret();
                let endpoint =
                    WebhookEndpoint::from(store::create(tx, org, &fields, &secret, now)?);
                let key = (EntityType::WebhookEndpoint, endpoint.id);
                trail.record_answer(tx, now, key, "created", &endpoint)?;
                let id = endpoint.id;
                Ok((
                    id,
                    CreatedWebhookEndpoint {
                        endpoint,
                        secret: Some(secret),
                    },
                ))
            })
            .await?)
    }

    /// List webhook endpoints
    ///
    /// The organization's endpoints, enabled or not, by id; never their secrets.
    #[oai(
        path = "/v1/webhook-endpoints",
        method = "get",
        operation_id = "list_webhook_endpoints"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
    ) -> Result<Json<WebhookEndpointList>, ReadError> {
        let org = auth
            .require(scope_of("list_webhook_endpoints"))?
            .organization_id;
        let endpoints = state.db.read(move |conn| store::list(conn, org)).await?;
        Ok(Json(WebhookEndpointList {
            items: endpoints.into_iter().map(WebhookEndpoint::from).collect(),
        }))
    }

    /// Get a webhook endpoint
    ///
    /// Its URL, event types and state; never its secret, which only the answer that created it shows.
    #[oai(
        path = "/v1/webhook-endpoints/:id",
        method = "get",
        operation_id = "get_webhook_endpoint"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
    ) -> Result<One<WebhookEndpoint>, ReadError> {
        let org = auth
            .require(scope_of("get_webhook_endpoint"))?
            .organization_id;
        let endpoint = state
            .db
            .read(move |conn| store::get(conn, org, id.0))
            .await?;
        Ok(One::of(&endpoint.into()))
    }

    /// Update a webhook endpoint
    ///
    /// Change its `url`, `event_types` or `description`, or turn it off and on with `enabled`; fields left out keep their value. Turned on again, its pending event is tried at once.
    #[oai(
        path = "/v1/webhook-endpoints/:id",
        method = "patch",
        operation_id = "update_webhook_endpoint"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<WebhookEndpointUpdate>,
    ) -> Result<One<WebhookEndpoint>, ChangeError> {
        let trail = Trail::checked(
            (&auth, &state),
            "update_webhook_endpoint",
            (None, if_match.0),
        )?;
        let org = trail.org;
        let (value, mut errors, _) = body.into_parts();
        let url = value.url.patch("url", &mut errors);
        let types = value.event_types.patch("event_types", &mut errors);
        let enabled = value.enabled.patch("enabled", &mut errors);
        let description = value.description.patch("description", &mut errors);
        if matches!(url, Some(None)) {
            errors.add("url", "cannot be null: an endpoint needs a URL");
        }
        if matches!(types, Some(None)) {
            errors.add(
                "event_types",
                "cannot be null: list event types, or [\"*\"]",
            );
        }
        if matches!(enabled, Some(None)) {
            errors.add("enabled", "cannot be null: send true or false");
        }
        let url = url.flatten().map(|url| checked_url(Some(url), &mut errors));
        let types = types
            .flatten()
            .map(|types| checked_types(Some(types), &mut errors));
        let description = description.map(|text| checked_description(text, &mut errors));
        errors.finish()?;
        let id = id.0;
        let now = state.now_text();
        let endpoint = state
            .write(trail.org, move |tx| {
                trail.check_unchanged(tx, (EntityType::WebhookEndpoint, id))?;
                let current = store::get(tx, org, id)?;
                let unchanged = EndpointFields::from(&current);
                let fields = EndpointFields {
                    url: url.unwrap_or_else(|| unchanged.url.clone()),
                    event_types: types.unwrap_or_else(|| unchanged.event_types.clone()),
                    description: description.unwrap_or_else(|| unchanged.description.clone()),
                    enabled: enabled.flatten().unwrap_or(unchanged.enabled),
                };
                if fields == unchanged {
                    // Nothing to change: nothing is written or journaled, the ETag stays.
                    return Ok(WebhookEndpoint::from(current));
                }
                let endpoint = WebhookEndpoint::from(store::update(tx, org, id, &fields, &now)?);
                trail.record_answer(
                    tx,
                    &now,
                    (EntityType::WebhookEndpoint, id),
                    "updated",
                    &endpoint,
                )?;
                Ok(endpoint)
            })
            .await?;
        Ok(One::of(&endpoint))
    }

    /// Delete a webhook endpoint
    ///
    /// Nothing more is sent to it; its deliveries go with it.
    #[oai(
        path = "/v1/webhook-endpoints/:id",
        method = "delete",
        operation_id = "delete_webhook_endpoint"
    )]
    async fn delete(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Delete it only while its current `ETag` is this one (a 412 otherwise).
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<Deleted, ChangeError> {
        let trail = Trail::checked(
            (&auth, &state),
            "delete_webhook_endpoint",
            (None, if_match.0),
        )?;
        trail
            .delete(&state, (EntityType::WebhookEndpoint, id.0), store::delete)
            .await?;
        Ok(Deleted::NoContent)
    }

    /// List an endpoint's deliveries
    ///
    /// Every try, newest first: the event, when, the receiver's status code or why there was none, and when a failed try is tried again.
    #[oai(
        path = "/v1/webhook-endpoints/:id/deliveries",
        method = "get",
        operation_id = "list_webhook_deliveries"
    )]
    async fn deliveries(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// 1–500, default 50.
        limit: Query<Opt<i64>>,
        /// Default 0.
        offset: Query<Opt<i64>>,
    ) -> Result<Json<WebhookDeliveryList>, ReadError> {
        let org = auth
            .require(scope_of("list_webhook_deliveries"))?
            .organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; limit, offset);
        let (limit, offset) = page_bounds(limit.0, offset.0, &mut errors);
        errors.finish()?;
        let found = state
            .db
            .read(move |conn| store::deliveries(conn, org, id.0, (limit, offset)))
            .await?;
        Ok(Json(WebhookDeliveryList {
            items: found.into_iter().map(Into::into).collect(),
            limit,
            offset,
        }))
    }

    /// Retry a delivery now
    ///
    /// Makes the failed try's event due at once (turning the endpoint on again if failures had turned it off); the answer is the endpoint. An event delivered since is a 409.
    #[oai(
        path = "/v1/webhook-endpoints/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retry_webhook_delivery"
    )]
    async fn retry(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        delivery_id: Path<i64>,
        /// Makes a retry of the request safe: the same key returns the first answer.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<One<WebhookEndpoint>, WriteError> {
        let trail = Trail::checked(
            (&auth, &state),
            "retry_webhook_delivery",
            (idempotency_key.0, None),
        )?;
        let org = trail.org;
        let ids = (id.0, delivery_id.0);
        let path = format!("/v1/webhook-endpoints/{}/deliveries/{}/retry", ids.0, ids.1);
        Ok(Post::new(&trail, path, String::new())
            .run(&state, move |tx, now| {
                let endpoint = WebhookEndpoint::from(store::retry(tx, org, ids.0, ids.1)?);
                let key = (EntityType::WebhookEndpoint, ids.0);
                trail.record_answer(tx, now, key, "retried", &endpoint)?;
                Ok((endpoint, None))
            })
            .await?)
    }
}
