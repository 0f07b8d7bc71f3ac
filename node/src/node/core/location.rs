//! Locations on the core thread (SPEC.md §6.5): a fixed point is a plain
//! message; a live share is a message plus a `live_locations` row that the
//! sharer's node updates every few seconds from its source (a track of
//! points, or positions the app feeds in) until the share ends or is
//! stopped. Whether a share is still live is computed from its end time
//! and the node's clock, so it ends for everyone — also for a device that
//! was off when it expired.

use std::time::Duration;

use kovan_spec::validate::{Content, Place, Point};
use kovan_spec::{validate_app_envelope, wire};
use rand_core::OsRng;
use rusqlite::{OptionalExtension, params};

use super::{Core, internal};
use crate::control::{point, s, to_value};
use crate::node::views::{Event, LocationView, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult, views};

/// The shortest interval between live updates.
pub const MIN_EVERY: Duration = Duration::from_secs(1);
/// Positions queued for a live share at most.
const MAX_TRACK: usize = 10_000;

/// A live share's settings (I5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveShare {
    /// How long it lasts (at most 24 h).
    pub duration: Duration,
    /// How often an update goes out (at least 1 s).
    pub every: Duration,
    /// Positions to send in order, one per interval, after the first
    /// (a GPX track); more can be added with `location_update`.
    pub track: Vec<Point>,
}

fn encode_points(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * 12);
    for p in points {
        out.extend_from_slice(&p.lat_e7.to_be_bytes());
        out.extend_from_slice(&p.lon_e7.to_be_bytes());
        out.extend_from_slice(&p.accuracy_m.to_be_bytes());
    }
    out
}

fn decode_points(bytes: &[u8]) -> Vec<Point> {
    bytes
        .chunks_exact(12)
        .filter_map(|c| {
            let n = |i: usize| [c[i], c[i + 1], c[i + 2], c[i + 3]];
            Point::new(i32::from_be_bytes(n(0)), i32::from_be_bytes(n(4)), u32::from_be_bytes(n(8)))
                .ok()
        })
        .collect()
}

fn context(what: &str, conv: &[u8], id: &[u8]) -> Vec<u8> {
    let mut c = format!("locations/{what}/").into_bytes();
    c.extend_from_slice(&(conv.len() as u32).to_be_bytes());
    c.extend_from_slice(conv);
    c.extend_from_slice(id);
    c
}

/// A live share as stored.
pub(super) struct Live {
    pub sender: Vec<u8>,
    pub live_until: i64,
    pub stopped: bool,
    pub position: Point,
    pub updated_at: i64,
}

impl Core {
    fn seal_points(&self, what: &str, conv: &[u8], id: &[u8], p: &[Point]) -> Vec<u8> {
        self.field.seal(&mut OsRng, &context(what, conv, id), &encode_points(p))
    }

    fn open_points(&self, what: &str, conv: &[u8], id: &[u8], sealed: &[u8]) -> Vec<Point> {
        self.field
            .open(&context(what, conv, id), sealed)
            .map(|p| decode_points(&p))
            .unwrap_or_default()
    }

