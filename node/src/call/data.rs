//! A call's data channels as byte streams (SPEC.md §6.9.1): a file is
//! fetched over a channel of the call's peer connection with the same
//! messages and ciphertext as `/kovan/file/1`, so [`ChannelStream`] reads
//! and writes like a libp2p stream.
//!
//! Writes are cut into messages of at most [`MESSAGE`] bytes (the peer
//! takes 256 KiB, webrtc-rs's default); a write is
//! taken as soon as the channel queues it, and the next one waits while
//! the channel holds [`SEND_BUFFER`] bytes the peer has not acknowledged.
//! A channel has no half-close, so closing the stream, as on a libp2p
//! stream, only ends this side's writing: it waits until the peer
//! acknowledged everything written. Dropping the stream closes the
//! channel.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// The label of a channel that fetches one file (SPEC.md §6.9.1).
pub const FILE_CHANNEL: &str = "kovan-file/1";
/// The label of the channel a caller opens before its offer, so that the
/// offer carries a data-channel association; it carries nothing.
pub const CALL_CHANNEL: &str = "kovan";
/// The largest message written.
pub const MESSAGE: usize = 64 * 1024;
/// Bytes a channel may hold unacknowledged before writes wait.
pub const SEND_BUFFER: usize = 4 * 1024 * 1024;
/// How long closing waits for the peer to acknowledge what was written.
const DRAIN_WAIT: Duration = Duration::from_secs(30);

type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn channel_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, format!("data channel: {e}"))
}

/// One data channel, read and written as bytes.
pub struct ChannelStream {
    dc: Arc<dyn DataChannel>,
    /// What arrived and was not read yet.
    inbound: BytesMut,
    reading: Option<Pending<Option<DataChannelEvent>>>,
    writing: Option<Pending<io::Result<()>>>,
    closing: Option<Pending<io::Result<()>>>,
    ended: bool,
    /// See [`Self::opened`].
    _twin: Option<Arc<dyn DataChannel>>,
    /// Counts this stream among its connection's open channels.
    _in_use: Option<InUse>,
}

/// One open channel in its connection's count (see [`ChannelStream::counted`]).
struct InUse(Arc<AtomicUsize>);

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for ChannelStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelStream").field("id", &self.dc.id()).finish_non_exhaustive()
    }
}

impl ChannelStream {
    /// A stream over `dc` (open, or opening: what is written waits).
    pub fn new(dc: Arc<dyn DataChannel>) -> Self {
        Self {
            dc,
            inbound: BytesMut::new(),
            reading: None,
            writing: None,
            closing: None,
            ended: false,
            _twin: None,
            _in_use: None,
        }
    }

    /// Counts the stream in `open` until it is dropped (a data link ends
    /// when none of its channels was open for a while, SPEC.md §6.9.4).
    pub fn counted(mut self, open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        self._in_use = Some(InUse(open.clone()));
        self
    }

    /// Waits until `dc`, created here, opened. The connection may
    /// announce a channel this side created as if the peer had opened it
    /// (when it opens before `create_data_channel` returns); that twin
    /// handle arrives through `twin`, means the channel is open, and is
    /// kept as long as the stream (dropping it would end `dc`'s events).
    pub async fn opened(
        dc: Arc<dyn DataChannel>,
        twin: tokio::sync::oneshot::Receiver<Arc<dyn DataChannel>>,
        wait: Duration,
    ) -> io::Result<Self> {
        let own = async {
            loop {
                match dc.poll().await {
                    Some(DataChannelEvent::OnOpen) => return Ok(None),
                    Some(DataChannelEvent::OnError) => {
                        return Err(channel_err("the peer did not open it"));
                    }
                    Some(DataChannelEvent::OnClose | DataChannelEvent::OnClosing) | None => {
                        return Err(channel_err("closed before it opened"));
                    }
                    Some(_) => {}
                }
            }
        };
        let open = async {
            tokio::select! {
                r = own => r,
                Ok(t) = twin => Ok(Some(t)),
            }
        };
        match tokio::time::timeout(wait, open).await {
            Ok(Ok(twin)) => {
                let mut stream = Self::new(dc);
                stream._twin = twin;
                Ok(stream)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "the data channel did not open")),
        }
    }

    fn poll_written(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(w) = &mut self.writing {
            let r = ready!(w.as_mut().poll(cx));
            self.writing = None;
            r?;
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for ChannelStream {
    fn drop(&mut self) {
        let dc = self.dc.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                // Closed already by the peer: nothing more to do.
                let _ = dc.close().await;
            });
        }
    }
}

impl futures_util::AsyncRead for ChannelStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if !this.inbound.is_empty() {
                let n = buf.len().min(this.inbound.len());
                buf[..n].copy_from_slice(&this.inbound[..n]);
                this.inbound.advance(n);
                return Poll::Ready(Ok(n));
            }
            if this.ended || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let dc = this.dc.clone();
            let next = this.reading.get_or_insert_with(|| Box::pin(async move { dc.poll().await }));
            let event = ready!(next.as_mut().poll(cx));
            this.reading = None;
            match event {
                Some(DataChannelEvent::OnMessage(m)) => this.inbound = m.data,
                Some(DataChannelEvent::OnError) => {
                    return Poll::Ready(Err(channel_err("the channel failed")));
                }
                Some(DataChannelEvent::OnClosing | DataChannelEvent::OnClose) | None => {
                    this.ended = true;
                }
                Some(_) => {}
            }
        }
    }
}

impl futures_util::AsyncWrite for ChannelStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_written(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = buf.len().min(MESSAGE);
        let data = BytesMut::from(&buf[..n]);
        let dc = this.dc.clone();
        let mut send: Pending<io::Result<()>> =
            Box::pin(async move { dc.send(data).await.map_err(channel_err) });
        // Taken once queued: a later write or flush reports its failure.
        // A send that cannot be queued at once runs on a task of its own,
        // so that it goes out even if this stream is only read from next
        // (a caller that writes and then reads without flushing would
        // otherwise leave its last message unsent, and both sides wait).
        match send.as_mut().poll(cx) {
            Poll::Ready(r) => r?,
            Poll::Pending => match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    let task = rt.spawn(send);
                    this.writing = Some(Box::pin(async move { task.await.map_err(channel_err)? }));
                }
                Err(_) => this.writing = Some(send),
            },
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_written(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_written(cx))?;
        let dc = this.dc.clone();
        let closing = this.closing.get_or_insert_with(|| {
            Box::pin(async move {
                let drained = async {
                    while dc.outstanding_bytes().await.unwrap_or(0) > 0 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                };
                tokio::time::timeout(DRAIN_WAIT, drained).await.map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "the peer did not take what was sent")
                })
            })
        });
        let r = ready!(closing.as_mut().poll(cx));
        this.closing = None;
        Poll::Ready(r)
    }
}
