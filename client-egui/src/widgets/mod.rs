//! Widgets that more than one screen draws. Each takes what it shows as
//! arguments and returns what was clicked; none holds state or talks to
//! the backend.

mod avatar;
mod confirm;
mod emoji_text;
mod fields;
mod file_line;
mod format;
mod initials;
mod map;
mod presence;
mod texture;
mod waveform;

pub use avatar::avatar;
pub use confirm::{Confirm, confirm};
pub use emoji_text::small_weak;
pub use fields::{field, labelled};
pub use file_line::{FileAction, file_line, opened_file};
pub use format::{
    civil_day, clock, contact_name, day_label, format_day, human_size, local, local_ms,
    set_time_zone, short,
};
pub use initials::{initials, paint_avatar, seed_colour};
pub use map::{MapView, map};
pub use presence::presence;
pub use texture::rgba_texture;
pub use waveform::waveform;
