//! A post and its comments: the post in full, a box for a comment on it,
//! then the comments as a tree (indented by depth; each with replies can
//! hide them). Each post or comment can be liked, answered, quoted in a
//! new post, reported, and edited or deleted by its author; a post can be
//! reposted into a community this account is in.

use std::collections::HashSet;

use eframe::egui;
use kovan_node::{CommunityItemView, CommunityView, PostDraft};

use super::Go;
use super::compose::multiline;
use super::item::{self, Click};
use crate::app::Ctx;
use crate::backend::{Cmd, CommunityCmd};
use crate::widgets::{Confirm, field};

/// Indentation per level of the tree, in points.
const INDENT: f32 = 18.0;
/// Deeper levels are drawn at this depth (the tree may be 32 deep; the
/// text keeps room to read).
const MOST_INDENTED: i64 = 8;

/// What a choice of community is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Repost,
    Quote,
}

/// An edit being typed.
#[derive(Debug, Clone, Default)]
struct Editing {
    id: String,
    post: bool,
    title: String,
    text: String,
}

/// The thread's state.
#[derive(Debug, Default)]
pub(super) struct ThreadPage {
    /// The item asked for (a post, or a comment in its thread).
    item: String,
    /// The post, then its comments in tree order.
    items: Vec<CommunityItemView>,
    /// How many comments are under each item (same order).
    below: Vec<usize>,
    loading: bool,
    /// Comments whose replies are hidden.
    collapsed: HashSet<String>,
    /// The comment on the post being typed.
    comment: String,
    /// The reply being typed: (to, text).
    reply: Option<(String, String)>,
    edit: Option<Editing>,
    /// The report being typed: (about, reason).
    report: Option<(String, String)>,
    /// Picking a community to repost or quote an item in.
    choose: Option<(Choice, CommunityItemView)>,
    /// Where the next page of comments starts, if there may be one.
    next: Option<String>,
    /// The comment asked for was scrolled to.
    jumped: bool,
}

/// For each item in tree order, how many items follow it deeper than it
/// (its replies, theirs…), in one pass.
fn descendants(items: &[CommunityItemView]) -> Vec<usize> {
    let mut below = vec![0; items.len()];
    // Indexes of the items whose subtree is still open.
    let mut open: Vec<usize> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        while open.last().is_some_and(|&j| items[j].depth >= it.depth) {
            open.pop();
        }
        for &j in &open {
            below[j] += 1;
        }
        open.push(i);
    }
    below
}

impl ThreadPage {
    /// Shows the thread of `item`, read afresh.
    pub(super) fn open(&mut self, item: &str, ctx: &mut Ctx) {
        if self.item != item {
            *self = Self { item: item.to_owned(), ..Self::default() };
        }
        self.loading = true;
        self.jumped = false;
        let (item, after) = (item.to_owned(), String::new());
        ctx.send(Cmd::Community(CommunityCmd::Thread { item, after }));
    }

    /// A page of the thread came: the first replaces what was shown, the
    /// next ones follow it. A comment asked for that is not there yet
    /// brings the next page by itself.
    pub(super) fn loaded(
        &mut self,
        item: &str,
        after: &str,
        items: Vec<CommunityItemView>,
        next: Option<String>,
        ctx: &mut Ctx,
    ) {
        if item != self.item {
            return;
        }
        if after.is_empty() {
            self.items = items;
        } else {
            let known: HashSet<String> = self.items.iter().map(|i| i.id.clone()).collect();
            self.items.extend(items.into_iter().filter(|i| !known.contains(&i.id)));
        }
        self.below = descendants(&self.items);
        self.next = next;
        self.loading = false;
        let missing = !self.items.iter().any(|i| i.id == self.item);
        if missing && let Some(after) = self.next.clone() {
            self.more(after, ctx);
        }
    }

    /// Asks for the comments after `after`.
    fn more(&mut self, after: String, ctx: &mut Ctx) {
        self.loading = true;
        let item = self.item.clone();
        ctx.send(Cmd::Community(CommunityCmd::Thread { item, after }));
    }

    /// A write worked: what was typed for it goes.
    pub(super) fn done(&mut self, what: &str) {
        match what {
            "commenting" => {
                self.comment.clear();
                self.reply = None;
            }
            "editing" => self.edit = None,
            "reporting" => self.report = None,
            "posting" => self.choose = None,
            _ => {}
        }
    }

    /// Something failed: nothing is on its way any more.
    pub(super) fn failed(&mut self) {
        self.loading = false;
    }

