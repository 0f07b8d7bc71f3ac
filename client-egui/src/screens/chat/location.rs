//! Locations: the form that shares a place (once, or live for a while),
//! found by name in the offline gazetteer, clicked on the offline map, or
//! typed as coordinates; and a location in its bubble (the sharer can move
//! or stop a live one).

use std::time::Duration;

use eframe::egui::{self, RichText};
use kovan_node::node::LocationView;

use super::bubble::Bubble;
use crate::backend::Cmd;
use crate::places;
use crate::widgets::{MapView, clock, field, map};

/// The location form's fields.
#[derive(Debug, Default)]
pub struct LocationForm {
    lat: String,
    lon: String,
    place: String,
    live_for: String,
    /// What is typed in "Find a place".
    find: String,
    map: MapView,
}

/// Places listed for what is typed in "Find a place".
const FOUND: usize = 6;

impl LocationForm {
    /// The coordinates typed in, if they make a place.
    pub fn typed_point(&self) -> Option<(f64, f64)> {
        let lat: f64 = self.lat.trim().replace(',', ".").parse().ok()?;
        let lon: f64 = self.lon.trim().replace(',', ".").parse().ok()?;
        kovan_spec::Point::from_degrees(lat, lon, 0).ok().map(|_| (lat, lon))
    }

    /// Puts a place in the form (coordinates rounded as shared: 4
    /// decimals, about 10 m).
    fn set(&mut self, lat: f64, lon: f64, name: Option<&str>) {
        self.lat = format!("{lat:.4}");
        self.lon = format!("{lon:.4}");
        if let Some(n) = name {
            self.place = n.to_owned();
        }
    }

    /// Find a place by name, or click it on the map.
    fn finder(&mut self, ui: &mut egui::Ui) {
        field(ui, &tr!("chat-find-place"), &mut self.find, &tr!("chat-find-place-hint"), 220.0);
        let found = places::search(&self.find, FOUND);
        if !self.find.trim().is_empty() && found.is_empty() {
            ui.label(tr!("chat-no-place"));
        }
        let mut picked = None;
        ui.horizontal_wrapped(|ui| {
            for p in &found {
                if ui.selectable_label(false, p.label()).clicked() {
                    picked = Some(*p);
                }
            }
        });
        if let Some(p) = picked {
            self.set(p.lat, p.lon, Some(&p.name));
            self.map.look_at(p.lat, p.lon);
            self.find.clear();
        }
        let pin = self.typed_point();
        if let Some((lat, lon)) =
            map(ui, &mut self.map, places::all(), pin, 180.0, &tr!("chat-map"))
        {
            self.set(lat, lon, None);
        }
    }

    /// Share a place (found, clicked or typed), once or live.
    pub fn show(&mut self, ui: &mut egui::Ui, conv: &str, cmds: &mut Vec<Cmd>) {
        self.finder(ui);
        ui.horizontal(|ui| {
            let coordinates =
                [(tr!("chat-latitude"), &mut self.lat), (tr!("chat-longitude"), &mut self.lon)];
            for (label, value) in coordinates {
                field(ui, &label, value, "", 90.0);
            }
            field(ui, &tr!("chat-place-name"), &mut self.place, "", 120.0);
        });
        let point = self.typed_point();
        if point.is_none() && !(self.lat.is_empty() && self.lon.is_empty()) {
            ui.label(tr!("chat-coordinates-hint"));
        }
        let place = self.place.trim().to_owned();
        let share = |live| {
            point.map(|(lat, lon)| Cmd::ShareLocation {
                conversation: conv.to_owned(),
                lat,
                lon,
                label: place.clone(),
                live,
            })
        };
        ui.horizontal(|ui| {
            if ui
                .add_enabled(point.is_some(), egui::Button::new(tr!("chat-share-location")))
                .clicked()
            {
                cmds.extend(share(None));
            }
            field(ui, &tr!("chat-live-for"), &mut self.live_for, "15m, 1h, 8h", 60.0);
            let live = humantime::parse_duration(self.live_for.trim())
                .ok()
                .filter(|d| *d >= Duration::from_secs(60) && *d <= Duration::from_secs(24 * 3600));
            let ok = point.is_some() && live.is_some();
            if ui.add_enabled(ok, egui::Button::new(tr!("chat-share-live-location"))).clicked() {
                cmds.extend(share(live));
            }
            if !self.live_for.is_empty() && live.is_none() {
                ui.label(tr!("chat-live-duration"));
            }
        });
    }
}

/// A location: its coordinates, a link for the map app, and for a live
/// share how long it runs (the sharer can move or stop it).
pub fn card(
    ui: &mut egui::Ui,
    l: &LocationView,
    mine: bool,
    here: Option<(f64, f64)>,
) -> Option<Bubble> {
    let mut action = None;
    let accuracy = if l.accuracy_m > 0 { format!(" ±{} m", l.accuracy_m) } else { String::new() };
    ui.label(format!("{:.5}, {:.5}{accuracy}", l.lat, l.lon));
    ui.hyperlink_to(tr!("chat-open-in-map"), format!("geo:{:.6},{:.6}", l.lat, l.lon));
    if l.live {
        if l.active {
            let until = l.live_until.map(clock).unwrap_or_default();
            ui.label(tr!("chat-live-until", until = until, updated = clock(l.updated_at)));
            if mine {
                ui.horizontal(|ui| {
                    if let Some((lat, lon)) = here
                        && ui.small_button(tr!("chat-move-location")).clicked()
                    {
                        action = Some(Bubble::MoveLocation(lat, lon));
                    }
                    if ui.small_button(tr!("chat-stop-sharing")).clicked() {
                        action = Some(Bubble::StopLocation);
                    }
                });
            }
        } else {
            let how = if l.stopped { tr!("chat-live-stopped") } else { tr!("chat-live-ended") };
            ui.label(RichText::new(how).italics());
        }
    }
    action
}
