//! The HTTP/1.1 server loop: poem's endpoint on hyper's connection, with the connection
//! limits poem's own server does not offer (a read timeout apart from the idle one, a cap
//! on connections served at once).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, IntoEndpoint, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use super::timed_io::{ConnectionClock, TimedIo};

/// The connection limits, from `serve`'s flags.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// `--read-timeout`: a request's head, and then its body, must arrive within this.
    pub read_timeout: Duration,
    /// `--idle-timeout`: a connection with nothing moving is closed after this.
    pub idle_timeout: Duration,
    /// `--max-connections`: connections served at once; the next ones wait to be accepted.
    pub max_connections: usize,
    /// `--shutdown-timeout`: how long requests in flight may finish after the signal.
    pub shutdown_timeout: Duration,
}

/// When the body of the request it is attached to must have arrived whole (its head's
/// arrival plus the read timeout), and that timeout in seconds.
#[derive(Clone, Copy, Debug)]
pub struct BodyDeadline(pub tokio::time::Instant, pub u64);

type SharedEndpoint = Arc<dyn poem::endpoint::DynEndpoint<Output = Response>>;

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish for at most the shutdown timeout.
pub async fn serve<E>(
    listener: std::net::TcpListener,
    app: E,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let listener = TcpListener::from_std(listener)?;
    let local = listener.local_addr()?;
    let app: SharedEndpoint = Arc::new(poem::endpoint::ToDynEndpoint(
        app.into_endpoint().map_to_response(),
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    // Each connection holds a sender; when all are gone, `recv` answers None.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let Some((stream, remote, permit)) = accept(&listener, &slots, shutdown.as_mut()).await
        else {
            break;
        };
        let connection = Connection {
            app: app.clone(),
            local,
            remote,
            limits,
        };
        let (stopping, alive) = (stopping.clone(), alive.clone());
        tokio::spawn(async move {
            connection.run(stream, stopping).await;
            drop((permit, alive));
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    if tokio::time::timeout(limits.shutdown_timeout, all_closed.recv())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown_timeout.as_secs(),
            "requests still in flight past --shutdown-timeout are cut"
        );
    }
    Ok(())
}

/// The next connection, once a slot is free: the ones past `--max-connections` wait in
/// the listen queue, untouched. None once the shutdown signal came.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
    mut shutdown: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    loop {
        let permit = tokio::select! {
            () = shutdown.as_mut() => return None,
            permit = slots.clone().acquire_owned() => permit.ok()?,
        };
        let accepted = tokio::select! {
            () = shutdown.as_mut() => return None,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote)) => return Some((stream, remote, permit)),
            Err(err) => {
                // Out of file descriptors, or the client left first: not the server's end.
                tracing::warn!(error = %err, "a connection could not be accepted");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

struct Connection {
    app: SharedEndpoint,
    local: SocketAddr,
    remote: SocketAddr,
    limits: ConnectionLimits,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut stopping: watch::Receiver<bool>) {
        let clock = ConnectionClock::new(self.limits.idle_timeout, self.limits.read_timeout);
        let io = hyper_util::rt::TokioIo::new(TimedIo::new(stream, clock.clone()));
        let read_timeout = self.limits.read_timeout;
        let (app, local, remote) = (self.app, self.local, self.remote);
        let service = hyper::service::service_fn(move |request| {
            clock.head_parsed();
            let deadline = BodyDeadline(
                tokio::time::Instant::now() + read_timeout,
                read_timeout.as_secs(),
            );
            let mut request = poem::Request::from((
                request,
                LocalAddr(Addr::SocketAddr(local)),
                RemoteAddr(Addr::SocketAddr(remote)),
                poem::http::uri::Scheme::HTTP,
            ));
            request.extensions_mut().insert(deadline);
            let (app, clock) = (app.clone(), clock.clone());
            async move {
                let response = app.get_response(request).await;
                clock.answered();
                Ok::<_, Infallible>(hyper::Response::from(response))
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = stopping.wait_for(|stop| *stop) => {}
        }
        // Finishes the request in flight, if any, then closes.
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}
