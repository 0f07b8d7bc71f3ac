//! What a call's peer says about our video streams (SPEC.md §6.9.2): the
//! RTCP PLI and FIR it sends about one of them are handed to the task that
//! encodes it, which answers with a keyframe at once, and the reception
//! reports (in its RR or SR) tell that task how much of the stream was
//! lost, which sets the rate.
//!
//! webrtc-rs 0.21 ends inbound RTCP at its interceptor chain unless an
//! interceptor marks a packet for the application (and its own statistics
//! never read the reports); [`KeyframeRequests`] sits last in the chain and
//! marks exactly these. The application routes an RTCP message to a track
//! by its first packet's first destination SSRC, so each keyframe request
//! and each report block goes as a message of its own.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;

/// Where [`KeyframeRequests`] sits: after every default interceptor, so
/// they have all read the whole of the inbound RTCP first.
pub(super) const SLOT: usize = 14_000;

/// The interceptor that lets keyframe requests and reception reports
/// through to the application (and nothing else: the rest of the inbound
/// RTCP is the interceptors').
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

/// The reception report blocks a packet holds (an RR's, or an SR's from a
/// peer that also sends).
fn reports_of(packet: &dyn rtc::rtcp::Packet) -> Option<(u32, &[ReceptionReport])> {
    let any = packet.as_any();
    if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
        return Some((rr.ssrc, &rr.reports));
    }
    any.downcast_ref::<SenderReport>().map(|sr| (sr.ssrc, sr.reports.as_slice()))
}

/// The fraction of our stream `ssrc` (0..=1) a packet reports lost.
pub(super) fn loss_of(packet: &dyn rtc::rtcp::Packet, ssrc: u32) -> Option<f64> {
    let (_, reports) = reports_of(packet)?;
    reports.iter().find(|r| r.ssrc == ssrc).map(|r| f64::from(r.fraction_lost) / 256.0)
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        let Packet::Rtcp(packets) = &msg.message.packet else {
            self.read.push_back(msg);
            return Ok(());
        };
        let mut mine: Vec<Box<dyn rtc::rtcp::Packet>> = Vec::new();
        for p in packets {
            if !asked_of(p.as_ref()).is_empty() {
                mine.push(p.clone());
            } else if let Some((sender, reports)) = reports_of(p.as_ref()) {
                // One report block a message: each goes to its own track.
                mine.extend(reports.iter().map(|r| {
                    Box::new(ReceiverReport {
                        ssrc: sender,
                        reports: vec![r.clone()],
                        ..Default::default()
                    }) as Box<dyn rtc::rtcp::Packet>
                }));
            }
        }
        for p in mine {
            let message = rtc::interceptor::AttributedPacket::new(Packet::Rtcp(vec![p]))
                .with(Attribute::DeliverToApplication);
            self.read.push_back(TaggedPacket { now: msg.now, transport: msg.transport, message });
        }
        // The whole packet goes on unmarked: the chain's end drops it, or
        // keeps only what earlier interceptors attached to it.
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

/// Tests: where [`Lossy`] sits, next to the wire on the way in (read walks
/// the chain from the lowest slot), so every other interceptor, the
/// reception reports' included, sees its gaps.
#[cfg(test)]
pub(super) const LOSSY_SLOT: usize = 500;

/// Tests: loses the share `percent` of inbound video RTP (by sequence
/// number, so a retransmission of a lost packet is lost again).
#[cfg(test)]
pub(super) struct Lossy {
    pub(super) percent: std::sync::Arc<std::sync::atomic::AtomicU32>,
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

#[cfg(test)]
impl Lossy {
    pub(super) fn new(percent: std::sync::Arc<std::sync::atomic::AtomicU32>) -> Self {
        Self { percent, read: VecDeque::new(), write: VecDeque::new() }
    }
}

#[cfg(test)]
impl Protocol<TaggedPacket, TaggedPacket, ()> for Lossy {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        let percent = self.percent.load(std::sync::atomic::Ordering::Relaxed);
        if let Packet::Rtp(p) = &msg.message.packet
            && p.header.payload_type == super::VP8_PT
            && u32::from(p.header.sequence_number % 100) < percent
        {
            return Ok(());
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

#[cfg(test)]
impl Interceptor for Lossy {
    fn bind_local_stream(&mut self, _: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}
