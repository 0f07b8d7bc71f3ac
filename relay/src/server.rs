//! The HTTP server: the accept loop and what keeps one client from taking
//! the relay's connections (SPEC.md §9.1).
//!
//! - At start the relay raises its open-file limit to the hard limit
//!   ([`raise_fd_limit`]); it then accepts at most [`ConnectionLimits::total`]
//!   connections (three quarters of that limit unless configured lower), so
//!   it sheds load with a 503 before `accept` could fail with "too many open
//!   files", and at most `connections_per_ip` from one address (a 429; the
//!   configured trusted proxies are exempt, they carry many clients).
//! - HTTP/1.1 only (TLS and HTTP/2 are a proxy's job). A client has
//!   `header_timeout_secs` to send a request's headers, and an idle
//!   kept-alive connection is closed after the same time.
//! - A request body ([`TimedBody`]) may go `body_timeout_secs` without a
//!   byte, and the time the relay spends waiting for it may not exceed
//!   `body_timeout_secs` plus its length at `body_min_bytes_per_sec`: a body
//!   trickled in byte by byte fails with 408 instead of holding the
//!   connection.
//! - Each connection is one task; a WebSocket upgrade keeps the
//!   connection's slot until the socket closes.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::header;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::Limits;

/// Part of the open-file limit kept for everything but client connections
/// (the database pool, blob files, libp2p sockets): a quarter.
pub const FD_RESERVE_DIVISOR: u64 = 4;

/// How long the accept loop pauses after `accept` failed (the descriptor
/// limit reached after all, or the kernel out of memory), rather than spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long a connection may take to finish its request at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Raises the soft open-file limit to the hard one; returns the limit in
/// force.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).unwrap_or(1024)
        }
    }
}

/// How many connections the relay takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// In all.
    pub total: usize,
    /// From one address.
    pub per_ip: usize,
    /// Addresses without a per-address limit (trusted proxies).
    pub exempt: Vec<IpAddr>,
}

impl ConnectionLimits {
    /// The limits for `limits` when the process may open `fds` files.
    pub fn new(limits: &Limits, fds: u64, exempt: Vec<IpAddr>) -> Self {
        let budget = (fds - fds / FD_RESERVE_DIVISOR).max(16) as usize;
        let total = match limits.max_connections {
            0 => budget,
            n => n.min(budget),
        };
        Self { total, per_ip: limits.connections_per_ip, exempt }
    }
}

/// Open connections, in all and per address.
#[derive(Debug)]
struct Connections {
    limits: ConnectionLimits,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Full,
    TooManyFromAddress,
}

