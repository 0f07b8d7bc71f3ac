//! The Communities tab. On the left: the communities this account is in
//! (with their unread posts), the feed (posts across them), finding
//! communities to join, and a new community. In the middle, the page
//! picked: the feed, a community ([`community`]), a post with its comment
//! tree ([`thread`]) or a community's moderation ([`moderation`]).
//!
//! | part | module |
//! |---|---|
//! | the list, search, the feed, what the middle shows | `mod.rs` |
//! | a post or comment (failed verification, tombstones), a list of posts | [`item`] |
//! | a community's page | [`community`] |
//! | writing a post, with its preview | [`compose`] |
//! | a post and its comments as a collapsible tree | [`thread`] |
//! | reports, join requests, bans, the log; archive and delete | [`moderation`] |
//! | "New community" | [`create`] |
//!
//! Everything is read from the relay through the node, which checks every
//! signature: a post or comment that fails shows why, never its content.
//! Every write goes through the backend's queue; once it worked, the page
//! shown is read again.

mod community;
mod compose;
mod create;
mod item;
mod moderation;
mod thread;

use eframe::egui;
use kovan_node::{CommunityItemView, CommunityView};

use crate::app::Ctx;
use crate::backend::{Cmd, CommunityCmd, CommunityUpdate, POST_PAGE};
use crate::widgets::labelled;

/// Pages the Back button remembers.
const BACK_STEPS: usize = 32;

/// What the middle of the window shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Page {
    /// Nothing picked yet.
    #[default]
    Home,
    /// Posts across this account's communities.
    Feed,
    /// A community, by name.
    Community(String),
    /// A post (or comment) and its thread, by id.
    Thread(String),
    /// A community's moderation, by name.
    Moderation(String),
}

/// Where a page asks to go.
#[derive(Debug, Clone)]
enum Go {
    /// To a page.
    To(Page),
    /// Back to the page before.
    Back,
    /// To a community's composer, quoting a post or comment.
    Quote {
        /// The community's name.
        community: String,
        /// What is quoted.
        item: Box<CommunityItemView>,
    },
}

/// Finding communities by name, topic or description.
#[derive(Debug, Default)]
struct Find {
    query: String,
    /// What the search on its way is for.
    asked: Option<String>,
    /// What the results shown are for.
    answered: Option<String>,
    results: Vec<CommunityView>,
}

/// The Communities tab's state.
#[derive(Debug, Default)]
pub struct Communities {
    /// The communities this account is in (`None`: not read yet).
    joined: Option<Vec<CommunityView>>,
    /// They were asked for.
    joined_asked: bool,
    find: Find,
    create: create::NewCommunity,
    page: Page,
    back: Vec<Page>,
    feed: item::Listing,
    community: community::CommunityPage,
    thread: thread::ThreadPage,
    moderation: moderation::ModerationPage,
    /// Something happened in a community (an event): what is shown is
    /// read again, at most once per [`REREAD`].
    stale: bool,
    /// When it was last read again for an event.
    reread_at: Option<std::time::Instant>,
}

/// Events come in bursts (a busy thread); the page is read again at most
/// this often for them.
const REREAD: std::time::Duration = std::time::Duration::from_secs(2);

impl Communities {
    /// Posts not seen yet in the communities this account is in.
    pub fn unread(&self) -> i64 {
        self.joined.iter().flatten().filter_map(|c| c.unread).sum()
    }

    /// The tab was picked: the list and the page shown are read again.
    pub fn opened(&mut self, ctx: &mut Ctx) {
        if ctx.signed_in.is_none() {
            return;
        }
        self.joined_asked = true;
        ctx.send(Cmd::Community(CommunityCmd::Joined));
        self.load(ctx);
    }

    /// Something happened in a community: what is shown will be read
    /// again (see [`Self::show`]), once for a burst of events.
    pub fn stale(&mut self) {
        self.stale = true;
    }

    /// Forgets everything read (kovan locks, or the account signed out).
    pub fn forget(&mut self) {
        *self = Self::default();
    }

