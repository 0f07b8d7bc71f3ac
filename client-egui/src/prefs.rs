//! The window's own preferences, kept in `desktop.toml` in the home (next
//! to the node's `kovan.toml`): theme, language, notifications and sound
//! devices. They hold no secret, so the file is plain; a file that does
//! not parse is reported and the defaults are used (it is rewritten on the
//! next change).

use std::path::{Path, PathBuf};

use eframe::egui;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// Light, dark, or whatever the system uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the system (the default).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// Every choice, in the order Settings lists them.
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// What egui is told.
    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Theme::System => egui::ThemePreference::System,
            Theme::Light => egui::ThemePreference::Light,
            Theme::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// How much a message notification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyContent {
    /// The sender's name and the message.
    #[default]
    NameAndMessage,
    /// The sender's name only.
    NameOnly,
    /// "New message", nothing more.
    Nothing,
}

impl NotifyContent {
    /// Every choice, in the order Settings lists them.
    pub const ALL: [NotifyContent; 3] =
        [NotifyContent::NameAndMessage, NotifyContent::NameOnly, NotifyContent::Nothing];
}

/// The preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Light, dark or the system's.
    pub theme: Theme,
    /// The interface's language (`None`: the system's).
    pub language: Option<Lang>,
    /// Desktop notifications for messages, requests and invitations.
    pub notifications: bool,
    /// What a message notification shows.
    pub notify_content: NotifyContent,
    /// The microphone, by name (`None`: the system's default).
    pub microphone: Option<String>,
    /// The speaker, by name (`None`: the system's default).
    pub speaker: Option<String>,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            theme: Theme::System,
            language: None,
            notifications: true,
            notify_content: NotifyContent::NameAndMessage,
            microphone: None,
            speaker: None,
        }
    }
}

impl Prefs {
    /// Where they live for this home.
    pub fn path(home: &Path) -> PathBuf {
        home.join("desktop.toml")
    }

    /// Reads them (the defaults when there is no file yet). A file that
    /// does not parse gives the defaults and the reason.
    pub fn load(home: &Path) -> (Prefs, Option<String>) {
        let path = Self::path(home);
        match std::fs::read_to_string(&path) {
            Ok(text) => match toml::from_str(&text) {
                Ok(p) => (p, None),
                Err(e) => (Prefs::default(), Some(format!("{}: {e}", path.display()))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Prefs::default(), None),
            Err(e) => (Prefs::default(), Some(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes them (whole, through a temporary file, so a crash never
    /// leaves half a file).
    pub fn save(&self, home: &Path) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(home)?;
        let tmp = home.join("desktop.toml.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, Self::path(home))
    }

    /// The sound devices chosen.
    pub fn devices(&self) -> crate::audio::Chosen {
        crate::audio::Chosen { input: self.microphone.clone(), output: self.speaker.clone() }
    }

    /// The language shown: the chosen one, else the system's.
    pub fn lang(&self) -> Lang {
        self.language.unwrap_or_else(Lang::system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_survive_a_save_and_a_broken_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Prefs::load(dir.path()), (Prefs::default(), None));
        let p = Prefs {
            theme: Theme::Dark,
            language: Some(Lang::Tr),
            notifications: false,
            notify_content: NotifyContent::NameOnly,
            microphone: Some("USB Mic".into()),
            speaker: None,
        };
        p.save(dir.path()).unwrap();
        assert_eq!(Prefs::load(dir.path()), (p, None));
        std::fs::write(Prefs::path(dir.path()), "theme = 7").unwrap();
        let (p, e) = Prefs::load(dir.path());
        assert_eq!(p, Prefs::default());
        assert!(e.is_some_and(|e| e.contains("desktop.toml")));
    }
}
