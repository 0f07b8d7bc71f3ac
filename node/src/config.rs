//! The node's configuration file, `kovan.toml` in its home. Every field is
//! optional; defaults are in [`NodeConfig::default`]. `kovan.example.toml` at
//! the repository root documents every field.

use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::{Error, Result};

/// The node's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// The name this device is certified under, shown to the user's contacts.
    /// Default: the machine's host name, or "kovan device".
    pub device_name: String,
    /// The relay's base URL, if any. Default: none (LAN and direct peers only).
    pub relay_url: Option<String>,
    /// libp2p listen addresses. Default: TCP and QUIC on all interfaces,
    /// ephemeral ports.
    pub listen: Vec<String>,
    /// Whether to find peers on the LAN with mDNS. Default: true.
    pub mdns: bool,
    /// Whether to deliver directly to peers when reachable. Off, every
    /// message goes through the relay's mailboxes. Default: true.
    pub direct: bool,
    /// Whether a file no other source brings may come over a data link, a
    /// WebRTC connection with the sender's device made without a call
    /// (SPEC.md §6.9.4); this device then also answers its friends' links.
    /// Default: true.
    pub file_links: bool,
    /// Received files up to this size are fetched at once. Default: 32 MiB.
    pub auto_download_max: u64,
    /// The largest file sent or fetched. Default: 2 GiB.
    pub max_file_size: u64,
    /// Log filter (tracing `EnvFilter` syntax). Default: "info".
    pub log: String,
    /// The name shown to people you befriend (at most 64 bytes). Default:
    /// none: they see your username (or your account's short id).
    pub display_name: Option<String>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            device_name: default_device_name(),
            relay_url: None,
            listen: vec!["/ip4/0.0.0.0/tcp/0".into(), "/ip4/0.0.0.0/udp/0/quic-v1".into()],
            mdns: true,
            direct: true,
            file_links: true,
            auto_download_max: 32 * 1024 * 1024,
            max_file_size: 2 * 1024 * 1024 * 1024,
            log: "info".into(),
            display_name: None,
        }
    }
}

fn default_device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.len() <= kovan_spec::limits::MAX_DEVICE_NAME)
        .unwrap_or_else(|| "kovan device".into())
}

impl NodeConfig {
    /// Loads the home's config file, or the defaults if there is none.
    pub fn load(home: &Home) -> Result<Self> {
        let path = home.config();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let cfg: Self = toml::from_str(&text)
            .map_err(|e| Error::Config { path: path.clone(), reason: e.to_string() })?;
        cfg.validate().map_err(|reason| Error::Config { path, reason })?;
        Ok(cfg)
    }

    /// Sets (or with `None` removes) `relay_url` in the home's config
    /// file, keeping every other line (comments included) as it is; the
    /// file is replaced atomically and checked by loading it back.
    pub fn save_relay_url(home: &Home, url: Option<&str>) -> Result<Self> {
        if let Some(u) = url {
            check_relay_url(u).map_err(|reason| Error::Config { path: home.config(), reason })?;
        }
        Self::save_string(home, "relay_url", url)
    }

    /// Sets (or with `None` removes) `display_name` in the config file,
    /// the same way.
    pub fn save_display_name(home: &Home, name: Option<&str>) -> Result<Self> {
        if name.is_some_and(|n| n.len() > kovan_spec::limits::MAX_DISPLAY_NAME) {
            return Err(Error::Config {
                path: home.config(),
                reason: "a display name is at most 64 bytes".into(),
            });
        }
        Self::save_string(home, "display_name", name)
    }

    /// Sets or removes one top-level string key, keeping the other lines.
    fn save_string(home: &Home, key: &str, value: Option<&str>) -> Result<Self> {
        let path = home.config();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let line = value.map(|u| toml::Value::String(u.to_owned())).map(|v| format!("{key} = {v}"));
        let mut out = Vec::new();
        let mut placed = false;
        for l in text.lines() {
            let trimmed = l.trim_start();
            if trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=') {
                if let (Some(new), false) = (&line, placed) {
                    out.push(new.clone());
                    placed = true;
                }
                continue;
            }
            out.push(l.to_owned());
        }
        if let (Some(new), false) = (line, placed) {
            // Top-level keys go before any table; the file has none, so first.
            out.insert(0, new);
        }
        let mut body = out.join("\n");
        body.push('\n');
        let tmp = path.with_extension("toml.tmp");
        crate::home::write_private(&tmp, body.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(Error::io(format!("writing {}", path.display())))?;
        Self::load(home)
    }

    /// Cross-field checks after loading.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.device_name.len() > kovan_spec::limits::MAX_DEVICE_NAME {
            return Err("device_name is longer than 64 bytes".into());
        }
        if self
            .display_name
            .as_ref()
            .is_some_and(|n| n.len() > kovan_spec::limits::MAX_DISPLAY_NAME)
        {
            return Err("display_name is longer than 64 bytes".into());
        }
        if self.max_file_size > kovan_spec::limits::MAX_FILE_SIZE {
            return Err("max_file_size is above the protocol's 64 GiB".into());
        }
        if let Some(url) = &self.relay_url {
            check_relay_url(url).map_err(|e| format!("relay_url: {e}"))?;
        }
        Ok(())
    }
}

/// Checks a relay address: an `http://` or `https://` URL with a host,
/// nothing else; the error says what a good one looks like.
pub fn check_relay_url(url: &str) -> std::result::Result<(), String> {
    let shown = crate::node::views::shown(url);
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|_| format!("{shown} is not a relay address like https://relay.example.org"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "{shown} is not a relay address: it starts with https:// (or http://) and names a host"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_can_be_changed_keeping_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        let cfg = NodeConfig::save_relay_url(&home, Some("http://127.0.0.1:1")).unwrap();
        assert_eq!(cfg.relay_url.as_deref(), Some("http://127.0.0.1:1"));
        std::fs::write(home.config(), "# my relay\nrelay_url = \"http://a\"\nmdns = false\n")
            .unwrap();
        let cfg = NodeConfig::save_relay_url(&home, Some("https://relay.example")).unwrap();
        assert_eq!(cfg.relay_url.as_deref(), Some("https://relay.example"));
        assert!(!cfg.mdns, "other settings stay");
        let text = std::fs::read_to_string(home.config()).unwrap();
        assert!(text.starts_with("# my relay\n"), "{text}");
        assert!(NodeConfig::save_relay_url(&home, Some("ftp://x")).is_err());
        assert_eq!(
            NodeConfig::load(&home).unwrap().relay_url.as_deref(),
            Some("https://relay.example")
        );
        let cfg = NodeConfig::save_relay_url(&home, None).unwrap();
        assert_eq!(cfg.relay_url, None);
    }

    #[test]
    fn the_example_config_parses_and_unknown_fields_are_refused() {
        let example = include_str!("../../kovan.example.toml");
        let cfg: NodeConfig = toml::from_str(example).unwrap();
        cfg.validate().unwrap();
        assert!(toml::from_str::<NodeConfig>("relay = \"x\"").is_err());
        let bad: NodeConfig = toml::from_str("relay_url = \"ftp://x\"").unwrap();
        assert!(bad.validate().is_err());
    }
}
