//! [`DirectoryStore`]: avatars by username, and search.

use kovan_relay::services::accounts::{AccountStore, Settings};
use kovan_relay::services::directory::DirectoryStore;

use super::account;
use crate::conformance;

conformance!(avatars_by_username, search_finds_discoverable_accounts);

async fn avatars_by_username<S: AccountStore + DirectoryStore>(s: S) {
    let (alice, _) = account(&s, "alice").await;
    assert_eq!(s.avatar("alice").await.unwrap(), None, "no avatar set");
    assert_eq!(s.avatar("nobody").await.unwrap(), None, "no such user");
    s.set_avatar(alice, Some((b"GIF89a...", "image/gif"))).await.unwrap();
    assert_eq!(s.avatar("alice").await.unwrap(), Some((b"GIF89a...".to_vec(), "image/gif".into())));
}

async fn search_finds_discoverable_accounts<S: AccountStore + DirectoryStore>(s: S) {
    let name = |display: &str, discoverable: bool| Settings {
        display_name: display.into(),
        about: String::new(),
        discoverable,
        friend_policy: "everyone".into(),
        read_receipts: true,
        avatar_type: None,
    };
    for (user, display, discoverable) in [
        ("ada", "Ada Lovelace", true),
        ("adam", "", true),
        ("bob", "Bob, friend of Ada", true),
        ("adrian", "", false),
        ("x_y", "100% sure", true),
        ("xay", "", true),
    ] {
        let (id, _) = account(&s, user).await;
        s.update_settings(id, &name(display, discoverable)).await.unwrap();
    }
    let found = |q: &'static str, limit: i64, offset: i64| {
        let s = &s;
        async move {
            let rows = s.search(q, limit, offset).await.unwrap();
            rows.into_iter().map(|a| a.username).collect::<Vec<_>>()
        }
    };
    // A username prefix, or a display name containing it, by username;
    // never an account that is not discoverable.
    assert_eq!(found("ad", 10, 0).await, ["ada", "adam", "bob"]);
    assert_eq!(found("LOVE", 10, 0).await, ["ada"], "case-insensitive");
    assert_eq!(found("ad", 2, 1).await, ["adam", "bob"]);
    assert!(found("zzz", 10, 0).await.is_empty());
    // `%` and `_` are not wildcards.
    assert_eq!(found("x_", 10, 0).await, ["x_y"]);
    assert_eq!(found("0%", 10, 0).await, ["x_y"]);
}
