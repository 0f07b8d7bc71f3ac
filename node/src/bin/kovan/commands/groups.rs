//! Groups: `group create`, `list`, `info`, invitations and their answers,
//! names and descriptions, roles, removal and bans, muting, leaving,
//! deleting.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::output::{self, group_line, invitation_line};
use crate::{Context, remote};

/// Groups: create, invite, answer invitations, roles, leave, delete.
#[derive(Debug, Subcommand)]
pub enum Group {
    /// Create a group; you are its admin.
    Create {
        /// Its name.
        name: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        /// Let members who are not admins invite friends.
        #[arg(long)]
        members_invite: bool,
        /// Its messages, files and receipts travel only directly between
        /// the members' devices, never through a relay; they wait while
        /// no direct connection exists. Fixed for the group's life.
        #[arg(long)]
        direct_only: bool,
    },
    /// List your groups.
    List,
    /// Show a group: members, roles, bans.
    Info {
        /// The group (name or id).
        group: String,
    },
    /// Invite a friend.
    Invite {
        /// The group.
        group: String,
        /// The friend.
        who: String,
    },
    /// List invitations, sent and received.
    Invitations,
    /// Accept an invitation (you join when the inviter adds you).
    Accept {
        /// The invitation id (from `kovan group invitations`).
        invitation: String,
    },
    /// Decline an invitation.
    Decline {
        /// The invitation id.
        invitation: String,
    },
    /// Rename a group (admins).
    Rename {
        /// The group.
        group: String,
        /// The new name.
        name: String,
    },
    /// Change a group's description (admins).
    Describe {
        /// The group.
        group: String,
        /// The new description.
        description: String,
    },
    /// Make a member admin, or (with --revoke) not (admins).
    Admin {
        /// The group.
        group: String,
        /// The member.
        who: String,
        /// Take the role away.
        #[arg(long)]
        revoke: bool,
    },
    /// Remove a member (admins).
    Remove {
        /// The group.
        group: String,
        /// The member.
        who: String,
    },
    /// Remove a member and ban their account (admins).
    Ban {
        /// The group.
        group: String,
        /// The member.
        who: String,
    },
    /// Lift a ban (admins).
    Unban {
        /// The group.
        group: String,
        /// The account (or contact).
        who: String,
    },
    /// Mute a member for yourself (or unmute with --off).
    Mute {
        /// The group.
        group: String,
        /// The member.
        who: String,
        /// Unmute.
        #[arg(long)]
        off: bool,
    },
    /// Leave a group.
    Leave {
        /// The group.
        group: String,
    },
    /// Delete a group for everyone (admins).
    Delete {
        /// The group.
        group: String,
    },
}

impl Group {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let change = |group: &str, change: &str, value: &str| json!({ "group": group, "change": change, "value": value });
        let (method, params, text): (&str, Value, fn(&Value)) = match self {
            Group::Create { name, description, members_invite, direct_only } => (
                "group_create",
                json!({
                    "name": name, "description": description, "members_invite": members_invite,
                    "mode": if *direct_only { "direct_only" } else { "normal" },
                }),
                print_group,
            ),
            Group::List => ("groups", json!({}), |v| output::list(v, "no groups yet", group_line)),
            Group::Info { group } => ("group", json!({ "group": group }), print_group),
            Group::Invite { group, who } => {
                ("group_invite", json!({ "group": group, "who": who }), print_invitation)
            }
            Group::Invitations => ("group_invitations", json!({}), |v| {
                output::list(v, "no invitations", invitation_line)
            }),
            Group::Accept { invitation } => (
                "group_answer",
                json!({ "invitation": invitation, "accept": true }),
                print_invitation,
            ),
            Group::Decline { invitation } => (
                "group_answer",
                json!({ "invitation": invitation, "accept": false }),
                print_invitation,
            ),
            Group::Rename { group, name } => {
                ("group_change", change(group, "rename", name), print_group)
            }
            Group::Describe { group, description } => {
                ("group_change", change(group, "describe", description), print_group)
            }
            Group::Admin { group, who, revoke } => (
                "group_change",
                change(group, if *revoke { "unadmin" } else { "admin" }, who),
                print_group,
            ),
            Group::Remove { group, who } => {
                ("group_change", change(group, "remove", who), print_group)
            }
            Group::Ban { group, who } => ("group_change", change(group, "ban", who), print_group),
            Group::Unban { group, who } => {
                ("group_change", change(group, "unban", who), print_group)
            }
            Group::Mute { group, who, off } => {
                ("group_mute", json!({ "group": group, "who": who, "on": !off }), print_group)
            }
            Group::Leave { group } => ("group_leave", json!({ "group": group }), print_group),
            Group::Delete { group } => {
                ("group_change", json!({ "group": group, "change": "delete" }), print_group)
            }
        };
        remote::run(ctx, method, params, text)
    }
}

/// The text of an answer that is one group: its line, its description,
/// its members with their roles, its bans.
fn print_group(v: &Value) {
    println!("{}", group_line(v));
    if !v["description"].as_str().unwrap_or("").is_empty() {
        println!("  {}", v["description"].as_str().unwrap_or(""));
    }
    for m in v["members"].as_array().into_iter().flatten() {
        let account = m["account"].as_str().unwrap_or("");
        println!(
            "  {:<24} {}{}{}",
            m["name"].as_str().unwrap_or(""),
            account.get(..16).unwrap_or(account),
            if m["admin"].as_bool() == Some(true) { "  admin" } else { "" },
            if m["muted"].as_bool() == Some(true) { "  muted" } else { "" },
        );
    }
    for b in v["banned"].as_array().into_iter().flatten() {
        println!("  banned {}", b.as_str().unwrap_or(""));
    }
}

/// The text of an answer that is one invitation.
fn print_invitation(v: &Value) {
    println!("{}", invitation_line(v));
}
