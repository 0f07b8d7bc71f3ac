//! The JSON form of decoded messages in the vectors: proto field names,
//! bytes in hex, enums by their proto names, a `oneof` as the one field
//! set; every field is listed, defaults included.

use kovan_spec::wire;
use serde_json::{Value, json};

fn h(b: &[u8]) -> Value {
    Value::from(hex::encode(b))
}

fn file(f: &wire::FileRef) -> Value {
    json!({
        "file_id": h(&f.file_id), "name": f.name, "mime": f.mime, "size": f.size,
        "sha256": h(&f.sha256), "key": h(&f.key), "chunk_size": f.chunk_size,
        "relay": f.relay, "blob_id": h(&f.blob_id), "caption": f.caption,
        "image": f.image.as_ref().map(|i| json!({"width": i.width, "height": i.height, "thumbnail": h(&i.thumbnail)})),
        "voice": f.voice.as_ref().map(|v| json!({"duration_ms": v.duration_ms, "waveform": h(&v.waveform)})),
    })
}

/// A `Sealed` text.
pub fn sealed(s: &wire::Sealed) -> Value {
    json!({"key_id": h(&s.key_id), "nonce": h(&s.nonce), "ciphertext": h(&s.ciphertext)})
}

/// An `AppEnvelope`.
pub fn app(m: &wire::AppEnvelope) -> Value {
    use wire::app_envelope::Content as C;
    let content = match &m.content {
        Some(C::Text(t)) => json!({"text": {"body": t.body}}),
        Some(C::Reaction(r)) => {
            json!({"reaction": {"target": h(&r.target), "emoji": r.emoji, "remove": r.remove}})
        }
        Some(C::Edit(e)) => json!({"edit": {"target": h(&e.target), "body": e.body}}),
        Some(C::Delete(d)) => json!({"delete": {"target": h(&d.target)}}),
        Some(C::Receipt(r)) => json!({"receipt": {
            "kind": wire::ReceiptKind::try_from(r.kind).map(|k| k.as_str_name()).unwrap_or("?"),
            "targets": r.targets.iter().map(|t| h(t)).collect::<Vec<_>>(),
        }}),
        Some(C::File(f)) => json!({"file": file(f)}),
        Some(C::Poll(p)) => {
            let mut poll =
                json!({"question": p.question, "options": p.options, "multiple": p.multiple});
            if let Some(v) = &p.verifiable {
                poll["verifiable"] = json!({"epoch": v.epoch, "nonce": h(&v.nonce), "voters": v.voters.iter().map(|a| h(a)).collect::<Vec<_>>(), "binding": h(&v.binding)});
                if v.sealed {
                    poll["verifiable"]["sealed"] = json!(true);
                }
                if v.anonymous {
                    poll["verifiable"]["anonymous"] = json!(true);
                }
            }
            json!({ "poll": poll })
        }
        Some(C::Vote(v)) => {
            let mut vote = json!({"poll": h(&v.poll), "choices": v.choices});
            if !v.signature.is_empty() {
                vote["signature"] = json!(h(&v.signature));
            }
            if !v.commitment.is_empty() {
                vote["commitment"] = json!(h(&v.commitment));
            }
            json!({ "vote": vote })
        }
        Some(C::PollClose(c)) => {
            let ballot = |b: &wire::PollBallot| {
                let mut j = json!({"account": h(&b.account), "choices": b.choices});
                if !b.signature.is_empty() {
                    j["signature"] = json!(h(&b.signature));
                }
                if !b.commitment.is_empty() {
                    j["commitment"] = json!(h(&b.commitment));
                }
                j
            };
            let mut close = json!({"poll": h(&c.poll), "ballots": c.ballots.iter().map(ballot).collect::<Vec<_>>()});
            if !c.void.is_empty() {
                close["void"] = json!(c.void.iter().map(ballot).collect::<Vec<_>>());
            }
            if !c.anonymous.is_empty() {
                close["anonymous"] = json!(
                    c.anonymous
                        .iter()
                        .map(|r| json!({
                            "key_image": h(&r.key_image), "choices": r.choices,
                        }))
                        .collect::<Vec<_>>()
                );
            }
            if !c.void_images.is_empty() {
                close["void_images"] =
                    json!(c.void_images.iter().map(|i| h(i)).collect::<Vec<_>>());
            }
            json!({ "poll_close": close })
        }
        Some(C::BallotKey(k)) => json!({"ballot_key": {
            "poll": h(&k.poll), "key": h(&k.key), "signature": h(&k.signature),
        }}),
        Some(C::RingSeen(r)) => json!({"ring_seen": {"poll": h(&r.poll), "ring": h(&r.ring)}}),
        Some(C::PollRing(r)) => json!({"poll_ring": {
            "poll": h(&r.poll),
            "keys": r.keys.iter().map(|k| json!({
                "account": h(&k.account), "key": h(&k.key), "signature": h(&k.signature),
            })).collect::<Vec<_>>(),
        }}),
        Some(C::Conditional(c)) => json!({"conditional": {
            "conditions": c.conditions.iter().map(|k| h(&kovan_spec::encode(k))).collect::<Vec<_>>(),
            "nonce": h(&c.nonce),
            "ciphertext": h(&c.ciphertext),
            "hint": c.hint,
        }}),
        Some(C::CheckIn(c)) => json!({"check_in": {"target": h(&c.target)}}),
        Some(C::ShareRelease(r)) => {
            json!({"share_release": {"target": h(&r.target), "share": h(&r.share)}})
        }
        Some(C::Location(l)) => {
            json!({"location": {"lat_e7": l.lat_e7, "lon_e7": l.lon_e7, "accuracy_m": l.accuracy_m, "label": l.label, "live_until_ms": l.live_until_ms}})
        }
        Some(C::LocationUpdate(u)) => {
            json!({"location_update": {"target": h(&u.target), "lat_e7": u.lat_e7, "lon_e7": u.lon_e7, "accuracy_m": u.accuracy_m}})
        }
        Some(C::LocationStop(s)) => json!({"location_stop": {"target": h(&s.target)}}),
        Some(C::Sealed(s)) => json!({"sealed": sealed(s)}),
        Some(C::SealedEdit(e)) => json!({"sealed_edit": {
            "target": h(&e.target), "sealed": e.sealed.as_ref().map(sealed),
        }}),
        Some(C::SealChange(c)) => json!({"seal_change": {
            "key_id": h(&c.key_id), "salt": h(&c.salt), "memory_kib": c.memory_kib,
            "passes": c.passes, "lanes": c.lanes, "previous_key_id": h(&c.previous_key_id),
            "previous_nonce": h(&c.previous_nonce), "previous_key": h(&c.previous_key),
        }}),
        Some(C::Typing(t)) => json!({"typing": {"active": t.active}}),
        Some(C::Spread(s)) => json!({"spread": {
            "core": h(&s.core), "signature": h(&s.signature), "hop": s.hop,
            "hop_token": h(&s.hop_token),
        }}),
        Some(C::SpreadRetract(r)) => json!({"spread_retract": {
            "id": h(&r.id), "author": h(&r.author), "retracted_ms": r.retracted_ms,
            "signature": h(&r.signature),
        }}),
        Some(C::SpreadOptIn(o)) => json!({"spread_opt_in": {"enabled": o.enabled}}),
        Some(C::BallotReveal(r)) => json!({"ballot_reveal": {
            "poll": h(&r.poll), "choices": r.choices, "opening": h(&r.opening),
        }}),
        Some(C::Call(c)) => {
            use wire::call_signal::Kind as K;
            let kind = match &c.kind {
                Some(K::Offer(o)) => json!({"offer": {"sdp": o.sdp, "video": o.video}}),
                Some(K::Answer(a)) => json!({"answer": {"sdp": a.sdp}}),
                Some(K::Candidate(c)) => json!({"candidate": {
                    "candidate": c.candidate, "sdp_mid": c.sdp_mid, "sdp_mline_index": c.sdp_mline_index,
                }}),
                Some(K::End(e)) => json!({"end": {"reason": e.reason}}),
                Some(K::Link(l)) => json!({"link": {"sdp": l.sdp}}),
                None => Value::Null,
            };
            json!({"call": {"call_id": h(&c.call_id), "kind": kind}})
        }
        None => Value::Null,
    };
    json!({
        "version": m.version, "message_id": h(&m.message_id), "sender_device": h(&m.sender_device),
        "sequence": m.sequence, "timestamp_ms": m.timestamp_ms, "reply_to": h(&m.reply_to),
        "content": content,
    })
}

