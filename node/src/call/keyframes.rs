//! Keyframe requests between a call's peers (SPEC.md §6.9.2): the RTCP
//! PLI and FIR a peer sends about one of our video streams are handed to
//! the task that encodes it, which answers with a keyframe at once.
//!
//! webrtc-rs 0.21 ends inbound RTCP at its interceptor chain unless an
//! interceptor marks a packet for the application; [`KeyframeRequests`]
//! sits last in the chain and marks exactly the keyframe requests.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;

/// Where [`KeyframeRequests`] sits: after every default interceptor, so
/// they have all read the whole of the inbound RTCP first.
pub(super) const SLOT: usize = 14_000;

/// The interceptor that lets keyframe requests through to the application
/// (and nothing else: the rest of the inbound RTCP is the interceptors').
#[derive(Default)]
pub(super) struct KeyframeRequests {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

/// The SSRCs of our streams a packet asks a keyframe of.
pub(super) fn asked_of(packet: &dyn rtc::rtcp::Packet) -> Vec<u32> {
    let any = packet.as_any();
    if let Some(pli) = any.downcast_ref::<PictureLossIndication>() {
        return vec![pli.media_ssrc];
    }
    if let Some(fir) = any.downcast_ref::<FullIntraRequest>() {
        return fir.fir.iter().map(|e| e.ssrc).collect();
    }
    Vec::new()
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let asks: Vec<Box<dyn rtc::rtcp::Packet>> =
                packets.iter().filter(|p| !asked_of(p.as_ref()).is_empty()).cloned().collect();
            if asks.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(asks);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}
