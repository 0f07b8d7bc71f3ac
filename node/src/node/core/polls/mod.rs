//! Polls on the core thread (SPEC.md §6.4): creating one, voting (a later
//! vote of the same account replaces the earlier one, so a vote sent twice
//! counts once), and closing it with the final ballots, which every member
//! adopts so all end with the same tally. Verifiable polls (§6.4.1) are in
//! [`verifiable`], sealed ones (§6.4.3) in [`sealed`], anonymous ones
//! (§6.4.2) in [`anonymous`].

mod anonymous;
mod sealed;
mod verifiable;

use anonymous::{MIN_ANONYMOUS_VOTERS, ring_close_wire};
use kovan_spec::validate::{Content, PollSpec, SignedBallot, ValidatedApp, poll_spec};
use kovan_spec::{validate_app_envelope, wire};
use verifiable::Source;
pub(super) use verifiable::signed_close;

use super::{Core, internal, now_ms};

/// The context a poll's sealed database field is bound to (SPEC.md §4.6):
/// `polls/{label}/` and each part with its length.
fn field_context(label: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut c = format!("polls/{label}/").into_bytes();
    for part in parts {
        c.extend_from_slice(&(part.len() as u32).to_be_bytes());
        c.extend_from_slice(part);
    }
    c
}
use crate::control::{s, strings, to_value};
use crate::node::views::{Event, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult, views};

