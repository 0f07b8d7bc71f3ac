//! Running one command against the node, each on its own task, and the
//! reads that follow (the lists, avatars, settings).

use std::path::PathBuf;

use kovan_node::NodeHandle;
use kovan_node::node::ScheduledContent;

use super::{Action, Cmd, LIVE_EVERY, Out, PAGE, Update};

/// The most search hits shown.
const SEARCH_HITS: usize = 100;

pub(super) async fn refresh(n: &NodeHandle, out: &Out) {
    match n.contacts().await {
        Ok(c) => out.send(Update::Contacts(c)).await,
        Err(e) => out.error("reading contacts", e).await,
    }
    match n.conversations().await {
        Ok(c) => out.send(Update::Conversations(c)).await,
        Err(e) => out.error("reading chats", e).await,
    }
    match n.groups().await {
        Ok(g) => out.send(Update::Groups(g)).await,
        Err(e) => out.error("reading groups", e).await,
    }
    match n.group_invitations().await {
        Ok(i) => out.send(Update::Invitations(i)).await,
        Err(e) => out.error("reading invitations", e).await,
    }
    match n.scheduled(None).await {
        Ok(s) => out.send(Update::Scheduled(s)).await,
        Err(e) => out.error("reading scheduled messages", e).await,
    }
    match n.no_trace_chats().await {
        Ok(v) => out.send(Update::NoTrace(v)).await,
        Err(e) => out.error("reading no-trace chats", e).await,
    }
}

pub(super) async fn invites(n: &NodeHandle, out: &Out) {
    match n.invites().await {
        Ok(v) => out.send(Update::Invites(v)).await,
        Err(e) => out.error("reading the invite links", e).await,
    }
}

pub(super) async fn load_settings(n: &NodeHandle, out: &Out) {
    let settings = match n.settings().await {
        Ok(s) => s,
        Err(e) => return out.error("reading settings", e).await,
    };
    let sessions = match n.sessions().await {
        Ok(s) => s,
        Err(e) => return out.error("reading sessions", e).await,
    };
    out.send(Update::Settings { settings, sessions }).await;
}

