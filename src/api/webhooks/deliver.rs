//! The delivery worker. Deliveries follow the journal, never memory: each endpoint's
//! cursor and next-try time are rows, so a restart (or a kill -9) picks the schedule up
//! where it stood, and an event is sent until a 2xx says it arrived (at least once). Each
//! endpoint has at most one delivery in flight (so its events arrive in order), each on a
//! thread of its own with a 10 s limit, so a slow or dead receiver holds up
//! neither the API nor the other endpoints.

use std::collections::HashSet;
use std::net::ToSocketAddrs;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::WebhookEndpoint;
use crate::api::journal::{Event, Trail};
use crate::api::{to_json_text, AppState};
use crate::db::journal::get_event;
use crate::db::webhooks::{self as store, Endpoint, Next, Outcome};
use crate::db::WriteScope;
use crate::domain::journal::{Actor, EntityType};
use crate::domain::webhook::{is_private, signature, DELIVERY_TIMEOUT_SECONDS};
use crate::error::AppError;

/// Endpoints with a delivery in flight.
type InFlight = Arc<Mutex<HashSet<i64>>>;

/// Starts the worker on the current runtime; `block_private` refuses receivers that
/// resolve to loopback, private or link-local addresses.
pub fn spawn_deliveries(state: Arc<AppState>, block_private: bool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let in_flight = InFlight::default();
        let done = Arc::new(Notify::new());
        let mut bell = state.journal_bell.subscribe();
        loop {
            if let Err(err) = round(&state, &in_flight, &done, block_private).await {
                tracing::warn!(error = %err, "webhook round failed");
            }
            tokio::select! {
                _ = bell.changed() => {}
                () = done.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

/// Starts a delivery for each due endpoint with an event to send, and moves cursors past
/// events an endpoint does not take.
async fn round(
    state: &Arc<AppState>,
    in_flight: &InFlight,
    done: &Arc<Notify>,
    block_private: bool,
) -> Result<(), AppError> {
    let now = state.clock.now().timestamp();
    let due = state.db.read(move |conn| store::due(conn, now)).await?;
    for (org, id) in due {
        let started = in_flight
            .lock()
            .map(|mut set| set.insert(id))
            .unwrap_or(false);
        if !started {
            continue;
        }
        // Read now that it is ours: a delivery that just ended may have moved it.
        let fresh = state
            .db
            .read(move |conn| match store::due_one(conn, (org, id), now)? {
                Some(endpoint) => Ok(Some((store::next(conn, &endpoint)?, endpoint))),
                None => Ok(None),
            })
            .await;
        let (next, endpoint) = match fresh {
            Ok(Some(found)) => found,
            Ok(None) => {
                finish(in_flight, id);
                continue;
            }
            Err(err) => {
                finish(in_flight, id);
                return Err(err);
            }
        };
        match next {
            Next::Send(event_id) => {
                let (state, in_flight, done) = (state.clone(), in_flight.clone(), done.clone());
                tokio::spawn(async move {
                    match deliver(&state, endpoint, event_id, block_private).await {
                        Ok(()) => done.notify_one(),
                        Err(err) => {
                            // Not recorded (a full disk?): wait before this endpoint's next
                            // try rather than sending the same event again at once.
                            tracing::warn!(error = %err, endpoint = id, event = event_id, "webhook delivery not recorded");
                            tokio::time::sleep(Duration::from_secs(5)).await;
                        }
                    }
                    finish(&in_flight, id);
                });
            }
            Next::Skip(to) => {
                let moved = state
                    .db
                    .write(WriteScope::Organization(org), move |tx| {
                        store::skip_to(tx, (org, id), to)
                    })
                    .await;
                finish(in_flight, id);
                moved?;
                done.notify_one();
            }
            Next::Idle => finish(in_flight, id),
        }
    }
    Ok(())
}

fn finish(in_flight: &InFlight, id: i64) {
    if let Ok(mut set) = in_flight.lock() {
        set.remove(&id);
    }
}

/// Sends one event to one endpoint and records the try (and, if three days of failures
/// turn the endpoint off, journals that by `system`).
async fn deliver(
    state: &Arc<AppState>,
    endpoint: Endpoint,
    event_id: i64,
    block_private: bool,
) -> Result<(), AppError> {
    let (org, id) = (endpoint.organization_id, endpoint.id);
    let (event, secret) = state
        .db
        .read(move |conn| {
            Ok((
                get_event(conn, org, event_id)?,
                store::secret_of(conn, (org, id))?,
            ))
        })
        .await?;
    let Some(event) = event else {
        return Ok(());
    };
    // Once sent, the event cannot be taken back: it must be on disk first.
    state.db.until_durable().await?;
    let event = Event::from_sealed(event)?;
    let body = to_json_text(&event);
    let signed = signature(&secret, state.clock.now().timestamp(), &body);
    let headers = [
        ("Arvalox-Event-Id", event.id.to_string()),
        ("Arvalox-Event-Type", event.event_type.clone()),
        ("Arvalox-Signature", signed),
    ];
    let url = endpoint.url.clone();
    // A thread of its own, not the runtime's blocking pool: a receiver that takes its ten
    // seconds must never hold a thread the API's reads wait for.
    let (sent, answer) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("arvalox-webhook".into())
        .spawn(move || {
            let _ = sent.send(post(&url, &body, &headers, block_private));
        });
    let outcome = match spawned {
        Ok(_) => answer.await.ok(),
        Err(_) => None,
    }
    .unwrap_or_else(|| Outcome {
        status_code: None,
        error: Some("the delivery thread failed".into()),
    });
    let now_text = state.now_text();
    let (now, today) = (state.clock.now().timestamp(), state.clock.today());
    let turned_off = state
        .db
        .write(WriteScope::Organization(org), move |tx| {
            if !store::record(tx, (org, id), (event_id, &outcome), (&now_text, now))? {
                return Ok(false);
            }
            let after = WebhookEndpoint::from(store::get(tx, org, id)?);
            let trail = Trail::local(org, Actor::System, today);
            let key = (EntityType::WebhookEndpoint, id);
            trail.record_answer(tx, &now_text, key, "disabled", &after)?;
            Ok(true)
        })
        .await?;
    if turned_off {
        // A journal event: followers of `GET /v1/events?wait=` hear of it at once.
        state
            .journal_bell
            .send_modify(|writes| *writes = writes.wrapping_add(1));
    }
    Ok(())
}

/// One POST with the event's headers; any answer is an outcome, never an error.
fn post(url: &str, body: &str, headers: &[(&str, String)], block_private: bool) -> Outcome {
    let failed = |error: String| Outcome {
        status_code: None,
        error: Some(error),
    };
    // An endpoint kept from before its URL was checked this closely (a port past 65535)
    // is not sent to: the library would drop that port and use the scheme's own.
    if let Err(rule) = crate::domain::webhook::check_url(url) {
        return failed(format!(
            "not sent: the endpoint's url {rule}; update the endpoint"
        ));
    }
    if block_private {
        if let Err(refused) = refuse_private(url) {
            return failed(refused);
        }
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(DELIVERY_TIMEOUT_SECONDS)))
        .http_status_as_error(false)
        .max_redirects(0)
        // Never through a proxy from the environment: the private-address check (and the
        // operator) must see the connection Arvalox makes.
        .proxy(None)
        .user_agent(concat!("Arvalox-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = match block_private {
        // The connection's own lookup keeps public addresses only (DNS rebinding).
        true => ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            super::public_only::PublicOnly::default(),
        ),
        false => ureq::Agent::new_with_config(config),
    };
    let mut request = agent.post(url).header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    match request.send(body) {
        Ok(response) => Outcome {
            status_code: Some(response.status().as_u16()),
            error: None,
        },
        Err(ureq::Error::Timeout(_)) => failed(format!(
            "no answer within {DELIVERY_TIMEOUT_SECONDS} seconds"
        )),
        Err(err) => failed(format!("could not deliver: {err}")),
    }
}

/// Refuses a URL whose host resolves to a non-public address.
fn refuse_private(url: &str) -> Result<(), String> {
    let (default_port, rest) = match url.strip_prefix("https://") {
        Some(rest) => (443, rest),
        None => (80, url.strip_prefix("http://").unwrap_or(url)),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
            (host, after.strip_prefix(':').and_then(|p| p.parse().ok()))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()),
            None => (authority, None),
        },
    };
    let addresses = (host, port.unwrap_or(default_port))
        .to_socket_addrs()
        .map_err(|err| format!("could not resolve {host}: {err}"))?;
    for address in addresses {
        if is_private(address.ip()) {
            return Err(format!(
                "refused: {host} resolves to {}, a private, loopback or link-local address (serve --webhooks-block-private)",
                address.ip()
            ));
        }
    }
    Ok(())
}