    /// Draws the thread.
    pub(super) fn show(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut Ctx,
        joined: &[CommunityView],
        go: &mut Option<Go>,
    ) {
        ui.horizontal(|ui| {
            if ui.button(tr!("communities-back")).clicked() {
                *go = Some(Go::Back);
            }
            if ui.button(tr!("communities-refresh")).clicked() {
                let item = self.item.clone();
                self.open(&item, ctx);
            }
            if self.loading {
                ui.spinner();
            }
        });
        let Some(post) = self.items.first().cloned() else { return };
        let me = ctx.signed_in.clone();
        let mut cmds = Vec::new();
        let mut ask = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            item::meta(ui, &post);
            if let Some(c) = item::content(ui, &post, true) {
                self.clicked(c, &mut cmds, go);
            }
            self.actions(ui, &post, me.as_deref(), &mut cmds, &mut ask, go);
            self.forms(ui, &post, joined, &mut cmds, go);
        });
        if item::readable(&post) {
            multiline(ui, &tr!("communities-write-comment"), &mut self.comment, 2);
            let ok = !self.comment.trim().is_empty();
            if ui.add_enabled(ok, egui::Button::new(tr!("communities-comment"))).clicked() {
                cmds.push(CommunityCmd::Comment {
                    on: post.id.clone(),
                    text: self.comment.clone(),
                });
            }
        }
        ui.separator();
        ui.strong(tr!("communities-comments", n = post.comments));
        let mut hide_deeper_than: Option<i64> = None;
        for i in 1..self.items.len() {
            let it = self.items[i].clone();
            if let Some(d) = hide_deeper_than {
                if it.depth > d {
                    continue;
                }
                hide_deeper_than = None;
            }
            let below = self.below.get(i).copied().unwrap_or(0);
            let indent = INDENT * (it.depth.clamp(1, MOST_INDENTED) - 1) as f32;
            let shown = ui.horizontal_top(|ui| {
                ui.add_space(indent);
                ui.vertical(|ui| {
                    self.comment_ui(ui, &it, below, me.as_deref(), joined, &mut cmds, &mut ask, go);
                });
            });
            // A comment asked for (a search hit, a reply notified) is
            // scrolled to once and marked.
            if it.id == self.item {
                ui.painter().rect_stroke(
                    shown.response.rect.expand(2.0),
                    4.0,
                    ui.visuals().selection.stroke,
                    egui::StrokeKind::Outside,
                );
                if !self.jumped {
                    shown.response.scroll_to_me(Some(egui::Align::Center));
                    self.jumped = true;
                }
            }
            if self.collapsed.contains(&it.id) {
                hide_deeper_than = Some(it.depth);
            }
        }
        if let Some(after) = self.next.clone()
            && !self.loading
            && ui.button(tr!("communities-more-comments")).clicked()
        {
            self.more(after, ctx);
        }
        for c in cmds {
            ctx.send(Cmd::Community(c));
        }
        if let Some(a) = ask {
            ctx.ask(a);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn comment_ui(
        &mut self,
        ui: &mut egui::Ui,
        it: &CommunityItemView,
        below: usize,
        me: Option<&str>,
        joined: &[CommunityView],
        cmds: &mut Vec<CommunityCmd>,
        ask: &mut Option<Confirm>,
        go: &mut Option<Go>,
    ) {
        // A thin line on the left ties a comment to its level.
        let top = ui.cursor().min;
        item::meta(ui, it);
        if let Some(c) = item::content(ui, it, true) {
            self.clicked(c, cmds, go);
        }
        ui.horizontal_wrapped(|ui| {
            self.actions(ui, it, me, cmds, ask, go);
            if below > 0 {
                let hidden = self.collapsed.contains(&it.id);
                let label = if hidden {
                    tr!("communities-show-replies", n = below)
                } else {
                    tr!("communities-hide-replies", n = below)
                };
                if ui.small_button(label).clicked() {
                    if hidden {
                        self.collapsed.remove(&it.id);
                    } else {
                        self.collapsed.insert(it.id.clone());
                    }
                }
            }
        });
        self.forms(ui, it, joined, cmds, go);
        let bottom = ui.cursor().min.y;
        let x = top.x - 6.0;
        ui.painter().vline(x, top.y..=bottom, ui.visuals().widgets.noninteractive.bg_stroke);
        ui.add_space(4.0);
    }

    fn clicked(&mut self, c: Click, cmds: &mut Vec<CommunityCmd>, go: &mut Option<Go>) {
        if let Some(cmd) = c.follow(go) {
            cmds.push(cmd);
        }
    }

    /// Like, Reply, Quote, Repost, Edit, Delete, Report — what applies.
    fn actions(
        &mut self,
        ui: &mut egui::Ui,
        it: &CommunityItemView,
        me: Option<&str>,
        cmds: &mut Vec<CommunityCmd>,
        ask: &mut Option<Confirm>,
        go: &mut Option<Go>,
    ) {
        let post = it.depth == 0;
        ui.horizontal_wrapped(|ui| {
            if let Some(c) = item::like(ui, it) {
                self.clicked(c, cmds, go);
            }
            if item::readable(it) {
                if !post && ui.small_button(tr!("communities-reply")).clicked() {
                    self.reply = Some((it.id.clone(), String::new()));
                }
                if post && ui.small_button(tr!("communities-repost-button")).clicked() {
                    self.choose = Some((Choice::Repost, it.clone()));
                }
                if ui.small_button(tr!("communities-quote")).clicked() {
                    self.choose = Some((Choice::Quote, it.clone()));
                }
                let mine = me.is_some() && it.author.as_deref() == me;
                if mine && ui.small_button(tr!("communities-edit")).clicked() {
                    self.edit = Some(Editing {
                        id: it.id.clone(),
                        post,
                        title: it.title.clone(),
                        text: it.text.clone(),
                    });
                }
                if mine && ui.small_button(tr!("communities-delete")).clicked() {
                    let (question, detail) = if post {
                        (tr!("communities-delete-post-question"), tr!("communities-delete-detail"))
                    } else {
                        (
                            tr!("communities-delete-comment-question"),
                            tr!("communities-delete-detail"),
                        )
                    };
                    let cmd = CommunityCmd::Delete { item: it.id.clone(), post };
                    *ask = Some(Confirm::new(question, detail, Cmd::Community(cmd)));
                }
            }
            if it.gone.is_none() && ui.small_button(tr!("communities-report")).clicked() {
                self.report = Some((it.id.clone(), String::new()));
            }
        });
    }

    /// The reply, edit, report and community-choice forms open for `it`.
    fn forms(
        &mut self,
        ui: &mut egui::Ui,
        it: &CommunityItemView,
        joined: &[CommunityView],
        cmds: &mut Vec<CommunityCmd>,
        go: &mut Option<Go>,
    ) {
        let mut cancel = false;
        if let Some((to, text)) = self.reply.as_mut().filter(|(to, _)| *to == it.id) {
            multiline(ui, &tr!("communities-your-reply"), text, 2);
            ui.horizontal(|ui| {
                let ok = !text.trim().is_empty();
                if ui.add_enabled(ok, egui::Button::new(tr!("communities-send-reply"))).clicked() {
                    cmds.push(CommunityCmd::Comment { on: to.clone(), text: text.clone() });
                }
                cancel = ui.button(tr!("communities-cancel")).clicked();
            });
        }
        if std::mem::take(&mut cancel) {
            self.reply = None;
        }
        if let Some(e) = self.edit.as_mut().filter(|e| e.id == it.id) {
            if e.post {
                ui.horizontal(|ui| {
                    let width = ui.available_width() - 100.0;
                    field(ui, &tr!("communities-new-title"), &mut e.title, "", width);
                });
            }
            multiline(ui, &tr!("communities-new-text"), &mut e.text, 3);
            ui.horizontal(|ui| {
                let ok = !e.post || !e.title.trim().is_empty();
                if ui.add_enabled(ok, egui::Button::new(tr!("communities-save"))).clicked() {
                    let title = if e.post { e.title.trim().to_owned() } else { String::new() };
                    cmds.push(CommunityCmd::Edit {
                        item: e.id.clone(),
                        title,
                        text: e.text.clone(),
                    });
                }
                cancel = ui.button(tr!("communities-cancel")).clicked();
            });
        }
        if std::mem::take(&mut cancel) {
            self.edit = None;
        }
        if let Some((about, reason)) = self.report.as_mut().filter(|(a, _)| *a == it.id) {
            ui.horizontal_wrapped(|ui| {
                let hint = tr!("communities-reason-hint");
                field(ui, &tr!("communities-reason"), reason, &hint, 200.0);
                let ok = !reason.trim().is_empty();
                if ui.add_enabled(ok, egui::Button::new(tr!("communities-send-report"))).clicked() {
                    let reason = reason.trim().to_owned();
                    cmds.push(CommunityCmd::Report { item: about.clone(), reason });
                }
                cancel = ui.button(tr!("communities-cancel")).clicked();
            });
        }
        if cancel {
            self.report = None;
        }
        let Some((choice, of)) = self.choose.clone().filter(|(_, of)| of.id == it.id) else {
            return;
        };
        ui.horizontal_wrapped(|ui| {
            let open: Vec<&CommunityView> = joined.iter().filter(|c| !c.archived).collect();
            if open.is_empty() {
                ui.weak(tr!("communities-join-first"));
            }
            for c in open {
                let name = c.name.as_str();
                let label = match choice {
                    Choice::Repost => tr!("communities-repost-to", name = name),
                    Choice::Quote => tr!("communities-quote-in", name = name),
                };
                if ui.button(label).clicked() {
                    match choice {
                        Choice::Repost => cmds.push(CommunityCmd::Post {
                            name: name.to_owned(),
                            draft: PostDraft {
                                title: of.title.clone(),
                                repost_of: Some(of.id.clone()),
                                ..PostDraft::default()
                            },
                        }),
                        Choice::Quote => {
                            let item = Box::new(of.clone());
                            *go = Some(Go::Quote { community: name.to_owned(), item });
                        }
                    }
                }
            }
            if ui.button(tr!("communities-cancel")).clicked() {
                self.choose = None;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: &str, depth: i64) -> CommunityItemView {
        CommunityItemView {
            id: id.into(),
            post: "p".into(),
            depth,
            verified: true,
            ..CommunityItemView::default()
        }
    }

    #[test]
    fn each_item_counts_the_replies_under_it() {
        // p ─ a ─ b ─ c
        //   │   └ d
        //   └ e
        let items = [at("p", 0), at("a", 1), at("b", 2), at("c", 3), at("d", 2), at("e", 1)];
        assert_eq!(descendants(&items), [5, 3, 1, 0, 0, 0]);
    }
}
