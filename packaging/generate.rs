//! `completions <SHELL>` and `man <DIR>`: the hidden commands of `kovan` and
//! `kovan-relay` that write their shell completions and man pages from the
//! clap definitions, for the packages (`scripts/package.sh`). Both binaries
//! include this file (`#[path]`) and parse these commands apart from their
//! others, so that they show in neither `--help` nor what they write.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;

#[derive(Debug, Parser)]
pub enum Generate {
    /// Print the completion script for a shell (bash, zsh, fish, elvish,
    /// powershell) to stdout.
    Completions { shell: clap_complete::Shell },
    /// Write the man pages, the command's and one per subcommand (like
    /// kovan-friend-request.1), into a directory.
    Man { dir: PathBuf },
}

impl Generate {
    /// The hidden command on this process's command line, when its first
    /// argument names one.
    pub fn from_args() -> Option<Self> {
        let first = std::env::args_os().nth(1)?;
        (first == "completions" || first == "man").then(Self::parse)
    }

    /// Writes what was asked for `cmd`, the binary's clap command.
    pub fn exec(&self, mut cmd: clap::Command) -> anyhow::Result<()> {
        match self {
            Generate::Completions { shell } => {
                let name = cmd.get_name().to_owned();
                let mut script = Vec::new();
                clap_complete::generate(*shell, &mut cmd, name, &mut script);
                std::io::stdout().write_all(&script).context("writing the completions")?;
            }
            Generate::Man { dir } => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                clap_mangen::generate_to(cmd, dir)
                    .with_context(|| format!("writing man pages into {}", dir.display()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::{Arg, Command};

    use super::*;

    fn cli() -> Command {
        Command::new("tool")
            .version("1.0 (commit abc)")
            .subcommand(Command::new("send").arg(Arg::new("to")))
            .subcommand(Command::new("group").subcommand(Command::new("create")))
            .subcommand(Command::new("secret").hide(true))
    }

    #[test]
    fn man_pages_cover_every_visible_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        Generate::Man { dir: dir.path().join("man") }.exec(cli()).expect("man pages");
        let mut pages: Vec<_> = std::fs::read_dir(dir.path().join("man"))
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        pages.sort();
        assert_eq!(pages, ["tool-group-create.1", "tool-group.1", "tool-send.1", "tool.1"]);
        let top = std::fs::read_to_string(dir.path().join("man/tool.1")).expect("tool.1");
        assert!(top.contains("commit abc"), "the page names the version and commit");
    }
}