/// A `FriendMessage`.
pub fn friend(m: &wire::FriendMessage) -> Value {
    use wire::friend_message::Body as B;
    let body = match &m.body {
        Some(B::Request(r)) => json!({"request": {
            "key_package": h(&r.key_package), "display_name": r.display_name, "note": r.note,
            "recipient_account": h(&r.recipient_account), "username": r.username, "invite": h(&r.invite),
        }}),
        Some(B::Decline(_)) => json!({"decline": {}}),
        Some(B::Remove(_)) => json!({"remove": {}}),
        Some(B::JoinFailed(f)) => json!({"join_failed": {"reason": f.reason}}),
        None => Value::Null,
    };
    json!({"version": m.version, "request_id": h(&m.request_id), "body": body})
}

/// A `GroupMeta`.
pub fn meta(m: &wire::GroupMeta) -> Value {
    json!({
        "version": m.version, "name": m.name, "description": m.description,
        "admins": m.admins.iter().map(|a| h(a)).collect::<Vec<_>>(),
        "banned": m.banned.iter().map(|a| h(a)).collect::<Vec<_>>(),
        "members_invite": m.members_invite, "dissolved": m.dissolved,
        "mode": mode_name(m.mode), "pair": m.pair,
    })
}

/// A `ConversationMode` by its proto name.
fn mode_name(v: i32) -> &'static str {
    wire::ConversationMode::try_from(v).map_or("UNKNOWN", |m| m.as_str_name())
}

/// A `GroupControl`.
pub fn control(m: &wire::GroupControl) -> Value {
    use wire::group_control::Body as B;
    let body = match &m.body {
        Some(B::Invite(i)) => json!({"invite": {
            "group_id": h(&i.group_id), "group_name": i.group_name, "members": i.members,
            "recipient_account": h(&i.recipient_account), "mode": mode_name(i.mode),
            "pair": i.pair,
        }}),
        Some(B::Accept(a)) => json!({"accept": {"key_package": h(&a.key_package)}}),
        Some(B::Decline(_)) => json!({"decline": {}}),
        None => Value::Null,
    };
    json!({"version": m.version, "invitation_id": h(&m.invitation_id), "body": body})
}
