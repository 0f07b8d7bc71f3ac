//! The list of chats (Chats tab): creating a group and its invitations on
//! top, then every conversation with its unread count and last message.

use eframe::egui;

use crate::app::{Ctx, Nav};
use crate::screens::groups::NewGroup;
use crate::widgets::{short, small_weak};

/// The chat list's state.
#[derive(Debug, Default)]
pub struct ChatList {
    new_group: NewGroup,
}

impl ChatList {
    /// Draws the list; a click opens the chat.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        self.new_group.show(ui, ctx);
        crate::screens::private::offers(ui, ctx);
        ui.separator();
        if ctx.conversations.is_empty() {
            ui.label("No chats yet.");
        }
        let mut pick = None;
        let open = ctx.open().map(str::to_owned);
        let (conversations, chats, cache) = (&ctx.conversations, &ctx.chats, &mut ctx.emoji);
        egui::ScrollArea::vertical().show(ui, |ui| {
            for c in conversations {
                let last = chats
                    .get(&c.id)
                    .filter(|_| !c.locked)
                    .and_then(|ch| ch.messages.last())
                    .and_then(|m| m.text.clone())
                    .unwrap_or_default();
                let mark = crate::screens::private::mark(c);
                let title = if c.unread > 0 {
                    format!("{}{mark} ({})", c.title, c.unread)
                } else {
                    format!("{}{mark}", c.title)
                };
                let selected = open.as_deref() == Some(c.id.as_str());
                let r = ui.selectable_label(selected, title);
                if !last.is_empty() {
                    small_weak(ui, cache, &short(&last, 40));
                }
                if r.clicked() {
                    pick = Some(c.id.clone());
                }
            }
        });
        if let Some(id) = pick {
            ctx.go(Nav::OpenChat(id));
        }
    }
}