pub(super) async fn command(n: &NodeHandle, cmd: Cmd, out: &Out) {
    match cmd {
        Cmd::Register { username, password } => match n.register(&username, &password).await {
            Ok(()) => out.send(Update::SignedIn { username }).await,
            Err(e) => out.error("signing up", e).await,
        },
        Cmd::Login { username, password } => match n.login(&username, &password).await {
            Ok(()) => out.send(Update::SignedIn { username }).await,
            Err(e) => out.error("logging in", e).await,
        },
        Cmd::Search(q) => match n.search(&q).await {
            Ok(r) => out.send(Update::Found(r)).await,
            Err(e) => out.error("searching", e).await,
        },
        Cmd::Request { who, note } => match n.friend_request(&who, &note).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("sending the friend request", e).await,
        },
        Cmd::Answer { account, accept } => {
            let r = if accept {
                n.friend_accept(&account).await
            } else {
                n.friend_decline(&account).await
            };
            match r {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("answering the request", e).await,
            }
        }
        Cmd::Refresh => refresh(n, out).await,
        Cmd::History { conversation, before } => {
            match n.history(&conversation, before, PAGE).await {
                Ok(messages) => {
                    // The page's files as they stand (saved, offered…):
                    // their events came while the chat was not loaded.
                    let mut files = Vec::new();
                    for meta in messages.iter().filter_map(|m| m.file.as_ref()) {
                        if let Ok(f) = n.file(&meta.id).await {
                            files.push(f);
                        }
                    }
                    if !files.is_empty() {
                        out.send(Update::Files(files)).await;
                    }
                    out.send(Update::History { conversation, messages, older: before.is_some() })
                        .await;
                }
                Err(e) => out.error("reading the chat", e).await,
            }
        }
        Cmd::Typing { conversation, active } => {
            // A signal that cannot go (a sealed chat, a closed group) is
            // not worth an error.
            if let Err(e) = n.typing(&conversation, active).await {
                tracing::debug!(error = %e, "typing signal not sent");
            }
        }
        Cmd::SetTypingIndicators(on) => match n.set_typing_indicators(on).await {
            Ok(()) => out.send(Update::TypingIndicators(on)).await,
            Err(e) => out.error("saving settings", e).await,
        },
        Cmd::Draft { conversation, text } => {
            if let Err(e) = n.set_draft(&conversation, &text).await {
                // A sealed or no-trace chat keeps no draft: not an error
                // to show.
                tracing::debug!(error = %e, "draft not kept");
            }
        }
        Cmd::SearchChat { conversation, query } => {
            match n.search_chat(&conversation, &query, SEARCH_HITS).await {
                Ok(hits) => out.send(Update::ChatSearch { conversation, query, hits }).await,
                Err(e) => out.error("searching the chat", e).await,
            }
        }
        Cmd::MarkRead(c) => {
            if let Err(e) = n.mark_read(&c).await {
                out.error("marking the chat read", e).await;
            }
        }
        Cmd::Send { conversation, text, reply_to } => {
            match n.send_text(&conversation, &text, reply_to.as_deref()).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending", e).await,
            }
        }
        Cmd::ChatNew { friend, no_trace } => {
            let started = if no_trace {
                n.chat_new_no_trace(&friend).await.map(|_| ())
            } else {
                n.chat_new(&friend, kovan_spec::ConversationMode::DirectOnly).await.map(|_| ())
            };
            match started {
                Ok(()) => refresh(n, out).await,
                Err(e) => out.error("starting the chat", e).await,
            }
        }
        Cmd::GroupCreateDirect { name } => {
            let mode = kovan_spec::ConversationMode::DirectOnly;
            match n.group_create_in_mode(&name, "", false, mode).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("creating the group", e).await,
            }
        }
        Cmd::NoTraceAnswer { chat, accept } => match n.no_trace_answer(&chat, accept).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("answering the no-trace chat", e).await,
        },
        Cmd::NoTraceEnd(chat) => match n.no_trace_end(&chat).await {
            Ok(()) => refresh(n, out).await,
            Err(e) => out.error("ending the chat", e).await,
        },
        Cmd::SealChat { conversation, password } => match n.seal(&conversation, &password).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("sealing the chat", e).await,
        },
        Cmd::UnlockChat { conversation, password } => {
            match n.unlock_chat(&conversation, &password).await {
                Ok(_) => {
                    refresh(n, out).await;
                    out.send(Update::ChatUnlocked(conversation)).await;
                }
                Err(e) => out.error("unlocking the chat", e).await,
            }
        }
        Cmd::LockChat(conversation) => match n.lock_chat(&conversation).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("locking the chat", e).await,
        },
        Cmd::GroupCreate { name } => match n.group_create(&name, "", false).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("creating the group", e).await,
        },
        Cmd::GroupInvite { group, who } => match n.group_invite(&group, &who).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("inviting", e).await,
        },
        Cmd::GroupAnswer { invitation, accept } => {
            match n.group_answer(&invitation, accept).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("answering the invitation", e).await,
            }
        }
        Cmd::SendFile { conversation, path, image } => {
            let sent = if image {
                n.send_image(&conversation, &path, "", None).await
            } else {
                n.send_file(&conversation, &path, "", None).await
            };
            match sent {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending the file", e).await,
            }
        }
        Cmd::SendVoice { conversation, samples } => {
            let source = kovan_node::node::VoiceSource::Samples(samples);
            match n.send_voice(&conversation, source, "", None).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending the voice note", e).await,
            }
        }
        Cmd::ShareLocation { conversation, lat, lon, label, live } => {
            let shared = match kovan_spec::Point::from_degrees(lat, lon, 0) {
                Ok(point) => {
                    let live = live.map(|duration| kovan_node::node::LiveShare {
                        duration,
                        every: LIVE_EVERY,
                        track: Vec::new(),
                    });
                    n.share_location(&conversation, point, &label, live).await
                }
                Err(e) => return out.error("sharing the location", e).await,
            };
            match shared {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sharing the location", e).await,
            }
        }
        Cmd::LocationUpdate { conversation, id, lat, lon } => {
            let moved = match kovan_spec::Point::from_degrees(lat, lon, 0) {
                Ok(point) => n.location_update(&conversation, &id, point).await,
                Err(e) => return out.error("moving the shared location", e).await,
            };
            match moved {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("moving the shared location", e).await,
            }
        }
        Cmd::LocationStop { conversation, id } => match n.location_stop(&conversation, &id).await {
            Ok(m) => out.send(Update::Sent(Box::new(m))).await,
            Err(e) => out.error("stopping the shared location", e).await,
        },
        Cmd::FetchFile(id) => {
            if let Err(e) = n.fetch_file(&id).await {
                out.error("fetching the file", e).await;
            }
        }
        Cmd::CancelFile(id) => {
            if let Err(e) = n.cancel_file(&id).await {
                out.error("cancelling the transfer", e).await;
            }
        }
        Cmd::PollCreate {
            conversation,
            question,
            options,
            multiple,
            verifiable,
            sealed,
            anonymous,
        } => {
            let made = if anonymous {
                n.poll_create_anonymous(&conversation, &question, options, multiple).await
            } else if sealed {
                n.poll_create_sealed(&conversation, &question, options, multiple).await
            } else if verifiable {
                n.poll_create_verifiable(&conversation, &question, options, multiple).await
            } else {
                n.poll_create(&conversation, &question, options, multiple).await
            };
            match made {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("starting the poll", e).await,
            }
        }
        Cmd::PollRing { conversation, poll } => match n.poll_ring(&conversation, &poll).await {
            Ok(m) => out.send(Update::Sent(Box::new(m))).await,
            Err(e) => out.error("opening the vote", e).await,
        },
        Cmd::PollVote { conversation, poll, choices } => {
            match n.poll_vote(&conversation, &poll, choices).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("voting", e).await,
            }
        }
        Cmd::SendConditional { conversation, text, locks, file } => {
            let sent = match file {
                Some(path) => n.send_conditional_file(&conversation, &path, &text, locks).await,
                None => n.send_conditional(&conversation, &text, locks).await,
            };
            match sent {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending", e).await,
            }
        }
        Cmd::OpenConditional { conversation, message, password, here } => {
            match n.open_conditional(&conversation, &message, password.as_deref(), here).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("opening the message", e).await,
            }
        }
        Cmd::ReleaseShare { conversation, message } => {
            match n.release_share(&conversation, &message).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("agreeing to open the message", e).await,
            }
        }
        Cmd::CheckIn { conversation, message } => match n.check_in(&conversation, &message).await {
            Ok(m) => out.send(Update::Sent(Box::new(m))).await,
            Err(e) => out.error("checking in", e).await,
        },
        Cmd::PollClose { conversation, poll } => match n.poll_close(&conversation, &poll).await {
            Ok(m) => out.send(Update::Sent(Box::new(m))).await,
            Err(e) => out.error("closing the poll", e).await,
        },
        Cmd::Schedule { conversation, text, due_at } => {
            let content = ScheduledContent::Text { text, reply_to: None };
            match n.schedule(&conversation, content, due_at).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("scheduling", e).await,
            }
        }
        Cmd::ScheduleEdit { id, text, due_at } => {
            let content = ScheduledContent::Text { text, reply_to: None };
            match n.schedule_edit(&id, Some(content), due_at).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("changing the scheduled message", e).await,
            }
        }
        Cmd::LoadImage { file, path } => {
            let image = tokio::task::spawn_blocking(move || {
                let bytes = std::fs::read(path).ok()?;
                let img = kovan_node::media::decode_for_display(&bytes).ok()?;
                let img = if img.width().max(img.height()) > FULL_SIDE {
                    img.resize(FULL_SIDE, FULL_SIDE, image::imageops::FilterType::Triangle)
                } else {
                    img
                };
                let rgba = img.to_rgba8();
                Some((rgba.width(), rgba.height(), rgba.into_raw()))
            })
            .await
            .ok()
            .flatten();
            out.send(Update::FullImage { file, image }).await;
        }
        Cmd::ScheduleCancel(id) => match n.schedule_cancel(&id).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("cancelling the scheduled message", e).await,
        },
        Cmd::Act(action) => {
            let what = action.what();
            let signs_out = matches!(action, Action::Logout | Action::DeleteAccount { .. });
            let done = match action {
                Action::SaveSettings(patch) => n.update_settings(&patch).await.map(drop),
                Action::RevokeSession(id) => n.revoke_session(&id).await,
                Action::ChangePassword { old, new } => n.change_password(&old, &new).await,
                Action::Logout => n.logout().await,
                Action::DeleteAccount { password } => n.delete_account(&password).await,
                Action::Unfriend(a) => n.friend_remove(&a).await.map(drop),
                Action::Block(a, true) => n.block(&a).await.map(drop),
                Action::Block(a, false) => n.unblock(&a).await.map(drop),
                Action::Verify(a) => {
                    n.verify(&a, kovan_node::node::Verification::Compared).await.map(drop)
                }
                Action::VerifyDigits(a, digits) => {
                    n.verify(&a, kovan_node::node::Verification::Digits(digits)).await.map(drop)
                }
                Action::SetAvatar(path) => {
                    let set = set_avatar(n, path).await;
                    if set.is_ok()
                        && let Ok(kovan_node::node::Status { username: Some(u), .. }) =
                            n.status().await
                    {
                        fetch_avatar(n, u, out).await;
                    }
                    set
                }
                Action::Group(g, change) => n.group_change(&g, change).await.map(drop),
                Action::Leave(g) => n.group_leave(&g).await.map(drop),
                Action::Mute(g, who, on) => n.group_mute(&g, &who, on).await.map(drop),
                Action::Edit { conversation, message, text } => {
                    n.edit(&conversation, &message, &text).await.map(drop)
                }
                Action::Delete { conversation, message } => n.delete(&conversation, &message).await,
            };
            match done {
                Ok(()) if signs_out => out.send(Update::SignedOut).await,
                Ok(()) => {
                    refresh(n, out).await;
                    if what.contains("session") || what.contains("settings") {
                        load_settings(n, out).await;
                    }
                }
                Err(e) => out.error(what, e).await,
            }
        }
        Cmd::LoadSettings => {
            load_settings(n, out).await;
            invites(n, out).await;
        }
        Cmd::Avatar(username) => fetch_avatar(n, username, out).await,
        Cmd::SafetyNumber(account) => match n.safety_number(&account).await {
            Ok(digits) => out.send(Update::SafetyNumber { account, digits }).await,
            Err(e) => out.error("reading the safety number", e).await,
        },
        Cmd::React { conversation, message, emoji, remove } => {
            if let Err(e) = n.react(&conversation, &message, &emoji, remove).await {
                out.error("reacting", e).await;
            }
        }
        Cmd::Receipts { conversation, message } => {
            match n.receipts(&conversation, &message).await {
                Ok(receipts) => out.send(Update::Receipts { message, receipts }).await,
                Err(e) => out.error("reading the message info", e).await,
            }
        }
        Cmd::Invites => invites(n, out).await,
        Cmd::InviteCreate { label, expires_in_ms, max_uses } => {
            match n.invite_create(&label, expires_in_ms, max_uses).await {
                Ok(_) => invites(n, out).await,
                Err(e) => out.error("making the invite link", e).await,
            }
        }
        Cmd::InviteRevoke(id) => match n.invite_revoke(&id).await {
            Ok(_) => invites(n, out).await,
            Err(e) => out.error("revoking the invite link", e).await,
        },
        Cmd::Community(c) => super::communities::run(n, c, out).await,
        Cmd::Spread(c) => super::spreads::run(n, c, out).await,
        Cmd::Call(c) => super::calls::run(n, c, out).await,
        Cmd::Create { .. } | Cmd::Unlock { .. } | Cmd::Lock | Cmd::SetRelay(_) => {}
    }
}

