//! Call signaling (SPEC.md §6.9).

use super::*;

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallEndReason {
    /// Hung up (before or after it was answered).
    Hangup,
    /// The callee declined.
    Declined,
    /// The callee was in another call.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// The media connection failed or was lost.
    Failed,
    /// Another device of the callee's account answered.
    AnsweredElsewhere,
}

impl CallEndReason {
    /// Its wire value.
    pub fn wire(self) -> wire::call_end::Reason {
        use wire::call_end::Reason as R;
        match self {
            Self::Hangup => R::Hangup,
            Self::Declined => R::Declined,
            Self::Busy => R::Busy,
            Self::NoAnswer => R::NoAnswer,
            Self::Failed => R::Failed,
            Self::AnsweredElsewhere => R::AnsweredElsewhere,
        }
    }

    /// Its name in views and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hangup => "hangup",
            Self::Declined => "declined",
            Self::Busy => "busy",
            Self::NoAnswer => "no_answer",
            Self::Failed => "failed",
            Self::AnsweredElsewhere => "answered_elsewhere",
        }
    }
}

/// What a call signal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSignalKind {
    /// The caller's SDP offer.
    Offer {
        /// SDP (RFC 8866).
        sdp: String,
        /// Video from the start.
        video: bool,
    },
    /// The callee's SDP answer.
    Answer {
        /// SDP.
        sdp: String,
    },
    /// One more ICE candidate.
    Candidate {
        /// The candidate attribute's value.
        candidate: String,
        /// The media section's id.
        sdp_mid: String,
        /// The media section's index.
        sdp_mline_index: u32,
    },
    /// The call ended.
    End(CallEndReason),
    /// An offer for a data link (§6.9.4): files only, never rings.
    Link {
        /// SDP.
        sdp: String,
    },
}

/// A validated call signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSignal {
    /// The call it belongs to.
    pub call_id: [u8; 16],
    /// What it says.
    pub kind: CallSignalKind,
}

fn sdp(s: String) -> Result<String, String> {
    if s.is_empty() || s.len() > limits::MAX_SDP {
        return Err(format!("an SDP must be 1..={} bytes, got {}", limits::MAX_SDP, s.len()));
    }
    if !s.starts_with("v=0") {
        return Err("an SDP starts with v=0".into());
    }
    Ok(s)
}

pub(super) fn call_signal(c: wire::CallSignal, reply_to: bool) -> Result<CallSignal, String> {
    use wire::call_signal::Kind;
    if reply_to {
        return Err("a call signal replies to nothing".into());
    }
    let call_id = c.call_id.as_slice().try_into().map_err(|_| "call_id must be 16 bytes")?;
    let kind = match c.kind {
        Some(Kind::Offer(o)) => CallSignalKind::Offer { sdp: sdp(o.sdp)?, video: o.video },
        Some(Kind::Answer(a)) => CallSignalKind::Answer { sdp: sdp(a.sdp)? },
        Some(Kind::Link(l)) => CallSignalKind::Link { sdp: sdp(l.sdp)? },
        Some(Kind::Candidate(c)) => {
            if c.candidate.is_empty()
                || c.candidate.len() > limits::MAX_CANDIDATE
                || c.sdp_mid.len() > limits::MAX_CANDIDATE
            {
                return Err("an ICE candidate must be 1..=1024 bytes".into());
            }
            CallSignalKind::Candidate {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
            }
        }
        Some(Kind::End(e)) => {
            use wire::call_end::Reason as R;
            let reason = match R::try_from(e.reason) {
                Ok(R::Hangup) => CallEndReason::Hangup,
                Ok(R::Declined) => CallEndReason::Declined,
                Ok(R::Busy) => CallEndReason::Busy,
                Ok(R::NoAnswer) => CallEndReason::NoAnswer,
                Ok(R::Failed) => CallEndReason::Failed,
                Ok(R::AnsweredElsewhere) => CallEndReason::AnsweredElsewhere,
                // A newer reason: the call ended all the same.
                Err(_) => CallEndReason::Hangup,
            };
            CallSignalKind::End(reason)
        }
        None => return Err("a call signal without a kind".into()),
    };
    Ok(CallSignal { call_id, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(kind: wire::call_signal::Kind) -> wire::CallSignal {
        wire::CallSignal { call_id: vec![9; 16], kind: Some(kind) }
    }

    #[test]
    fn offers_are_bounded_and_must_look_like_sdp() {
        use wire::call_signal::Kind;
        let ok = signal(Kind::Offer(wire::CallOffer { sdp: "v=0\r\n".into(), video: true }));
        assert!(matches!(
            call_signal(ok.clone(), false).unwrap().kind,
            CallSignalKind::Offer { video: true, .. }
        ));
        assert!(call_signal(ok, true).unwrap_err().contains("replies"));
        let big = "v=0\r\n".to_string() + &"a".repeat(limits::MAX_SDP);
        let big = signal(Kind::Answer(wire::CallAnswer { sdp: big }));
        assert!(call_signal(big, false).unwrap_err().contains("16384"));
        let junk = signal(Kind::Answer(wire::CallAnswer { sdp: "hello".into() }));
        assert!(call_signal(junk, false).is_err());
        let short = wire::CallSignal {
            call_id: vec![1; 15],
            ..signal(Kind::End(wire::CallEnd { reason: 1 }))
        };
        assert!(call_signal(short, false).unwrap_err().contains("16 bytes"));
        let none = wire::CallSignal { call_id: vec![1; 16], kind: None };
        assert!(call_signal(none, false).is_err());
    }

    #[test]
    fn a_link_offer_is_bounded_like_a_call_offer() {
        use wire::call_signal::Kind;
        let ok = signal(Kind::Link(wire::CallLink { sdp: "v=0\r\n".into() }));
        assert!(matches!(call_signal(ok, false).unwrap().kind, CallSignalKind::Link { .. }));
        let big = "v=0\r\n".to_string() + &"a".repeat(limits::MAX_SDP);
        let big = signal(Kind::Link(wire::CallLink { sdp: big }));
        assert!(call_signal(big, false).unwrap_err().contains("16384"));
        let empty = signal(Kind::Link(wire::CallLink { sdp: String::new() }));
        assert!(call_signal(empty, false).is_err());
    }

    #[test]
    fn an_unknown_end_reason_still_ends_the_call() {
        use wire::call_signal::Kind;
        let s = signal(Kind::End(wire::CallEnd { reason: 99 }));
        assert_eq!(call_signal(s, false).unwrap().kind, CallSignalKind::End(CallEndReason::Hangup));
        let s = signal(Kind::End(wire::CallEnd { reason: 2 }));
        assert_eq!(call_signal(s, false).unwrap().kind, CallSignalKind::End(CallEndReason::Busy));
    }
}