impl Core {
    /// `column` of a poll's row in `table` (one of this module's tables,
    /// keyed by conversation and poll), if there is one.
    fn poll_value<T: rusqlite::types::FromSql>(
        &self,
        table: &str,
        column: &str,
        conv: &[u8],
        poll: &[u8; 16],
    ) -> crate::Result<Option<T>> {
        use rusqlite::OptionalExtension as _;
        Ok(self
            .db
            .conn()
            .query_row(
                &format!(
                    "SELECT {column} FROM {table} WHERE conversation_id = ?1 AND poll_id = ?2"
                ),
                rusqlite::params![conv, poll.as_slice()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The poll a message holds, with its creator's account.
    pub(super) fn poll(
        &self,
        conv: &[u8],
        id: &[u8; 16],
    ) -> crate::Result<Option<(PollSpec, Vec<u8>)>> {
        let Some(m) = self.history().get(conv, id)? else { return Ok(None) };
        let Some(body) = m.body.as_deref() else { return Ok(None) };
        Ok(match validate_app_envelope(body).map(|a| a.content) {
            Ok(Content::Poll(p)) => Some((p, m.sender_account)),
            _ => None,
        })
    }

    pub(super) fn poll_updated(&mut self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<()> {
        if let Some(view) = self.message_view(conv, poll)? {
            self.emit(Event::PollUpdated { message: view });
        }
        Ok(())
    }

    /// A member's vote. Kept even when the poll has not arrived yet (it
    /// may come later through another path); ballots that do not fit the
    /// poll are left out of the tally.
    pub(super) fn on_vote(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        voter: &[u8],
        choices: &[u32],
        [signature, commitment]: [Option<&[u8]>; 2],
        app: &ValidatedApp,
    ) -> crate::Result<()> {
        let signature = signature.and_then(|s| <[u8; 64]>::try_from(s).ok());
        let commitment = commitment.and_then(|c| <[u8; 32]>::try_from(c).ok());
        let spec = self.poll(conv, poll)?;
        let verifiable = spec.as_ref().is_some_and(|(p, _)| p.verifiable.is_some());
        let changed = match signature {
            // A signed ballot is kept as received and judged by the audit
            // (it may arrive before its poll); after the close, the close's
            // ballots are what count.
            Some(signature) => {
                let Ok(account) = <[u8; 32]>::try_from(voter) else { return Ok(()) };
                let b = SignedBallot { account, choices: choices.to_vec(), signature, commitment };
                !self.history().poll_closed(conv, poll)?
                    && self.keep_ballot(conv, poll, Source::Received, &b)?
            }
            None if verifiable => {
                tracing::debug!("ignored an unsigned vote in a verifiable poll");
                false
            }
            None => {
                let at = app.timestamp_ms as i64;
                self.history().vote(conv, poll, voter, choices, at, &app.message_id)?
            }
        };
        if changed {
            self.poll_updated(conv, poll)?;
        }
        Ok(())
    }

    /// The creator closed a poll: its ballots become the tally. A close
    /// from anyone else is ignored.
    pub(super) fn on_poll_close(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        sender: &[u8],
        close: &Content,
        now: i64,
    ) -> crate::Result<()> {
        let Content::PollClose { ballots, signatures, commitments, void, .. } = close else {
            return Ok(());
        };
        let spec = match self.poll(conv, poll)? {
            Some((spec, creator)) if creator == sender => spec,
            Some(_) => {
                tracing::debug!("ignored a poll close from someone who did not create the poll");
                return Ok(());
            }
            None => return Ok(()),
        };
        let Content::PollClose { anonymous, void_images, .. } = close else { return Ok(()) };
        let anonymous_poll = spec.verifiable.as_ref().is_some_and(|v| v.anonymous);
        if anonymous_poll && !self.history().poll_closed(conv, poll)? {
            self.keep_ring_close(conv, poll, anonymous, void_images)?;
        } else if spec.verifiable.is_some() && !self.history().poll_closed(conv, poll)? {
            let counted = signed_close(ballots, signatures, commitments);
            self.keep_close(conv, poll, &counted, void)?;
            // This account's sealed ballot is revealed once this input is
            // done (SPEC.md §6.4.3).
            self.reveals_due |= spec.verifiable.as_ref().is_some_and(|v| v.sealed);
        }
        // An anonymous poll's ballots name no account.
        let ballots = if anonymous_poll { &[][..] } else { ballots };
        if self.history().close_poll(conv, poll, ballots, now)? {
            self.poll_updated(conv, poll)?;
        }
        Ok(())
    }

    pub(in crate::node) fn send_raw_content(
        &mut self,
        to: &str,
        content: wire::app_envelope::Content,
    ) -> NodeResult<MessageView> {
        let (conv, recipients) = self.writable(to)?;
        let id = self.send_app(&conv, &recipients, content, None, true)?;
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("not stored"))?;
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(in crate::node) fn poll_create(
        &mut self,
        to: &str,
        question: &str,
        options: Vec<String>,
        multiple: bool,
        [verifiable, sealed, anonymous]: [bool; 3],
    ) -> NodeResult<MessageView> {
        let mut poll = wire::Poll {
            question: question.trim().to_owned(),
            options: options.into_iter().map(|o| o.trim().to_owned()).collect(),
            multiple,
            verifiable: None,
        };
        poll_spec(poll.clone()).map_err(NodeError::Invalid)?;
        let (conv, recipients) = self.writable(to)?;
        if sealed && anonymous {
            return Err(NodeError::Invalid("a poll is sealed or anonymous, not both".into()));
        }
        if verifiable || sealed || anonymous {
            let v = self.new_verifiable(&conv)?;
            if anonymous && (!self.is_group(&conv)? || v.voters.len() < MIN_ANONYMOUS_VOTERS) {
                return Err(NodeError::State(format!(
                    "an anonymous poll needs a group of {} voters at least: with fewer, each \
                     would know the others' choices from the tally",
                    MIN_ANONYMOUS_VOTERS
                )));
            }
            poll.verifiable = Some(wire::VerifiablePoll { sealed, anonymous, ..v });
        }
        let checked = poll.verifiable.is_some();
        let content = wire::app_envelope::Content::Poll(poll);
        let id = self.send_app(&conv, &recipients, content, None, true)?;
        if checked {
            // Made from this device's own MLS state: checked by making it.
            self.poll_checked(&conv, &id)?;
        }
        if anonymous {
            self.anonymous_poll_known(&conv, &id, true)?;
        }
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("poll not stored"))?;
        self.emit(Event::Message { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(in crate::node) fn poll_vote(
        &mut self,
        who: &str,
        poll: [u8; 16],
        mut choices: Vec<u32>,
    ) -> NodeResult<MessageView> {
        let (conv, recipients) = self.writable(who)?;
        let (spec, _) =
            self.poll(&conv, &poll)?.ok_or_else(|| NodeError::NotFound("no such poll".into()))?;
        if self.history().poll_closed(&conv, &poll)? {
            return Err(NodeError::Invalid("the poll is closed".into()));
        }
        choices.sort_unstable();
        choices.dedup();
        if choices.iter().any(|&c| c as usize >= spec.options.len()) {
            return Err(NodeError::Invalid(format!(
                "the poll has options 0..{}",
                spec.options.len() - 1
            )));
        }
        if !spec.multiple && choices.len() > 1 {
            return Err(NodeError::Invalid("this poll takes one choice".into()));
        }
        if let Some(v) = spec.verifiable.as_ref().filter(|v| v.anonymous) {
            self.cast_anonymous(&conv, &poll, v, &choices)?;
            return self.poll_changed_view(&conv, &poll);
        }
        let ballot = match &spec.verifiable {
            Some(v) if v.sealed => Some(self.seal_my_ballot(&conv, &poll, v, &choices)?),
            Some(v) => Some(self.sign_ballot(&conv, &poll, v, &choices)?),
            None => None,
        };
        let content = wire::app_envelope::Content::Vote(wire::Vote {
            poll: poll.to_vec(),
            // A sealed ballot says its choices only at the reveal.
            choices: ballot.as_ref().map_or(choices.clone(), |b| b.choices.clone()),
            signature: ballot.as_ref().map(|b| b.signature.to_vec()).unwrap_or_default(),
            commitment: ballot
                .as_ref()
                .and_then(|b| b.commitment)
                .map(|c| c.to_vec())
                .unwrap_or_default(),
        });
        let vote_id = self.send_app(&conv, &recipients, content, None, false)?;
        match &ballot {
            Some(b) => {
                self.keep_ballot(&conv, &poll, Source::Received, b)?;
            }
            None => {
                let me = self.my_account();
                self.history().vote(&conv, &poll, &me, &choices, now_ms(), &vote_id)?;
            }
        }
        self.poll_changed_view(&conv, &poll)
    }

    pub(in crate::node) fn poll_close(
        &mut self,
        who: &str,
        poll: [u8; 16],
    ) -> NodeResult<MessageView> {
        let (conv, recipients) = self.writable(who)?;
        let (spec, creator) =
            self.poll(&conv, &poll)?.ok_or_else(|| NodeError::NotFound("no such poll".into()))?;
        if creator != self.my_account() {
            return Err(NodeError::Invalid("only the poll's creator closes it".into()));
        }
        if self.history().poll_closed(&conv, &poll)? {
            return Err(NodeError::Invalid("the poll is closed already".into()));
        }
        if let Some(v) = spec.verifiable.as_ref().filter(|v| v.anonymous) {
            let (counted, void) = self.anonymous_close(&conv, &poll, &spec, v)?;
            let content =
                wire::app_envelope::Content::PollClose(ring_close_wire(&poll, &counted, &void));
            self.send_app(&conv, &recipients, content, None, false)?;
            self.keep_ring_close(&conv, &poll, &counted, &void)?;
            self.history().close_poll(&conv, &poll, &[], now_ms())?;
            return self.poll_changed_view(&conv, &poll);
        }
        if let Some(v) = &spec.verifiable {
            let (counted, void) = self.verifiable_close(&conv, &poll, &spec, v)?;
            let wired = |bs: &[SignedBallot]| -> Vec<wire::PollBallot> {
                bs.iter()
                    .map(|b| wire::PollBallot {
                        account: b.account.to_vec(),
                        choices: b.choices.clone(),
                        signature: b.signature.to_vec(),
                        commitment: b.commitment.map(|c| c.to_vec()).unwrap_or_default(),
                    })
                    .collect()
            };
            let content = wire::app_envelope::Content::PollClose(wire::PollClose {
                poll: poll.to_vec(),
                ballots: wired(&counted),
                void: wired(&void),
                ..Default::default()
            });
            self.send_app(&conv, &recipients, content, None, false)?;
            self.keep_close(&conv, &poll, &counted, &void)?;
            let plain: Vec<_> = counted.into_iter().map(|b| (b.account, b.choices)).collect();
            self.history().close_poll(&conv, &poll, &plain, now_ms())?;
            if v.sealed {
                // The creator's own sealed ballot is revealed too.
                self.send_due_reveals();
            }
            return self.poll_changed_view(&conv, &poll);
        }
        // The ballots as counted here, the ones that fit the poll, by
        // account (the order the spec asks for).
        let ballots: Vec<([u8; 32], Vec<u32>)> = self
            .history()
            .poll_votes(&conv, &poll)?
            .ballots
            .into_iter()
            .filter(|(_, c)| {
                c.iter().all(|&i| (i as usize) < spec.options.len())
                    && (spec.multiple || c.len() == 1)
            })
            .filter_map(|(a, c)| Some((<[u8; 32]>::try_from(a.as_slice()).ok()?, c)))
            .collect();
        let content = wire::app_envelope::Content::PollClose(wire::PollClose {
            poll: poll.to_vec(),
            ballots: ballots
                .iter()
                .map(|(a, c)| wire::PollBallot {
                    account: a.to_vec(),
                    choices: c.clone(),
                    signature: Vec::new(),
                    commitment: Vec::new(),
                })
                .collect(),
            ..Default::default()
        });
        self.send_app(&conv, &recipients, content, None, false)?;
        self.history().close_poll(&conv, &poll, &ballots, now_ms())?;
        self.poll_changed_view(&conv, &poll)
    }

    /// After a vote or close of ours: the poll's view, announced.
    fn poll_changed_view(&mut self, conv: &[u8], poll: &[u8; 16]) -> NodeResult<MessageView> {
        let view = self.message_view(conv, poll)?.ok_or_else(|| internal("poll vanished"))?;
        self.emit(Event::PollUpdated { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }
}

// ---------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------

/// Polls.
impl NodeHandle {
    /// Starts a poll in a conversation (SPEC.md §6.4): 2..=12 options,
    /// single or multiple choice.
    pub async fn poll_create(
        &self,
        to: &str,
        question: &str,
        options: Vec<String>,
        multiple: bool,
    ) -> NodeResult<MessageView> {
        self.start_poll(to, question, options, [multiple, false, false, false]).await
    }

    /// Starts a verifiable poll (SPEC.md §6.4.1): the conversation's
    /// members now are its voters, one signed ballot each, and every member
    /// can check the ballots and the tally (see the poll's `verifiable`).
    pub async fn poll_create_verifiable(
        &self,
        to: &str,
        question: &str,
        options: Vec<String>,
        multiple: bool,
    ) -> NodeResult<MessageView> {
        self.start_poll(to, question, options, [multiple, true, false, false]).await
    }

    /// Starts a sealed poll (SPEC.md §6.4.3): a verifiable poll whose
    /// ballots are sealed commitments until you close it; then every
    /// voter's device reveals its choices and members count them.
    pub async fn poll_create_sealed(
        &self,
        to: &str,
        question: &str,
        options: Vec<String>,
        multiple: bool,
    ) -> NodeResult<MessageView> {
        self.start_poll(to, question, options, [multiple, true, true, false]).await
    }

    /// Starts an anonymous poll (SPEC.md §6.4.2): a verifiable poll whose
    /// voters' devices register a ballot key each; once all have (or you
    /// publish the ring with [`Self::poll_ring`]), each votes with a ring
    /// signature that proves "one voter, once" without saying who, and
    /// that travels through relay mailboxes with no sender. Needs a group
    /// of three voters at least.
    pub async fn poll_create_anonymous(
        &self,
        to: &str,
        question: &str,
        options: Vec<String>,
        multiple: bool,
    ) -> NodeResult<MessageView> {
        self.start_poll(to, question, options, [multiple, true, false, true]).await
    }

    /// Publishes an anonymous poll's ring now, with the voters registered
    /// so far (those not yet registered cannot vote). Only its creator.
    pub async fn poll_ring(&self, conversation: &str, poll: &str) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let poll = views::parse_message_id(poll)?;
        self.call(move |c| {
            let (conv, _) = c.writable(&conversation)?;
            c.publish_ring(&conv, &poll, true)?;
            c.poll_changed_view(&conv, &poll)
        })
        .await
    }

    /// A poll with its `[multiple, verifiable, sealed, anonymous]` flags.
    async fn start_poll(
        &self,
        to: &str,
        question: &str,
        options: Vec<String>,
        [multiple, verifiable, sealed, anonymous]: [bool; 4],
    ) -> NodeResult<MessageView> {
        let (to, question) = (to.to_owned(), question.to_owned());
        let flags = [verifiable, sealed, anonymous];
        self.call(move |c| c.poll_create(&to, &question, options, multiple, flags)).await
    }

    /// A poll with its audit run again from the stored ballots (for a
    /// verifiable poll, `poll.verifiable` says whether it holds and why).
    pub async fn poll_verify(&self, conversation: &str, poll: &str) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let poll = views::parse_message_id(poll)?;
        self.call(move |c| {
            let (conv, _) = c.find_conversation(&conversation)?;
            c.message_view(&conv, &poll)?
                .filter(|m| m.poll.is_some())
                .ok_or_else(|| NodeError::NotFound("no such poll".into()))
        })
        .await
    }

    /// Votes in a poll (option indexes from 0; empty withdraws the vote).
    /// A later vote replaces this account's earlier one until the poll is
    /// closed. Returns the poll with its tally.
    pub async fn poll_vote(
        &self,
        conversation: &str,
        poll: &str,
        choices: Vec<u32>,
    ) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let poll = views::parse_message_id(poll)?;
        self.call(move |c| c.poll_vote(&conversation, poll, choices)).await
    }

    /// Closes a poll you created: the tally is final for everyone.
    pub async fn poll_close(&self, conversation: &str, poll: &str) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let poll = views::parse_message_id(poll)?;
        self.call(move |c| c.poll_close(&conversation, poll)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "poll_create" => {
        let options = strings(p, "options")?;
        let multiple = p["multiple"].as_bool().unwrap_or(false);
        let (to, question) = (s(p, "to")?, s(p, "question")?);
        if p["anonymous"].as_bool().unwrap_or(false) {
            to_value(node.poll_create_anonymous(to, question, options, multiple).await?)
        } else if p["sealed"].as_bool().unwrap_or(false) {
            to_value(node.poll_create_sealed(to, question, options, multiple).await?)
        } else if p["verifiable"].as_bool().unwrap_or(false) {
            to_value(node.poll_create_verifiable(to, question, options, multiple).await?)
        } else {
            to_value(node.poll_create(to, question, options, multiple).await?)
        }
    }
    "poll_vote" => {
        let choices = p["choices"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok())).collect())
            .unwrap_or(Some(Vec::new()))
            .ok_or_else(|| NodeError::Invalid("\"choices\" are option numbers".into()))?;
        to_value(node.poll_vote(s(p, "with")?, s(p, "poll")?, choices).await?)
    }
    "poll_close" => to_value(node.poll_close(s(p, "with")?, s(p, "poll")?).await?),
    "poll_verify" => to_value(node.poll_verify(s(p, "with")?, s(p, "poll")?).await?),
    "poll_ring" => to_value(node.poll_ring(s(p, "with")?, s(p, "poll")?).await?),
});
