//! Password-sealed chats (X6): `seal`, `unlock`, `lock`. The password comes
//! from --password-file, KOVAN_CHAT_PASSWORD, or a prompt; it goes to the
//! local daemon only and never leaves the device.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use crate::{Context, remote, secret};

/// Where a chat password comes from.
#[derive(Debug, Args)]
struct PasswordFrom {
    /// File holding the chat password (first line).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

fn conversation_line(v: &Value) -> String {
    let state = if v["locked"].as_bool() == Some(true) { "locked" } else { "unlocked" };
    format!(
        "{} ({}) — sealed, {state}",
        v["title"].as_str().unwrap_or(""),
        v["id"].as_str().unwrap_or("")
    )
}

/// Seal a chat or group with a password you share with its members out of
/// band (or change its password: the chat must be unlocked). Text sent
/// from now on is sealed under it, also on their devices, and shows only
/// where the password was typed. A sealed chat carries text only.
#[derive(Debug, Args)]
pub struct Seal {
    /// A contact or conversation id.
    conversation: String,
    #[command(flatten)]
    password: PasswordFrom,
}

impl Seal {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let password = secret::read(
            self.password.password_file.as_ref(),
            "KOVAN_CHAT_PASSWORD",
            "Chat password: ",
            true,
        )?;
        let params = json!({ "conversation": self.conversation, "password": password.as_str() });
        remote::run(ctx, "seal", params, |v| {
            println!("{}. Tell its members the password in person.", conversation_line(v))
        })
    }
}

/// Unlock a sealed chat on this device with its password (it locks again
/// after 5 minutes without use, or with `kovan lock`).
#[derive(Debug, Args)]
pub struct Unlock {
    /// A contact or conversation id.
    conversation: String,
    #[command(flatten)]
    password: PasswordFrom,
}

impl Unlock {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let password = secret::read(
            self.password.password_file.as_ref(),
            "KOVAN_CHAT_PASSWORD",
            "Chat password: ",
            false,
        )?;
        let params = json!({ "conversation": self.conversation, "password": password.as_str() });
        remote::run(ctx, "unlock_chat", params, |v| println!("{}", conversation_line(v)))
    }
}

/// Lock a sealed chat on this device now.
#[derive(Debug, Args)]
pub struct Lock {
    /// A contact or conversation id.
    conversation: String,
}

impl Lock {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "conversation": self.conversation });
        remote::run(ctx, "lock_chat", params, |v| println!("{}", conversation_line(v)))
    }
}
