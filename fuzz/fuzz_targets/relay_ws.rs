//! The relay's WebSocket frame handler on arbitrary frames, over a real
//! socket to a real relay: the input is a sequence of frames (text,
//! binary, ping, pong) a logged-in client sends. Invariants: nothing
//! panics; afterwards the socket either still answers a ping or was closed
//! by the relay with a close frame (1003 for an unknown message); the
//! relay keeps serving HTTP.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::Message;

#[path = "common/mod.rs"]
mod common;

fn world() -> &'static common::RelayWorld {
    static W: OnceLock<common::RelayWorld> = OnceLock::new();
    W.get_or_init(|| common::RelayWorld::start(false))
}

/// Frames from the input: a kind byte, a length byte, that many bytes.
fn frames(mut data: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    while data.len() >= 2 && out.len() < 16 {
        let (kind, len) = (data[0] % 4, usize::from(data[1]).min(data.len() - 2));
        let payload = data[2..2 + len].to_vec();
        data = &data[2 + len..];
        out.push(match kind {
            0 => Message::Text(String::from_utf8_lossy(&payload).into_owned().into()),
            1 => Message::Binary(payload.into()),
            2 => Message::Ping(payload.into()),
            _ => Message::Pong(payload.into()),
        });
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let url = format!("{}/v1/ws", w.relay.url().replacen("http", "ws", 1));
    let Ok(mut req) = url.into_client_request() else {
        panic!("the relay's URL is not a WebSocket URL")
    };
    let Ok(bearer) = format!("Bearer {}", w.token).parse() else {
        panic!("the token is not a header value")
    };
    req.headers_mut().insert("authorization", bearer);
    w.rt.block_on(async {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(req).await else {
            panic!("the relay refused a logged-in client's socket")
        };
        for f in frames(data) {
            if ws.send(f).await.is_err() {
                break;
            }
        }
        // Still open (it answers a ping), or closed by the relay on purpose.
        let _ = ws.send(Message::Ping(b"probe".to_vec().into())).await;
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(m) = ws.next().await {
                match m {
                    Ok(Message::Pong(p)) if p.as_ref() == b"probe" => return "open",
                    Ok(Message::Close(Some(c))) => {
                        assert_eq!(u16::from(c.code), 1003, "closed with {c:?}");
                        return "closed";
                    }
                    Ok(Message::Close(None)) => panic!("closed without a reason"),
                    Ok(_) => {}
                    Err(_) => return "closed",
                }
            }
            "closed"
        })
        .await;
        assert!(end.is_ok(), "the socket neither answered nor closed");
        let _ = ws.close(None).await;
        assert!(w.client.info().await.is_ok(), "the relay stopped serving");
    });
});
