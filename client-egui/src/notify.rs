//! Desktop notifications (`notify-rust`: the freedesktop notification
//! service on Linux): a message in a chat the user is not looking at, a
//! friend request, a group invitation. They go out on a thread of their
//! own, so a slow or missing notification service never holds a frame.
//! Tests record them instead.

use std::sync::mpsc;

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its first line.
    pub title: String,
    /// What it says.
    pub body: String,
}

/// Where notifications go.
#[derive(Debug)]
pub enum Notifier {
    /// To the desktop (the thread starts with the first one).
    System(Option<mpsc::SyncSender<Notice>>),
    /// Kept in a list (tests).
    Recorded(Vec<Notice>),
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier::System(None)
    }
}

impl Notifier {
    /// Shows `n`, never waiting.
    pub fn show(&mut self, n: Notice) {
        match self {
            Notifier::Recorded(v) => v.push(n),
            Notifier::System(tx) => {
                let tx = tx.get_or_insert_with(start);
                // A flood beyond what the service takes is dropped, not
                // queued without end.
                if tx.try_send(n).is_err() {
                    tracing::debug!("notification dropped: the service is behind or gone");
                }
            }
        }
    }

    /// What was shown (recorded notifiers only).
    pub fn recorded(&self) -> &[Notice] {
        match self {
            Notifier::Recorded(v) => v,
            Notifier::System(_) => &[],
        }
    }
}

/// Notifications waiting for the service, at most.
const QUEUE: usize = 32;

fn start() -> mpsc::SyncSender<Notice> {
    let (tx, rx) = mpsc::sync_channel::<Notice>(QUEUE);
    let spawned = std::thread::Builder::new().name("notifications".into()).spawn(move || {
        for n in rx {
            let shown = notify_rust::Notification::new()
                .appname("kovan")
                .icon("kovan")
                .summary(&n.title)
                .body(&n.body)
                .show();
            // No notification service (a bare X session, a test machine):
            // the message is in the window all the same.
            if let Err(e) = shown {
                tracing::debug!(error = %e, "notification not shown");
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no notification thread");
    }
    tx
}