/// A connection's slot; freed when dropped.
#[derive(Debug)]
struct Slot {
    conns: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if self.total.load(Ordering::Relaxed) >= self.limits.total {
            return Err(Refusal::Full);
        }
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= self.limits.per_ip && !self.limits.exempt.contains(&ip) {
            return Err(Refusal::TooManyFromAddress);
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Slot { conns: self.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = self.conns.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.conns.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that holds its slot for as long as it lives (an upgraded
/// WebSocket included).
struct Tracked {
    stream: Option<TcpStream>,
    slot: Option<Slot>,
}

/// How long a closed connection goes on reading (and dropping) what the
/// client still sends, and how much: a body refused before it was read
/// (413 at once) is still arriving, and closing a socket with unread bytes
/// resets it, which can destroy the response before the client reads it.
const LINGER: Duration = Duration::from_secs(2);
/// See [`LINGER`].
const LINGER_BYTES: usize = 8 * 1024 * 1024;

impl Tracked {
    fn stream(&mut self) -> std::io::Result<Pin<&mut TcpStream>> {
        self.stream
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotConnected))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let (Some(stream), Some(slot)) = (self.stream.take(), self.slot.take()) else { return };
        let mut probe = [0u8; 1];
        if !matches!(stream.try_read(&mut probe), Ok(n) if n > 0) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        rt.spawn(async move {
            let _slot = slot;
            let mut stream = stream;
            let mut sink = vec![0u8; 64 * 1024];
            let mut left = LINGER_BYTES;
            let _ = tokio::time::timeout(LINGER, async {
                while left > 0 {
                    match tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            })
            .await;
        });
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.stream() {
            Ok(s) => s.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.stream() {
            Ok(s) => s.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.stream() {
            Ok(s) => s.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.stream() {
            Ok(s) => s.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.stream() {
            Ok(s) => s.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}

/// The body timeouts of one request (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeouts {
    /// Longest wait for the next byte; also the grace before the rate
    /// counts.
    pub idle: Duration,
    /// Least average rate, bytes per second.
    pub min_rate: u64,
}

/// A request body that arrived too slowly (see [`TimedBody`]).
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct BodyTimeout;

/// A request body under [`BodyTimeouts`]. Only time spent waiting for the
/// client counts: while a handler does not read (it writes to disk, it
/// waits for the database) the clock stands still.
pub struct TimedBody<B> {
    inner: B,
    /// Set once the body has been read to its end.
    finished: Arc<AtomicBool>,
    timeouts: BodyTimeouts,
    received: u64,
    /// Time spent waiting for bytes so far.
    waited: Duration,
    /// Since when the current wait lasts, and when it fails.
    waiting: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl<B> TimedBody<B> {
    /// Wraps `inner`; `finished` is set when it has been read to its end.
    pub fn new(inner: B, timeouts: BodyTimeouts, finished: Arc<AtomicBool>) -> Self {
        Self { inner, finished, timeouts, received: 0, waited: Duration::ZERO, waiting: None }
    }

    /// How much longer the current wait may last.
    fn allowance(&self) -> Duration {
        let rate = self.timeouts.min_rate.max(1);
        let budget =
            self.timeouts.idle + Duration::from_secs_f64(self.received as f64 / rate as f64);
        budget.saturating_sub(self.waited).min(self.timeouts.idle)
    }
}

impl<B> http_body::Body for TimedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some((since, _)) = this.waiting.take() {
                    this.waited += since.elapsed();
                }
                if frame.is_none() {
                    this.finished.store(true, Ordering::Relaxed);
                }
                Poll::Ready(frame.map(|f| {
                    f.inspect(|f| {
                        if let Some(d) = f.data_ref() {
                            this.received += d.len() as u64;
                        }
                    })
                    .map_err(Into::into)
                }))
            }
            Poll::Pending => {
                if this.waiting.is_none() {
                    let now = Instant::now();
                    let sleep = Box::pin(tokio::time::sleep_until(now + this.allowance()));
                    this.waiting = Some((now, sleep));
                }
                let expired = match &mut this.waiting {
                    Some((_, sleep)) => sleep.as_mut().poll(cx).is_ready(),
                    None => false,
                };
                if expired { Poll::Ready(Some(Err(Box::new(BodyTimeout)))) } else { Poll::Pending }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What the server needs besides the router.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Connection limits.
    pub connections: ConnectionLimits,
    /// Time for a request's headers, and for an idle kept-alive connection.
    pub header_timeout: Duration,
    /// Body timeouts.
    pub body: BodyTimeouts,
}

impl ServerConfig {
    /// From the relay's limits, its trusted proxies and the open-file limit.
    pub fn new(limits: &Limits, trusted: &[IpAddr], fds: u64) -> Self {
        Self {
            connections: ConnectionLimits::new(limits, fds, trusted.to_vec()),
            header_timeout: Duration::from_secs(limits.header_timeout_secs),
            body: BodyTimeouts {
                idle: Duration::from_secs(limits.body_timeout_secs),
                min_rate: limits.body_min_bytes_per_sec,
            },
        }
    }
}

/// A response written straight to a socket the relay does not take, so the
/// client learns why (best effort: the socket is new, its buffer empty).
fn refuse(stream: &TcpStream, why: Refusal) {
    let (status, code, message) = match why {
        Refusal::Full => ("503 Service Unavailable", "overloaded", "the relay is full; try again"),
        Refusal::TooManyFromAddress => (
            "429 Too Many Requests",
            "too_many_connections",
            "too many connections from this address",
        ),
    };
    let body = format!(r#"{{"code":"{code}","message":"{message}"}}"#);
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(resp.as_bytes());
}

/// Serves `app` on `listener` until `shutdown` flips, then lets the
/// connections finish their requests (bounded) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ServerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let conns = Arc::new(Connections {
        limits: config.connections.clone(),
        total: AtomicUsize::new(0),
        per_ip: Mutex::new(HashMap::new()),
    });
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let slot = match conns.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(why) => {
                tracing::debug!(%peer, ?why, "connection refused");
                refuse(&stream, why);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let io = Tracked { stream: Some(stream), slot: Some(slot) };
        tasks.spawn(connection(io, peer, app.clone(), config.clone(), shutdown.clone()));
    }
    // Idle connections close at once; busy ones finish their request.
    let _ = tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

async fn connection(
    io: Tracked,
    peer: SocketAddr,
    app: Router,
    config: ServerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let body = config.body;
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let has_body = !http_body::Body::is_end_stream(req.body());
        let finished = Arc::new(AtomicBool::new(false));
        let mut req = req.map(|b| Body::new(TimedBody::new(b, body, finished.clone())));
        req.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let mut resp = app.oneshot(req).await?;
            // A body left unread (refused at once, too slow, not wanted)
            // ends the connection: say so, so that the client does not
            // send its next request on it.
            if has_body && !finished.load(Ordering::Relaxed) {
                resp.headers_mut()
                    .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let stopping = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let result = tokio::select! {
        biased;
        r = conn.as_mut() => r,
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}
