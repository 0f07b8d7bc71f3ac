//! Passphrases and passwords: from a file, an environment variable, or a
//! prompt on the terminal.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use zeroize::Zeroizing;

/// A secret: the first line of `file`, else the variable `env`, else asked
/// for at `prompt` (twice when `confirm`). Off a terminal, with neither file
/// nor variable, it fails rather than wait for input.
pub fn read(
    file: Option<&PathBuf>,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> anyhow::Result<Zeroizing<String>> {
    if let Some(f) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        );
        return Ok(Zeroizing::new(text.lines().next().unwrap_or("").to_owned()));
    }
    if let Ok(v) = std::env::var(env) {
        return Ok(Zeroizing::new(v));
    }
    if !std::io::stdin().is_terminal() {
        let what = prompt.trim_end_matches(": ").to_lowercase();
        bail!("no {what}: set {env} or give the file option when not on a terminal");
    }
    let first = Zeroizing::new(rpassword::prompt_password(prompt)?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Repeat it: ")?);
        if first != second {
            bail!("the passphrases differ");
        }
    }
    Ok(first)
}

/// The shortest keystore passphrase accepted: it is all that stands
/// between a stolen disk and the keys (Argon2id slows guessing, it does
/// not make a short passphrase strong).
pub const MIN_PASSPHRASE: usize = 8;

/// Refuses a passphrase shorter than [`MIN_PASSPHRASE`] characters.
pub fn check_passphrase(p: &str) -> anyhow::Result<()> {
    if p.chars().count() < MIN_PASSPHRASE {
        bail!(
            "a passphrase has at least {MIN_PASSPHRASE} characters (a few words are best); \
             it protects your keys if this device is lost"
        );
    }
    Ok(())
}
