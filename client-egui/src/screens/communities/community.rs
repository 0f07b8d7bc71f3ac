//! A community's page: its header (name, topic, members, badges, join or
//! leave, the way to Moderation for its moderators), the composer, a
//! search box for its posts and comments, and its posts in the order
//! picked, a page at a time.

use eframe::egui::{self, RichText};
use kovan_node::{CommunityItemView, CommunityView};

use super::compose::Composer;
use super::create::policy_name;
use super::item::{self, Click, Listing};
use super::{Go, Page};
use crate::app::Ctx;
use crate::backend::{Cmd, CommunityCmd};
use crate::widgets::{labelled, short};

/// A community page's state.
#[derive(Debug, Default)]
pub(super) struct CommunityPage {
    /// The community shown.
    name: String,
    /// Its header as last read.
    view: Option<CommunityView>,
    listing: Listing,
    composer: Composer,
    query: String,
    /// The last search in it: what was looked for, and what matched.
    hits: Option<(String, Vec<CommunityItemView>)>,
}

/// Whether this account may read a community's posts.
fn may_read(c: &CommunityView) -> bool {
    !c.private || c.my_state.as_deref() == Some("member") || c.moderator
}

impl CommunityPage {
    /// Shows `name` (what was shown of another community goes), reading
    /// its header; its posts follow once the header says they may be read.
    pub(super) fn open(&mut self, name: &str, ctx: &mut Ctx) {
        if self.name != name {
            *self = Self { name: name.to_owned(), ..Self::default() };
        }
        ctx.send(Cmd::Community(CommunityCmd::Open(name.to_owned())));
    }

    /// Opens the composer quoting `item` (the next [`Self::open`] keeps it).
    pub(super) fn quote(&mut self, name: &str, item: CommunityItemView) {
        if self.name != name {
            *self = Self { name: name.to_owned(), ..Self::default() };
        }
        self.composer.quote(item);
    }

    /// A community's header came; this one's posts are read (again).
    pub(super) fn community(&mut self, view: CommunityView, ctx: &mut Ctx) {
        if view.name != self.name {
            return;
        }
        if may_read(&view) {
            self.listing.loading = true;
            ctx.send(Cmd::Community(CommunityCmd::Posts {
                name: self.name.clone(),
                sort: self.listing.sort,
                offset: 0,
                count: self.listing.reload_count(),
            }));
        }
        self.view = Some(view);
    }

    /// Posts came; true when they are this page's (from the start: the
    /// community is read now).
    pub(super) fn posts(
        &mut self,
        name: &str,
        sort: crate::backend::Sort,
        offset: usize,
        items: Vec<CommunityItemView>,
        more: bool,
    ) -> bool {
        if name != self.name {
            return false;
        }
        self.listing.got(sort, offset, items, more);
        offset == 0
    }

    /// Search hits came.
    pub(super) fn hits(&mut self, name: &str, query: String, items: Vec<CommunityItemView>) {
        if name == self.name {
            self.hits = Some((query, items));
        }
    }

    /// A post went into `name`: if it was this composer's, it empties.
    pub(super) fn posted(&mut self, name: &str) {
        if name == self.name {
            self.composer.posted();
        }
    }

    /// Something failed (`posting`: the post): nothing is on its way any
    /// more.
    pub(super) fn failed(&mut self, posting: bool) {
        self.listing.loading = false;
        if posting {
            self.composer.failed();
        }
    }