/// The longest side of an image in the full view, in pixels.
pub const FULL_SIDE: u32 = 2048;

/// Side of an avatar as shown, in pixels.
pub const AVATAR_SIDE: u32 = 64;

/// An avatar (from the relay: decoded under limits) scaled to a square.
fn avatar_pixels(bytes: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let img = kovan_node::media::decode_for_display(bytes).ok()?;
    let img = img.resize_to_fill(AVATAR_SIDE, AVATAR_SIDE, image::imageops::FilterType::Triangle);
    let rgba = img.to_rgba8();
    Some((rgba.width(), rgba.height(), rgba.into_raw()))
}

pub(super) async fn fetch_avatar(n: &NodeHandle, username: String, out: &Out) {
    match n.avatar(&username).await {
        Ok(bytes) => {
            let image = match bytes {
                Some(b) => {
                    tokio::task::spawn_blocking(move || avatar_pixels(&b)).await.ok().flatten()
                }
                None => None,
            };
            out.send(Update::Avatar { username, image }).await;
        }
        Err(e) => tracing::debug!(error = %e, "no avatar"),
    }
}

pub(super) async fn set_avatar(
    n: &NodeHandle,
    path: Option<PathBuf>,
) -> kovan_node::NodeResult<()> {
    let image = match path {
        Some(p) => {
            let bytes = tokio::fs::read(&p)
                .await
                .map_err(|e| kovan_node::NodeError::Invalid(format!("{}: {e}", p.display())))?;
            if bytes.len() > kovan_spec::limits::MAX_AVATAR_BYTES {
                return Err(kovan_node::NodeError::Invalid(
                    "an avatar is at most 256 KiB; pick a smaller image".into(),
                ));
            }
            Some(bytes)
        }
        None => None,
    };
    n.set_avatar(image).await
}