    pub(super) fn live(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Option<Live>> {
        let row = self
            .db
            .conn()
            .query_row(
                "SELECT sender_account, live_until, stopped_at IS NOT NULL, position, updated_at \
                 FROM live_locations WHERE conversation_id = ?1 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.and_then(|(sender, live_until, stopped, sealed, updated_at)| {
            let position = *self.open_points("position", conv, id, &sealed).first()?;
            Some(Live { sender, live_until, stopped, position, updated_at })
        }))
    }

    /// A location message's view: its latest position and whether it is
    /// still live by this node's clock.
    pub(super) fn location_view(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        place: &Place,
        sent_at: i64,
    ) -> crate::Result<LocationView> {
        let now = self.options.clock.now_ms();
        let live = self.live(conv, id)?;
        let (point, updated_at, active) = match &live {
            Some(l) => (l.position, l.updated_at, !l.stopped && now < l.live_until),
            None => (place.point, sent_at, false),
        };
        Ok(LocationView {
            lat: f64::from(point.lat_e7) / 1e7,
            lon: f64::from(point.lon_e7) / 1e7,
            accuracy_m: point.accuracy_m,
            label: place.label.clone(),
            live: place.live_until_ms.is_some(),
            live_until: place.live_until_ms.map(|t| t as i64),
            updated_at,
            active,
            stopped: live.is_some_and(|l| l.stopped),
        })
    }

    fn location_changed(&mut self, conv: &[u8], id: &[u8; 16]) -> crate::Result<()> {
        if let Some(view) = self.message_view(conv, id)? {
            self.emit(Event::LocationUpdated { message: view });
        }
        Ok(())
    }

    /// An incoming location message: a live one gets its row.
    pub(super) fn on_location(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        sender: &[u8],
        place: &Place,
        sent_at: i64,
    ) -> crate::Result<()> {
        let Some(until) = place.live_until_ms else { return Ok(()) };
        let sealed = self.seal_points("position", conv, id, &[place.point]);
        self.db.conn().execute(
            "INSERT OR IGNORE INTO live_locations (conversation_id, message_id, sender_account, \
             outgoing, live_until, position, updated_at, next_at) \
             VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?4)",
            params![conv, id.as_slice(), sender, until as i64, sealed, sent_at],
        )?;
        Ok(())
    }

    /// A new position from the sharer; anything else is ignored: another
    /// account's update, one after the end or the stop, an older one.
    pub(super) fn on_location_update(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        sender: &[u8],
        point: Point,
        at: i64,
    ) -> crate::Result<()> {
        let Some(live) = self.live(conv, target)? else { return Ok(()) };
        if live.sender != sender || live.stopped || at >= live.live_until || at <= live.updated_at {
            tracing::debug!("ignored a location update");
            return Ok(());
        }
        let sealed = self.seal_points("position", conv, target, &[point]);
        self.db.conn().execute(
            "UPDATE live_locations SET position = ?3, updated_at = ?4 \
             WHERE conversation_id = ?1 AND message_id = ?2",
            params![conv, target.as_slice(), sealed, at],
        )?;
        self.location_changed(conv, target)
    }

    pub(super) fn on_location_stop(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        sender: &[u8],
        now: i64,
    ) -> crate::Result<()> {
        let Some(live) = self.live(conv, target)? else { return Ok(()) };
        if live.sender != sender || live.stopped {
            return Ok(());
        }
        self.db.conn().execute(
            "UPDATE live_locations SET stopped_at = ?3, next_at = NULL \
             WHERE conversation_id = ?1 AND message_id = ?2",
            params![conv, target.as_slice(), now],
        )?;
        self.location_changed(conv, target)
    }

    pub(in crate::node) fn share_location(
        &mut self,
        to: &str,
        point: Point,
        label: &str,
        live: Option<LiveShare>,
    ) -> NodeResult<MessageView> {
        if label.len() > kovan_spec::limits::MAX_LOCATION_LABEL {
            return Err(NodeError::Invalid("the label is longer than 256 bytes".into()));
        }
        let now = self.options.clock.now_ms();
        let until = match &live {
            None => 0,
            Some(l) => {
                let max = Duration::from_millis(kovan_spec::limits::MAX_LIVE_LOCATION_MS);
                if l.duration.is_zero() || l.duration > max {
                    return Err(NodeError::Invalid("live sharing lasts up to 24 hours".into()));
                }
                if l.every < MIN_EVERY || l.track.len() > MAX_TRACK {
                    return Err(NodeError::Invalid(
                        "updates at most once a second, at most 10,000 queued".into(),
                    ));
                }
                now + l.duration.as_millis() as i64
            }
        };
        let (conv, recipients) = self.writable(to)?;
        let content = wire::app_envelope::Content::Location(wire::Location {
            lat_e7: point.lat_e7,
            lon_e7: point.lon_e7,
            accuracy_m: point.accuracy_m,
            label: label.to_owned(),
            live_until_ms: until as u64,
        });
        let tx = self.db.tx();
        let id = tx.atomic(|| {
            let id = self.send_app(&conv, &recipients, content, None, true)?;
            if let Some(l) = &live {
                let me = self.my_account();
                let position = self.seal_points("position", &conv, &id, &[point]);
                let track = self.seal_points("track", &conv, &id, &l.track);
                self.db
                    .conn()
                    .execute(
                        "INSERT INTO live_locations (conversation_id, message_id, sender_account, \
                         outgoing, live_until, position, updated_at, every_ms, next_at, track) \
                         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            conv,
                            id.as_slice(),
                            me.as_slice(),
                            until,
                            position,
                            now,
                            l.every.as_millis() as i64,
                            now + l.every.as_millis() as i64,
                            track
                        ],
                    )
                    .map_err(crate::Error::from)?;
            }
            Ok::<_, NodeError>(id)
        })?;
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("not stored"))?;
        self.emit(Event::Message { message: view.clone() });
        self.schedule();
        self.flush_events();
        self.pump();
        Ok(view)
    }

    /// Queues a new position for one of our live shares (sent at its next
    /// interval).
    pub(in crate::node) fn location_update(
        &mut self,
        who: &str,
        id: [u8; 16],
        point: Point,
    ) -> NodeResult<MessageView> {
        let (conv, _) = self.find_conversation(who)?;
        let sealed = self.own_live_track(&conv, &id)?;
        let mut track = self.open_points("track", &conv, &id, &sealed);
        if track.len() >= MAX_TRACK {
            return Err(NodeError::Invalid("10,000 positions are waiting already".into()));
        }
        track.push(point);
        let sealed = self.seal_points("track", &conv, &id, &track);
        self.db
            .conn()
            .execute(
                "UPDATE live_locations SET track = ?3 WHERE conversation_id = ?1 AND message_id = ?2",
                params![conv, id.as_slice(), sealed],
            )
            .map_err(crate::Error::from)?;
        self.message_view(&conv, &id)?.ok_or_else(|| internal("vanished"))
    }

    /// The queued track of one of our live shares that is still running.
    fn own_live_track(&self, conv: &[u8], id: &[u8; 16]) -> NodeResult<Vec<u8>> {
        let now = self.options.clock.now_ms();
        let row: Option<(Option<Vec<u8>>, i64, bool)> = self
            .db
            .conn()
            .query_row(
                "SELECT track, live_until, stopped_at IS NOT NULL FROM live_locations \
                 WHERE conversation_id = ?1 AND message_id = ?2 AND outgoing = 1",
                params![conv, id.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(crate::Error::from)?;
        match row {
            None => Err(NodeError::NotFound("no live location of yours with that id".into())),
            Some((_, until, stopped)) if stopped || now >= until => {
                Err(NodeError::Invalid("that live location has ended".into()))
            }
            Some((track, ..)) => Ok(track.unwrap_or_default()),
        }
    }

    pub(in crate::node) fn location_stop(
        &mut self,
        who: &str,
        id: [u8; 16],
    ) -> NodeResult<MessageView> {
        let (conv, recipients) = self.writable(who)?;
        self.own_live_track(&conv, &id)?;
        let content =
            wire::app_envelope::Content::LocationStop(wire::LocationStop { target: id.to_vec() });
        let now = self.options.clock.now_ms();
        let tx = self.db.tx();
        tx.atomic(|| {
            self.send_app(&conv, &recipients, content, None, false)?;
            self.db
                .conn()
                .execute(
                    "UPDATE live_locations SET stopped_at = ?3, next_at = NULL \
                     WHERE conversation_id = ?1 AND message_id = ?2",
                    params![conv, id.as_slice(), now],
                )
                .map_err(crate::Error::from)?;
            Ok::<_, NodeError>(())
        })?;
        self.location_changed(&conv, &id)?;
        self.flush_events();
        self.pump();
        self.message_view(&conv, &id)?.ok_or_else(|| internal("vanished"))
    }

    /// Stops this device's live shares in `conv` (before it is sealed:
    /// positions would otherwise go on in the clear, §7.9).
    pub(super) fn stop_own_live_shares(&mut self, conv: &[u8]) {
        let ids: Vec<Vec<u8>> = self
            .db
            .conn()
            .prepare(
                "SELECT message_id FROM live_locations WHERE conversation_id = ?1 \
                 AND outgoing = 1 AND stopped_at IS NULL AND next_at IS NOT NULL",
            )
            .and_then(|mut st| {
                st.query_map(params![conv], |r| r.get(0))?.collect::<rusqlite::Result<_>>()
            })
            .unwrap_or_default();
        for id in ids.into_iter().filter_map(|i| <[u8; 16]>::try_from(i).ok()) {
            if let Err(e) = self.location_stop(&hex::encode(conv), id) {
                tracing::warn!(error = %e, "stopping a live location before sealing failed");
            }
        }
    }

    /// The earliest live update due, if any.
    pub(super) fn next_location_update(&self) -> Option<i64> {
        self.earliest("SELECT MIN(next_at) FROM live_locations WHERE next_at IS NOT NULL")
    }

    /// Sends the live updates that are due; ends shares whose time is up.
    pub(super) fn run_locations(&mut self) {
        if self.stopping {
            return;
        }
        let now = self.options.clock.now_ms();
        let due = self.due_messages(
            "SELECT conversation_id, message_id FROM live_locations \
             WHERE next_at IS NOT NULL AND next_at <= ?1 LIMIT 64",
            now,
            "live locations",
        );
        for (conv, id) in due {
            let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) else { continue };
            if let Err(e) = self.live_tick(&conv, &id, now) {
                tracing::warn!(error = %e, "a live location update failed");
                // Try again at the next interval rather than at every tick.
                let _ = self.db.conn().execute(
                    "UPDATE live_locations SET next_at = next_at + every_ms \
                     WHERE conversation_id = ?1 AND message_id = ?2",
                    params![conv, id.as_slice()],
                );
            }
        }
        self.flush_events();
        self.pump();
    }

    /// One live share's turn: the next queued position goes out (nothing
    /// when none is queued); past its end, the share is over (for a share
    /// we receive, its end is its only turn: the view changes then).
    fn live_tick(&mut self, conv: &[u8], id: &[u8; 16], now: i64) -> NodeResult<()> {
        let (until, every, sealed, outgoing): (i64, Option<i64>, Option<Vec<u8>>, bool) = self
            .db
            .conn()
            .query_row(
                "SELECT live_until, every_ms, track, outgoing FROM live_locations \
                 WHERE conversation_id = ?1 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(crate::Error::from)?;
        let every = every.unwrap_or(1000);
        if now >= until || !outgoing {
            self.db
                .conn()
                .execute(
                    "UPDATE live_locations SET next_at = NULL \
                     WHERE conversation_id = ?1 AND message_id = ?2",
                    params![conv, id.as_slice()],
                )
                .map_err(crate::Error::from)?;
            return self.location_changed(conv, id).map_err(NodeError::from);
        }
        let mut track = self.open_points("track", conv, id, &sealed.unwrap_or_default());
        let next = (now + every.max(1)).min(until);
        if track.is_empty() {
            self.db
                .conn()
                .execute(
                    "UPDATE live_locations SET next_at = ?3 WHERE conversation_id = ?1 AND message_id = ?2",
                    params![conv, id.as_slice(), next],
                )
                .map_err(crate::Error::from)?;
            return Ok(());
        }
        let point = track.remove(0);
        let (_, recipients) = self.writable(&hex::encode(conv))?;
        let content = wire::app_envelope::Content::LocationUpdate(wire::LocationUpdate {
            target: id.to_vec(),
            lat_e7: point.lat_e7,
            lon_e7: point.lon_e7,
            accuracy_m: point.accuracy_m,
        });
        let position = self.seal_points("position", conv, id, &[point]);
        let rest = self.seal_points("track", conv, id, &track);
        let tx = self.db.tx();
        tx.atomic(|| {
            self.send_app(conv, &recipients, content, None, false)?;
            self.db
                .conn()
                .execute(
                    "UPDATE live_locations SET position = ?3, updated_at = ?4, track = ?5, \
                     next_at = ?6 WHERE conversation_id = ?1 AND message_id = ?2",
                    params![conv, id.as_slice(), position, now, rest, next],
                )
                .map_err(crate::Error::from)?;
            Ok::<_, NodeError>(())
        })?;
        self.location_changed(conv, id).map_err(NodeError::from)
    }

    /// The place a stored message holds, if it is a location.
    pub(super) fn place_of(body: &[u8]) -> Option<Place> {
        match validate_app_envelope(body).ok()?.content {
            Content::Location(p) => Some(p),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------

/// Locations: points and live shares.
impl NodeHandle {
    /// Shares a location (SPEC.md §6.5): a fixed point, or with `live`
    /// the start of a live share that this node updates every
    /// `live.every` from its track (and from `location_update`) until it
    /// ends or `location_stop`.
    pub async fn share_location(
        &self,
        to: &str,
        point: kovan_spec::Point,
        label: &str,
        live: Option<LiveShare>,
    ) -> NodeResult<MessageView> {
        let (to, label) = (to.to_owned(), label.to_owned());
        self.call(move |c| c.share_location(&to, point, &label, live)).await
    }

    /// Queues a new position for one of your live shares (the location
    /// source: a GPS, a track, a point the user sets); it goes out at the
    /// share's next interval.
    pub async fn location_update(
        &self,
        conversation: &str,
        id: &str,
        point: kovan_spec::Point,
    ) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.location_update(&conversation, id, point)).await
    }

    /// Stops one of your live shares now, for everyone.
    pub async fn location_stop(&self, conversation: &str, id: &str) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.location_stop(&conversation, id)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "share_location" => {
        let at = point(p)?;
        let live = match p["live_secs"].as_u64() {
            None => None,
            Some(secs) => Some(LiveShare {
                duration: std::time::Duration::from_secs(secs),
                every: std::time::Duration::from_secs(p["every_secs"].as_u64().unwrap_or(30)),
                track: p["track"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(point)
                    .collect::<Result<_, _>>()?,
            }),
        };
        let label = p["label"].as_str().unwrap_or("");
        to_value(node.share_location(s(p, "to")?, at, label, live).await?)
    }
    "location_update" => {
        to_value(node.location_update(s(p, "with")?, s(p, "id")?, point(p)?).await?)
    }
    "location_stop" => to_value(node.location_stop(s(p, "with")?, s(p, "id")?).await?),
});