    /// The left side: the feed, the communities joined, finding one, and
    /// a new one.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if ctx.signed_in.is_none() {
            ui.label(tr!("communities-sign-in-first"));
            return;
        }
        if self.stale && self.reread_at.is_none_or(|t| t.elapsed() >= REREAD) {
            self.stale = false;
            self.reread_at = Some(std::time::Instant::now());
            self.opened(ctx);
        }
        if self.stale {
            ui.ctx().request_repaint_after(REREAD);
        }
        // Shown again after a lock, or first shown when the tab was
        // already up: the list is read once.
        if !std::mem::replace(&mut self.joined_asked, true) {
            ctx.send(Cmd::Community(CommunityCmd::Joined));
        }
        let mut go = None;
        egui::ScrollArea::vertical().id_salt("communities-side").show(ui, |ui| {
            let feed = self.page == Page::Feed;
            if ui.selectable_label(feed, tr!("communities-feed")).clicked() {
                go = Some(Go::To(Page::Feed));
            }
            ui.strong(tr!("communities-yours"));
            match &self.joined {
                None => {
                    ui.spinner();
                }
                Some(list) if list.is_empty() => {
                    ui.weak(tr!("communities-none-joined"));
                }
                Some(list) => {
                    for c in list {
                        let label = match c.unread {
                            Some(n) if n > 0 => {
                                tr!("communities-row-unread", name = c.name.as_str(), n = n)
                            }
                            _ => c.name.clone(),
                        };
                        let open = self.page == Page::Community(c.name.clone());
                        let row = ui.selectable_label(open, label);
                        let row =
                            if c.topic.is_empty() { row } else { row.on_hover_text(&c.topic) };
                        if row.clicked() {
                            go = Some(Go::To(Page::Community(c.name.clone())));
                        }
                    }
                }
            }
            ui.separator();
            self.find_ui(ui, ctx, &mut go);
            ui.separator();
            if let Some(cmd) = self.create.show(ui) {
                ctx.send(Cmd::Community(cmd));
            }
        });
        if let Some(g) = go {
            self.go(g, ctx);
        }
    }

    fn find_ui(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, go: &mut Option<Go>) {
        let f = &mut self.find;
        let r = labelled(ui, &tr!("communities-find"), &mut f.query, false);
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(tr!("communities-search")).clicked() || enter {
            let q = f.query.trim().to_owned();
            f.asked = Some(q.clone());
            ctx.send(Cmd::Community(CommunityCmd::Find(q)));
        }
        if f.asked.is_some() {
            ui.spinner();
        } else if let Some(q) = f.answered.as_ref().filter(|_| f.results.is_empty()) {
            ui.weak(tr!("communities-none-found", query = q.as_str()));
        }
        let mut cmds = Vec::new();
        for c in &f.results {
            ui.horizontal_wrapped(|ui| {
                let name = c.name.as_str();
                if ui.link(name).clicked() {
                    *go = Some(Go::To(Page::Community(c.name.clone())));
                }
                ui.weak(tr!("communities-members", n = c.members));
                if c.archived {
                    ui.weak(tr!("communities-archived"));
                }
                match c.my_state.as_deref() {
                    Some("member") => {
                        ui.weak(tr!("communities-joined", name = name));
                    }
                    Some("pending") => {
                        ui.weak(tr!("communities-request-sent-for", name = name));
                    }
                    Some("banned") => {
                        ui.weak(tr!("communities-banned"));
                    }
                    _ if c.archived => {}
                    state => {
                        let label = if c.private && state != Some("invited") {
                            tr!("communities-ask-to-join-name", name = name)
                        } else {
                            tr!("communities-join-name", name = name)
                        };
                        if ui.button(label).clicked() {
                            cmds.push(CommunityCmd::Join { name: c.name.clone(), join: true });
                        }
                    }
                }
            });
            if !c.topic.is_empty() {
                ui.weak(crate::widgets::short(&c.topic, 80));
            }
        }
        for c in cmds {
            ctx.send(Cmd::Community(c));
        }
    }

    /// The middle of the window: the page picked.
    pub fn page(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if ctx.signed_in.is_none() {
            return;
        }
        let mut go = None;
        egui::ScrollArea::vertical().id_salt("communities-page").auto_shrink(false).show(
            ui,
            |ui| match self.page.clone() {
                Page::Home => {
                    ui.vertical_centered(|ui| {
                        ui.add_space(ui.available_height() / 3.0);
                        ui.label(tr!("communities-pick"));
                    });
                }
                Page::Feed => self.feed_ui(ui, ctx, &mut go),
                Page::Community(_) => self.community.show(ui, ctx, &mut go),
                Page::Thread(_) => {
                    let joined = self.joined.clone().unwrap_or_default();
                    self.thread.show(ui, ctx, &joined, &mut go);
                }
                Page::Moderation(_) => self.moderation.show(ui, ctx, &mut go),
            },
        );
        if let Some(g) = go {
            self.go(g, ctx);
        }
    }

    fn feed_ui(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, go: &mut Option<Go>) {
        ui.horizontal(|ui| {
            ui.heading(tr!("communities-feed"));
            if ui.button(tr!("communities-refresh")).clicked() {
                self.load(ctx);
            }
        });
        if self.feed.sort_bar(ui) {
            self.load(ctx);
        }
        let (click, more) = self.feed.show(ui, &tr!("communities-feed-empty"));
        if more {
            let (sort, offset) = (self.feed.sort, self.feed.items.len());
            ctx.send(Cmd::Community(CommunityCmd::Feed { sort, offset, count: POST_PAGE }));
        }
        if let Some(cmd) = click.and_then(|c| c.follow(go)) {
            ctx.send(Cmd::Community(cmd));
        }
    }

    fn go(&mut self, go: Go, ctx: &mut Ctx) {
        let to = match go {
            Go::To(p) => p,
            Go::Back => match self.back.pop() {
                Some(p) => {
                    self.page = p;
                    self.load(ctx);
                    return;
                }
                None => Page::Home,
            },
            Go::Quote { community, item } => {
                self.community.quote(&community, *item);
                Page::Community(community)
            }
        };
        if to != self.page {
            let from = std::mem::replace(&mut self.page, to);
            self.back.push(from);
            if self.back.len() > BACK_STEPS {
                self.back.remove(0);
            }
        }
        self.load(ctx);
    }

    /// Reads the page shown again.
    fn load(&mut self, ctx: &mut Ctx) {
        match self.page.clone() {
            Page::Home => {}
            Page::Feed => {
                self.feed.loading = true;
                let (sort, count) = (self.feed.sort, self.feed.reload_count());
                ctx.send(Cmd::Community(CommunityCmd::Feed { sort, offset: 0, count }));
            }
            Page::Community(name) => self.community.open(&name, ctx),
            Page::Thread(id) => self.thread.open(&id, ctx),
            Page::Moderation(name) => self.moderation.open(&name, ctx),
        }
    }

    /// An answer from the node.
    pub fn update(&mut self, update: CommunityUpdate, ctx: &mut Ctx) {
        match update {
            CommunityUpdate::Joined(list) => self.joined = Some(list),
            CommunityUpdate::Found { query, results } => {
                self.find.asked = None;
                self.find.answered = Some(query);
                self.find.results = results;
            }
            CommunityUpdate::Community(view) => {
                if let Some(r) = self.find.results.iter_mut().find(|r| r.id == view.id) {
                    *r = view.clone();
                }
                self.community.community(view, ctx);
            }
            CommunityUpdate::Posts { name, sort, offset, items, more } => {
                if self.community.posts(&name, sort, offset, items, more)
                    && let Some(c) = self.joined.iter_mut().flatten().find(|c| c.name == name)
                {
                    // The relay marks a community read as its posts are read.
                    c.unread = Some(0);
                }
            }
            CommunityUpdate::Feed { sort, offset, items, more } => {
                self.feed.got(sort, offset, items, more);
            }
            CommunityUpdate::Hits { name, query, items } => {
                self.community.hits(&name, query, items)
            }
            CommunityUpdate::Thread { item, after, items, next } => {
                self.thread.loaded(&item, &after, items, next, ctx);
            }
            CommunityUpdate::Moderation { community, reports, requests, log } => {
                self.moderation.loaded(*community, reports, requests, log);
            }
            CommunityUpdate::Created(name) => {
                self.create.created(&name);
                ctx.send(Cmd::Community(CommunityCmd::Joined));
                self.go(Go::To(Page::Community(name)), ctx);
            }
            CommunityUpdate::Membership { name, state } => {
                if let Some(r) = self.find.results.iter_mut().find(|r| r.name == name) {
                    r.my_state = state;
                }
                ctx.send(Cmd::Community(CommunityCmd::Joined));
                self.load(ctx);
            }
            CommunityUpdate::Closed { name, how } => {
                ctx.send(Cmd::Community(CommunityCmd::Joined));
                if how == crate::backend::Closing::Delete {
                    self.back.clear();
                    self.page = Page::Home;
                    self.find.results.retain(|r| r.name != name);
                } else {
                    self.load(ctx);
                }
            }
            CommunityUpdate::Posted(name) => {
                self.thread.done("posting");
                self.community.posted(&name);
                self.load(ctx);
            }
            CommunityUpdate::Fetched(path) => {
                // Saved after its size and SHA-256 matched the signed post.
                if let Err(e) = ctx.desktop.open(&path) {
                    ctx.error(tr!(
                        "communities-file-saved",
                        path = path.display().to_string(),
                        error = e
                    ));
                }
            }
            CommunityUpdate::Done(what) => {
                self.thread.done(what);
                self.moderation.done(what);
                self.load(ctx);
            }
        }
    }

    /// A command failed (its error is in the bar): nothing waits for it.
    pub fn failed(&mut self, action: &str) {
        match action {
            "reading communities" if self.joined.is_none() => self.joined = Some(Vec::new()),
            "searching communities" => self.find.asked = None,
            "creating the community" => self.create.failed(),
            _ => {}
        }
        self.feed.loading = false;
        self.community.failed(action == "posting");
        self.thread.failed();
        self.moderation.failed();
    }
}
