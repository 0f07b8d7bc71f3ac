//! NAT help for calls (SPEC.md §9.7.1): a STUN and TURN server on UDP
//! (`turn_listen`; off unless set) and `POST /v1/turn/credentials`, which
//! gives a logged-in account short-lived TURN credentials. The server
//! accepts only those: a username `EXPIRY:ACCOUNT` and a password that is
//! HMAC-SHA1 of it under a secret this relay process drew at start (the
//! TURN REST API's scheme), so strangers cannot relay through it and
//! credentials end at their expiry or the relay's restart.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::{Json, Router};
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Authed;
use crate::state::Shared;

/// How long credentials last: a day, so a long call's allocation can be
/// refreshed with the credentials it began with.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(24 * 3600);
/// The realm TURN answers with.
pub const REALM: &str = "kovan";

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(credentials),
    tags((name = "turn", description = "STUN and TURN for calls"))
)]
pub struct ApiDoc;

/// The routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/v1/turn/credentials", axum::routing::post(credentials))
}

/// What a client needs to use this relay's TURN server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct TurnCredentials {
    /// `stun:` and `turn:` URLs of the server.
    pub urls: Vec<String>,
    /// The TURN user name (`EXPIRY:ACCOUNT`).
    pub username: String,
    /// The TURN password.
    pub credential: String,
    /// Seconds they stay valid.
    pub ttl_secs: u64,
}

/// The running server's secret and addresses.
pub struct Turn {
    secret: [u8; 32],
    urls: Vec<String>,
    server: turn::server::Server,
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").field("urls", &self.urls).finish_non_exhaustive()
    }
}

fn password(secret: &[u8; 32], username: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, username.as_bytes()))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Checks a TURN user's credentials (the server asks for the key of
/// username, realm and password, RFC 8489 §9.2).
struct Auth {
    secret: [u8; 32],
}

impl turn::auth::AuthHandler for Auth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        src: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let expiry = username
            .split_once(':')
            .and_then(|(e, _)| e.parse::<u64>().ok())
            .ok_or_else(|| turn::Error::Other("not a kovan TURN user".into()))?;
        if expiry < now_secs() {
            tracing::debug!(%src, "expired TURN credentials");
            return Err(turn::Error::Other("expired credentials".into()));
        }
        let pass = password(&self.secret, username);
        Ok(turn::auth::generate_auth_key(username, realm, &pass))
    }
}

impl Turn {
    /// Starts STUN and TURN on `listen`; allocations are advertised at
    /// `external` (the address clients reach; `listen`'s if unset).
    pub async fn start(listen: SocketAddr, external: Option<IpAddr>) -> anyhow::Result<Self> {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let socket = tokio::net::UdpSocket::bind(listen).await?;
        let bound = socket.local_addr()?;
        let public = external.unwrap_or(bound.ip());
        anyhow::ensure!(
            !public.is_unspecified(),
            "turn_listen binds every address: say which one clients reach in turn_external"
        );
        let generator = turn::relay::relay_static::RelayAddressGeneratorStatic {
            relay_address: public,
            address: bound.ip().to_string(),
            net: Arc::new(webrtc_util::vnet::net::Net::new(None)),
        };
        let server = turn::server::Server::new(turn::server::config::ServerConfig {
            conn_configs: vec![turn::server::config::ConnConfig {
                conn: Arc::new(socket),
                relay_addr_generator: Box::new(generator),
            }],
            realm: REALM.to_owned(),
            auth_handler: Arc::new(Auth { secret }),
            channel_bind_timeout: Duration::from_secs(0),
            alloc_close_notify: None,
        })
        .await?;
        let host = SocketAddr::new(public, bound.port());
        let urls = vec![format!("stun:{host}"), format!("turn:{host}?transport=udp")];
        tracing::info!(%bound, %public, "STUN and TURN listening");
        Ok(Self { secret, urls, server })
    }

    /// Credentials for `account` until [`CREDENTIAL_TTL`] from now.
    pub fn credentials(&self, account: i64) -> TurnCredentials {
        let username = format!("{}:{account}", now_secs() + CREDENTIAL_TTL.as_secs());
        TurnCredentials {
            urls: self.urls.clone(),
            credential: password(&self.secret, &username),
            username,
            ttl_secs: CREDENTIAL_TTL.as_secs(),
        }
    }

    /// Relay allocations held now (one per client transport).
    pub async fn allocations(&self) -> usize {
        self.server.get_allocations_info(None).await.map(|a| a.len()).unwrap_or(0)
    }

    /// Stops the server (allocations end).
    pub async fn close(&self) {
        if let Err(e) = self.server.close().await {
            tracing::debug!(error = %e, "closing TURN");
        }
    }
}

/// Short-lived TURN credentials for the caller's account (404 `turn_off`
/// when this relay runs no TURN server).
#[utoipa::path(post, path = "/v1/turn/credentials", tag = "turn", security(("bearer" = [])),
    responses((status = 200, body = TurnCredentials), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "turn_off")))]
pub async fn credentials(
    State(st): State<Shared>,
    Authed(s): Authed,
) -> ApiResult<Json<TurnCredentials>> {
    let turn = st.turn.get().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "turn_off",
            "this relay runs no TURN server",
        )
    })?;
    Ok(Json(turn.credentials(s.account_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use turn::auth::AuthHandler as _;

    #[test]
    fn only_unexpired_credentials_this_relay_made_authenticate() {
        let secret = [7u8; 32];
        let auth = Auth { secret };
        let src: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let user = format!("{}:42", now_secs() + 60);
        let key = auth.auth_handle(&user, REALM, src).unwrap();
        assert_eq!(key, turn::auth::generate_auth_key(&user, REALM, &password(&secret, &user)));
        // Another relay's secret gives another key: its credentials fail.
        assert_ne!(key, turn::auth::generate_auth_key(&user, REALM, &password(&[8; 32], &user)));
        let old = format!("{}:42", now_secs() - 1);
        assert!(auth.auth_handle(&old, REALM, src).is_err());
        assert!(auth.auth_handle("guest", REALM, src).is_err());
    }
}
