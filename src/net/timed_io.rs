//! A connection's clock: how long it may sit idle, and how long a request may take to arrive.
//!
//! hyper's own header timeout starts as soon as it waits for a request, so it would also
//! close every idle keep-alive connection after the same time; the two limits are kept
//! apart here instead, on the socket, told by the server when a request's head is parsed
//! and when its answer is ready.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Where a connection is between requests.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Waiting for a request (or sending the last answer): closed if nothing moves by then.
    Idle { until: Instant },
    /// A request's first bytes came: its head must be whole by then.
    Receiving { until: Instant },
    /// The head is parsed and the request is being answered; its body has its own deadline
    /// (the body limit reads it before the handler runs).
    Answering,
}

/// The limits of one connection, shared by its socket and its service.
#[derive(Debug)]
pub(crate) struct ConnectionClock {
    phase: Mutex<Phase>,
    /// The reader that last waited while a request was answered: hyper does not read
    /// again on its own once the answer is out, so the idle clock must wake it to start.
    waiting_reader: Mutex<Option<Waker>>,
    idle: Duration,
    read: Duration,
}

impl ConnectionClock {
    pub(crate) fn new(idle: Duration, read: Duration) -> Arc<Self> {
        Arc::new(ConnectionClock {
            phase: Mutex::new(Phase::Idle {
                until: Instant::now() + idle,
            }),
            waiting_reader: Mutex::new(None),
            idle,
            read,
        })
    }

    fn with_phase<T>(&self, change: impl FnOnce(&mut Phase) -> T) -> T {
        change(&mut self.phase.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A request's head was parsed: no clock runs on the socket while it is answered.
    pub(crate) fn head_parsed(&self) {
        self.with_phase(|phase| *phase = Phase::Answering);
    }

    /// The answer is handed to the connection: from now on it idles.
    pub(crate) fn answered(&self) {
        let until = Instant::now() + self.idle;
        self.with_phase(|phase| *phase = Phase::Idle { until });
        let reader = self
            .waiting_reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    fn wait_for_answer(&self, reader: &Waker) {
        *self
            .waiting_reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(reader.clone());
    }

    /// Bytes came in: the first of a request starts its read deadline.
    fn bytes_read(&self) {
        let until = Instant::now() + self.read;
        self.with_phase(|phase| {
            if let Phase::Idle { .. } = phase {
                *phase = Phase::Receiving { until };
            }
        });
    }

    /// Bytes went out: an answer still being sent is not idleness.
    fn bytes_written(&self) {
        let until = Instant::now() + self.idle;
        self.with_phase(|phase| {
            if let Phase::Idle { .. } = phase {
                *phase = Phase::Idle { until };
            }
        });
    }

    fn phase(&self) -> Phase {
        self.with_phase(|phase| *phase)
    }
}

/// A socket that ends itself when its [`ConnectionClock`] runs out: an idle connection is
/// ended as if the client had closed it, a request that trickles in with an error.
pub(crate) struct TimedIo<T> {
    inner: T,
    clock: Arc<ConnectionClock>,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
}

impl<T> TimedIo<T> {
    pub(crate) fn new(inner: T, clock: Arc<ConnectionClock>) -> Self {
        let now = Instant::now();
        TimedIo {
            inner,
            clock,
            read_timer: Box::pin(tokio::time::sleep_until(now)),
            write_timer: Box::pin(tokio::time::sleep_until(now)),
        }
    }
}

/// Whether `timer`, set to the phase's deadline, has run out (and if not, it wakes `cx`
/// when it does).
fn expired(timer: &mut Pin<Box<Sleep>>, phase: Phase, cx: &mut Context<'_>) -> bool {
    let until = match phase {
        Phase::Idle { until } | Phase::Receiving { until } => until,
        Phase::Answering => return false,
    };
    if timer.deadline() != until {
        timer.as_mut().reset(until);
    }
    timer.as_mut().poll(cx).is_ready()
}

fn cut_off(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                this.clock.bytes_read();
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let phase = this.clock.phase();
                if phase == Phase::Answering {
                    this.clock.wait_for_answer(cx.waker());
                }
                if !expired(&mut this.read_timer, phase, cx) {
                    return Poll::Pending;
                }
                match phase {
                    // As if the client closed it: hyper ends an idle connection quietly.
                    Phase::Idle { .. } => Poll::Ready(Ok(())),
                    _ => Poll::Ready(Err(cut_off("the request did not arrive in time"))),
                }
            }
            other => other,
        }
    }
}

impl<T> TimedIo<T> {
    /// What a write came to: bytes that went out keep the connection alive; a client that
    /// stops reading its answer is cut like an idle one.
    fn after_write(
        &mut self,
        poll: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match poll {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    self.clock.bytes_written();
                }
                Poll::Ready(Ok(written))
            }
            Poll::Pending if expired(&mut self.write_timer, self.clock.phase(), cx) => {
                Poll::Ready(Err(cut_off("the client stopped reading")))
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(poll, cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
