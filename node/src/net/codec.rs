//! The `/kovan/envelope/1` codec (SPEC.md §7.2): one unsigned-LEB128
//! length-prefixed protobuf message each way, each bounded by its limit
//! before anything is allocated.

use std::io;

use futures_util::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use kovan_spec::{Bounded, wire};
use libp2p::StreamProtocol;

/// The envelope protocol id (SPEC.md §7.2).
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/kovan/envelope/1");
/// The contact-card protocol id (SPEC.md §7.3).
pub const CARD_PROTOCOL: StreamProtocol = StreamProtocol::new("/kovan/card/1");

/// A request-response codec for one bounded protobuf request and response,
/// each length-prefixed.
#[derive(Debug)]
pub struct ProtoCodec<Req, Resp>(std::marker::PhantomData<fn() -> (Req, Resp)>);

impl<Req, Resp> Default for ProtoCodec<Req, Resp> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<Req, Resp> Clone for ProtoCodec<Req, Resp> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// The `/kovan/envelope/1` codec.
pub type EnvelopeCodec = ProtoCodec<wire::DirectDelivery, wire::DirectAck>;
/// The `/kovan/card/1` codec.
pub type CardCodec = ProtoCodec<wire::CardRequest, wire::ContactCard>;

async fn read_varint<T: AsyncRead + Unpin>(io: &mut T) -> io::Result<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        io.read_exact(&mut b).await?;
        value |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(io::Error::new(io::ErrorKind::InvalidData, "length prefix longer than 10 bytes"))
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// Reads one length-prefixed message of type `M`, refusing lengths above
/// its limit before allocating.
pub async fn read_message<M: Bounded, T: AsyncRead + Unpin>(io: &mut T) -> io::Result<M> {
    let len = read_varint(io).await?;
    if len > M::MAX_LEN as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} of {len} bytes exceeds {}", M::NAME, M::MAX_LEN),
        ));
    }
    let mut buf = vec![0u8; len as usize];
    io.read_exact(&mut buf).await?;
    kovan_spec::decode(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes one length-prefixed message.
pub async fn write_message<M: prost::Message, T: AsyncWrite + Unpin>(
    io: &mut T,
    msg: &M,
) -> io::Result<()> {
    write_frame(io, msg).await?;
    io.close().await
}

/// Writes one length-prefixed message and leaves the stream open (more
/// bytes follow: SPEC.md §7.7.3).
pub async fn write_frame<M: prost::Message, T: AsyncWrite + Unpin>(
    io: &mut T,
    msg: &M,
) -> io::Result<()> {
    let bytes = msg.encode_to_vec();
    io.write_all(&varint(bytes.len() as u64)).await?;
    io.write_all(&bytes).await
}

impl<Req, Resp> libp2p::request_response::Codec for ProtoCodec<Req, Resp>
where
    Req: Bounded + Send + 'static,
    Resp: Bounded + Send + 'static,
{
    type Protocol = StreamProtocol;
    type Request = Req;
    type Response = Resp;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Self::Request> {
        read_message(io).await
    }
    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Self::Response> {
        read_message(io).await
    }
    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Self::Request,
    ) -> io::Result<()> {
        write_message(io, &req).await
    }
    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Self::Response,
    ) -> io::Result<()> {
        write_message(io, &res).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::io::Cursor;

    #[tokio::test]
    async fn round_trip_and_limits() {
        {
            let msg = wire::DirectDelivery { envelopes: vec![vec![7; 300]] };
            let mut buf = Cursor::new(Vec::new());
            write_message(&mut buf, &msg).await.unwrap();
            let bytes = buf.into_inner();
            // 1 tag byte + 2 length bytes + 300 = 303 = LEB128 af 02 (a one-envelope batch).
            assert_eq!(bytes.len(), 2 + 303);
            assert_eq!(&bytes[..2], &[0xaf, 0x02][..]);
            let back: wire::DirectDelivery =
                read_message(&mut Cursor::new(bytes.clone())).await.unwrap();
            assert_eq!(back, msg);

            // A length above the limit is refused before reading the body.
            let mut huge = varint(u64::MAX >> 1);
            huge.extend_from_slice(&[0; 8]);
            assert!(read_message::<wire::DirectAck, _>(&mut Cursor::new(huge)).await.is_err());
            // A never-ending varint is refused.
            assert!(
                read_message::<wire::DirectAck, _>(&mut Cursor::new(vec![0xff; 20])).await.is_err()
            );
            // Truncated bodies are errors.
            assert!(
                read_message::<wire::DirectDelivery, _>(&mut Cursor::new(bytes[..100].to_vec()))
                    .await
                    .is_err()
            );
        }
    }
}
