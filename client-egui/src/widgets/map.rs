//! A small offline map to pick a place by clicking: an equirectangular
//! view with a graticule, the gazetteer's places as dots (with names once
//! zoomed in) and a pin on the place picked. Drag pans, the wheel zooms.
//! No tiles are fetched: nobody learns where the user looked.

use eframe::egui::{self, Color32, FontId, Pos2, Rect, Sense, Stroke};

use crate::places::Place;

/// Where the map looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapView {
    /// The centre, degrees north.
    pub lat: f64,
    /// The centre, degrees east.
    pub lon: f64,
    /// 1: the whole world across the map's width.
    pub zoom: f64,
}

impl Default for MapView {
    fn default() -> Self {
        // Turkey and its neighbours.
        Self { lat: 39.0, lon: 35.0, zoom: 6.0 }
    }
}

impl MapView {
    fn scale(&self, rect: Rect) -> f64 {
        f64::from(rect.width()) / 360.0 * self.zoom
    }

    /// Where a place is drawn.
    pub fn to_screen(&self, rect: Rect, lat: f64, lon: f64) -> Pos2 {
        let s = self.scale(rect);
        let c = rect.center();
        egui::pos2(c.x + ((lon - self.lon) * s) as f32, c.y - ((lat - self.lat) * s) as f32)
    }

    /// The place under a point of the map.
    pub fn to_degrees(&self, rect: Rect, p: Pos2) -> (f64, f64) {
        let s = self.scale(rect);
        let c = rect.center();
        let lat = self.lat - f64::from(p.y - c.y) / s;
        let lon = self.lon + f64::from(p.x - c.x) / s;
        (lat.clamp(-90.0, 90.0), wrap(lon))
    }

    /// Looks at a place, a little closer in.
    pub fn look_at(&mut self, lat: f64, lon: f64) {
        self.lat = lat;
        self.lon = lon;
        self.zoom = self.zoom.max(24.0);
    }
}

fn wrap(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// Draws the map `height` points tall; returns the place clicked.
pub fn map(
    ui: &mut egui::Ui,
    view: &mut MapView,
    places: &[Place],
    pin: Option<(f64, f64)>,
    height: f32,
    label: &str,
) -> Option<(f64, f64)> {
    let size = egui::vec2(ui.available_width(), height);
    let (rect, r) = ui.allocate_exact_size(size, Sense::click_and_drag());
    r.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Other, true, label));
    if r.dragged() {
        let d = r.drag_delta();
        let s = view.scale(rect);
        view.lon = wrap(view.lon - f64::from(d.x) / s);
        view.lat = (view.lat + f64::from(d.y) / s).clamp(-85.0, 85.0);
    }
    if r.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            view.zoom = (view.zoom * (1.0 + f64::from(scroll) / 200.0)).clamp(1.0, 400.0);
        }
    }
    let painter = ui.painter_at(rect);
    let v = ui.visuals();
    painter.rect_filled(rect, 6.0, v.extreme_bg_color);
    // The graticule: every 30°, 10° or 1° as the map zooms in.
    let step = if view.zoom < 8.0 {
        30.0
    } else if view.zoom < 60.0 {
        10.0
    } else {
        1.0
    };
    let grid = Stroke::new(1.0, v.faint_bg_color);
    let mut lon = -180.0;
    while lon <= 180.0 {
        let x = view.to_screen(rect, 0.0, lon).x;
        painter.line_segment([egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())], grid);
        lon += step;
    }
    let mut lat = -90.0;
    while lat <= 90.0 {
        let y = view.to_screen(rect, lat, 0.0).y;
        painter.line_segment([egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)], grid);
        lat += step;
    }
    let dot = v.weak_text_color();
    let named = view.zoom >= 20.0;
    for p in places {
        let at = view.to_screen(rect, p.lat, p.lon);
        if !rect.contains(at) {
            continue;
        }
        painter.circle_filled(at, 2.0, dot);
        if named {
            painter.text(
                at + egui::vec2(4.0, 0.0),
                egui::Align2::LEFT_CENTER,
                &p.name,
                FontId::proportional(10.0),
                dot,
            );
        }
    }
    if let Some((lat, lon)) = pin {
        let at = view.to_screen(rect, lat, lon);
        let red = Color32::from_rgb(220, 50, 50);
        painter.circle_filled(at - egui::vec2(0.0, 9.0), 6.0, red);
        painter.line_segment([at - egui::vec2(0.0, 4.0), at], Stroke::new(2.0, red));
    }
    let clicked = r.clicked().then(|| r.interact_pointer_pos()).flatten();
    clicked.map(|p| view.to_degrees(rect, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_goes_to_the_screen_and_back() {
        let rect = Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(360.0, 200.0));
        let view = MapView { lat: 39.0, lon: 35.0, zoom: 6.0 };
        let p = view.to_screen(rect, 41.0082, 28.9784);
        let (lat, lon) = view.to_degrees(rect, p);
        assert!((lat - 41.0082).abs() < 0.01 && (lon - 28.9784).abs() < 0.01, "{lat} {lon}");
        assert_eq!(view.to_screen(rect, 39.0, 35.0), rect.center());
        assert!((wrap(190.0) + 170.0).abs() < 1e-9);
    }
}
