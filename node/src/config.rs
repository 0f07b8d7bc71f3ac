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
    /// Received files up to this size are fetched at once. Default: 32 MiB.
    pub auto_download_max: u64,
    /// The largest file sent or fetched. Default: 2 GiB.
    pub max_file_size: u64,
    /// Log filter (tracing `EnvFilter` syntax). Default: "info".
    pub log: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            device_name: default_device_name(),
            relay_url: None,
            listen: vec!["/ip4/0.0.0.0/tcp/0".into(), "/ip4/0.0.0.0/udp/0/quic-v1".into()],
            mdns: true,
            direct: true,
            auto_download_max: 32 * 1024 * 1024,
            max_file_size: 2 * 1024 * 1024 * 1024,
            log: "info".into(),
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
        let path = home.config();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let line =
            url.map(|u| toml::Value::String(u.to_owned())).map(|v| format!("relay_url = {v}"));
        if let Some(u) = url {
            let probe = Self { relay_url: Some(u.to_owned()), ..Self::default() };
            probe.validate().map_err(|reason| Error::Config { path: path.clone(), reason })?;
        }
        let mut out = Vec::new();
        let mut placed = false;
        for l in text.lines() {
            let key = l.trim_start();
            if key.starts_with("relay_url")
                && key["relay_url".len()..].trim_start().starts_with('=')
            {
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
        if self.max_file_size > kovan_spec::limits::MAX_FILE_SIZE {
            return Err("max_file_size is above the protocol's 64 GiB".into());
        }
        if let Some(url) = &self.relay_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("relay_url {url:?} must start with http:// or https://"));
        }
        Ok(())
    }
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
