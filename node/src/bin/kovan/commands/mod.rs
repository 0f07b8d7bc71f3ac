//! Every `kovan` command: one module per group of commands. Each module
//! defines its commands' arguments (a clap `Args` struct, or a `Subcommand`
//! enum for a command with subcommands, whose doc comment is the help) and
//! their `exec`. This file only lists them, in the order `kovan --help`
//! shows them, and dispatches.

mod account;
mod call;
mod chat;
mod community;
mod conditional;
mod daemon;
#[cfg(feature = "demo")]
mod demo;
mod files;
mod friends;
mod groups;
mod invite;
mod location;
mod media;
mod poll;
mod schedule;
mod seal;
mod spread;

use clap::Subcommand;

use crate::Context;

// A variant's help is its type's doc comment, in its module.
#[derive(Debug, Subcommand)]
pub enum Command {
    Init(account::Init),
    Whoami(account::Whoami),
    SafetyNumber(friends::SafetyNumber),
    Passwd(account::Passwd),
    Daemon(daemon::Daemon),
    #[cfg(feature = "demo")]
    Demo(demo::Demo),
    Register(account::Register),
    Login(account::Login),
    Logout(account::Logout),
    Status(daemon::Status),
    Search(friends::Search),
    #[command(subcommand)]
    Friend(friends::Friend),
    #[command(subcommand)]
    Invite(invite::Invite),
    #[command(subcommand)]
    Group(groups::Group),
    #[command(subcommand)]
    Poll(poll::Poll),
    ShareLocation(location::ShareLocation),
    #[command(subcommand)]
    Location(location::Location),
    #[command(subcommand)]
    Schedule(schedule::Schedule),
    Conversations(chat::Conversations),
    #[command(subcommand)]
    Chat(chat::Chat),
    Seal(seal::Seal),
    Unlock(seal::Unlock),
    Lock(seal::Lock),
    Send(chat::SendText),
    Open(conditional::Open),
    Agree(conditional::Agree),
    CheckIn(conditional::CheckIn),
    #[command(subcommand)]
    Spread(spread::Spread),
    SendFile(files::SendFile),
    SendImage(files::SendImage),
    SendVoice(media::SendVoice),
    Call(call::Call),
    Answer(call::Answer),
    Reject(call::Reject),
    Hangup(call::Hangup),
    Mute(call::Mute),
    Camera(call::Camera),
    ShareScreen(call::ShareScreen),
    Calls(call::Calls),
    VoiceToWav(media::VoiceToWav),
    Files(files::Files),
    FetchFile(files::FetchFile),
    CancelFile(files::CancelFile),
    History(chat::History),
    React(chat::React),
    Edit(chat::Edit),
    Delete(chat::Delete),
    Receipts(chat::Receipts),
    Verify(friends::Verify),
    Connect(daemon::Connect),
    ReadReceipts(chat::ReadReceipts),
    Settings(account::Settings),
    Sessions(account::Sessions),
    ChangePassword(account::ChangePassword),
    Avatar(account::Avatar),
    DeleteAccount(account::DeleteAccount),
    Watch(chat::Watch),
    #[command(subcommand)]
    Community(community::Community),
    Post(community::Post),
    Comment(community::Comment),
    Like(community::Like),
    Repost(community::Repost),
    Report(community::Report),
    Feed(community::Feed),
    Thread(community::Thread),
}

impl Command {
    /// Runs the command.
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Command::Init(c) => c.exec(ctx),
            Command::Whoami(c) => c.exec(ctx),
            Command::SafetyNumber(c) => c.exec(ctx),
            Command::Passwd(c) => c.exec(ctx),
            Command::Daemon(c) => c.exec(ctx),
            #[cfg(feature = "demo")]
            Command::Demo(c) => c.exec(ctx),
            Command::Register(c) => c.exec(ctx),
            Command::Login(c) => c.exec(ctx),
            Command::Logout(c) => c.exec(ctx),
            Command::Status(c) => c.exec(ctx),
            Command::Search(c) => c.exec(ctx),
            Command::Friend(c) => c.exec(ctx),
            Command::Invite(c) => c.exec(ctx),
            Command::Group(c) => c.exec(ctx),
            Command::Poll(c) => c.exec(ctx),
            Command::ShareLocation(c) => c.exec(ctx),
            Command::Location(c) => c.exec(ctx),
            Command::Schedule(c) => c.exec(ctx),
            Command::Conversations(c) => c.exec(ctx),
            Command::Chat(c) => c.exec(ctx),
            Command::Seal(c) => c.exec(ctx),
            Command::Unlock(c) => c.exec(ctx),
            Command::Lock(c) => c.exec(ctx),
            Command::Send(c) => c.exec(ctx),
            Command::Open(c) => c.exec(ctx),
            Command::Agree(c) => c.exec(ctx),
            Command::CheckIn(c) => c.exec(ctx),
            Command::Spread(c) => c.exec(ctx),
            Command::SendFile(c) => c.exec(ctx),
            Command::SendImage(c) => c.exec(ctx),
            Command::SendVoice(c) => c.exec(ctx),
            Command::Call(c) => c.exec(ctx),
            Command::Answer(c) => c.exec(ctx),
            Command::Reject(c) => c.exec(ctx),
            Command::Hangup(c) => c.exec(ctx),
            Command::Mute(c) => c.exec(ctx),
            Command::Camera(c) => c.exec(ctx),
            Command::ShareScreen(c) => c.exec(ctx),
            Command::Calls(c) => c.exec(ctx),
            Command::VoiceToWav(c) => c.exec(ctx),
            Command::Files(c) => c.exec(ctx),
            Command::FetchFile(c) => c.exec(ctx),
            Command::CancelFile(c) => c.exec(ctx),
            Command::History(c) => c.exec(ctx),
            Command::React(c) => c.exec(ctx),
            Command::Edit(c) => c.exec(ctx),
            Command::Delete(c) => c.exec(ctx),
            Command::Receipts(c) => c.exec(ctx),
            Command::Verify(c) => c.exec(ctx),
            Command::Connect(c) => c.exec(ctx),
            Command::ReadReceipts(c) => c.exec(ctx),
            Command::Settings(c) => c.exec(ctx),
            Command::Sessions(c) => c.exec(ctx),
            Command::ChangePassword(c) => c.exec(ctx),
            Command::Avatar(c) => c.exec(ctx),
            Command::DeleteAccount(c) => c.exec(ctx),
            Command::Watch(c) => c.exec(ctx),
            Command::Community(c) => c.exec(ctx),
            Command::Post(c) => c.exec(ctx),
            Command::Comment(c) => c.exec(ctx),
            Command::Like(c) => c.exec(ctx),
            Command::Repost(c) => c.exec(ctx),
            Command::Report(c) => c.exec(ctx),
            Command::Feed(c) => c.exec(ctx),
            Command::Thread(c) => c.exec(ctx),
        }
    }
}