    /// Draws the page.
    pub(super) fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, go: &mut Option<Go>) {
        let Some(c) = self.view.clone() else {
            ui.heading(&self.name);
            ui.spinner();
            return;
        };
        self.header(ui, ctx, &c, go);
        ui.separator();
        if !may_read(&c) {
            ui.label(tr!("communities-private-note"));
            return;
        }
        let member = c.my_state.as_deref() == Some("member");
        if member && !c.archived {
            let (me, now) = (ctx.signed_in.clone().unwrap_or_default(), ctx.now_ms());
            if let Some(draft) = self.composer.show(ui, &mut ctx.desktop, &me, now) {
                ctx.send(Cmd::Community(CommunityCmd::Post { name: c.name.clone(), draft }));
            }
        }
        let mut click = None;
        self.search(ui, ctx, &c, &mut click);
        if self.listing.sort_bar(ui) {
            self.listing.loading = true;
            ctx.send(Cmd::Community(CommunityCmd::Posts {
                name: c.name.clone(),
                sort: self.listing.sort,
                offset: 0,
                count: crate::backend::POST_PAGE,
            }));
        }
        let (clicked, more) = self.listing.show(ui, &tr!("communities-no-posts"));
        if more {
            ctx.send(Cmd::Community(CommunityCmd::Posts {
                name: c.name.clone(),
                sort: self.listing.sort,
                offset: self.listing.items.len(),
                count: crate::backend::POST_PAGE,
            }));
        }
        if let Some(cmd) = clicked.or(click).and_then(|c| c.follow(go)) {
            ctx.send(Cmd::Community(cmd));
        }
    }

    fn header(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, c: &CommunityView, go: &mut Option<Go>) {
        ui.horizontal_wrapped(|ui| {
            ui.heading(&c.name);
            if c.archived {
                ui.label(
                    RichText::new(tr!("communities-archived"))
                        .strong()
                        .color(ui.visuals().warn_fg_color),
                );
            }
            if c.private {
                ui.weak(tr!("communities-private"));
            }
        });
        if !c.topic.is_empty() {
            ui.label(&c.topic);
        }
        let owner = c.owner.clone().unwrap_or_default();
        ui.weak(tr!(
            "communities-counts",
            members = c.members,
            posts = c.posts,
            owner = owner,
            policy = policy_name(&c.post_policy)
        ));
        if !c.description.is_empty() || !c.rules.is_empty() || !c.moderators.is_empty() {
            egui::CollapsingHeader::new(tr!("communities-about")).show(ui, |ui| {
                if !c.description.is_empty() {
                    ui.add(egui::Label::new(&c.description).wrap());
                }
                if !c.moderators.is_empty() {
                    let names: Vec<String> = c.moderators.iter().map(|m| short(m, 32)).collect();
                    ui.label(tr!("communities-moderated-by", names = names.join(", ")));
                }
                if !c.rules.is_empty() {
                    ui.strong(tr!("communities-rules"));
                    ui.add(egui::Label::new(&c.rules).wrap());
                }
            });
        }
        let me_owner = ctx.signed_in.is_some() && ctx.signed_in == c.owner;
        ui.horizontal_wrapped(|ui| {
            let name = c.name.clone();
            match c.my_state.as_deref() {
                Some("member") if !me_owner && ui.button(tr!("communities-leave")).clicked() => {
                    ctx.send(Cmd::Community(CommunityCmd::Join { name, join: false }));
                }
                Some("member") => {}
                Some("pending") => {
                    ui.weak(tr!("communities-request-sent"));
                }
                Some("banned") => {
                    ui.weak(tr!("communities-banned"));
                }
                _ if !c.archived => {
                    let label = if c.private && c.my_state.as_deref() != Some("invited") {
                        tr!("communities-ask-to-join")
                    } else {
                        tr!("communities-join")
                    };
                    if ui.button(label).clicked() {
                        ctx.send(Cmd::Community(CommunityCmd::Join { name, join: true }));
                    }
                }
                _ => {}
            }
            if c.moderator && ui.button(tr!("communities-moderation")).clicked() {
                *go = Some(Go::To(Page::Moderation(c.name.clone())));
            }
            if ui.button(tr!("communities-refresh")).clicked() {
                self.open(&c.name, ctx);
            }
        });
    }

    fn search(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut Ctx,
        c: &CommunityView,
        click: &mut Option<Click>,
    ) {
        let r = ui
            .horizontal(|ui| {
                let r = labelled(ui, &tr!("communities-search-in"), &mut self.query, false);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.button(tr!("communities-search-posts")).clicked() || enter
            })
            .inner;
        let q = self.query.trim().to_owned();
        if r && !q.is_empty() {
            ctx.send(Cmd::Community(CommunityCmd::Search { name: c.name.clone(), query: q }));
        }
        let Some((query, hits)) = &self.hits else { return };
        let mut clear = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.strong(tr!("communities-hits", n = hits.len(), query = query.as_str()));
                clear = ui.small_button(tr!("communities-clear-search")).clicked();
            });
            for hit in hits {
                item::meta(ui, hit);
                if let Some(c) = item::content(ui, hit, false) {
                    *click = Some(c);
                }
                if item::readable(hit)
                    && hit.depth > 0
                    && ui.small_button(tr!("communities-open-thread")).clicked()
                {
                    *click = Some(Click::Open(hit.id.clone()));
                }
                ui.separator();
            }
        });
        if clear {
            self.hits = None;
        }
    }
}
