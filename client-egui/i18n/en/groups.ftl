# Groups (screens/groups.rs)
groups-new-group = New group
groups-direct-only-option = Direct only (never through a relay)
groups-create = Create group
groups-invites-you = { $name } invites you to { $group }
groups-invites-you-pair = { $name } invites you to { $group } (a direct-only chat)
groups-invites-you-direct = { $name } invites you to { $group } (direct only)
groups-join = Join { $group }
groups-decline = Decline { $group }
groups-member-admin = { $name } (admin)
groups-member-muted = { $name } (muted)
groups-members = Members: { $names }
groups-mute = Mute { $name }
groups-unmute = Unmute { $name }
groups-mute-only-here = Only on this device
groups-remove = Remove { $name }
groups-remove-question = Remove { $name } from { $group }?
groups-remove-detail = They stop receiving the group's messages; they can be invited again.
groups-ban = Ban { $name }
groups-ban-question = Ban { $name } from { $group }?
groups-ban-detail = They are removed and cannot be invited back.
groups-rename-to = Rename to
groups-rename = Rename group
groups-delete = Delete group
groups-delete-question = Delete { $group }?
groups-delete-detail = The group ends for every member. This cannot be undone.
groups-leave = Leave group
groups-invited = { $name }: invited
groups-invite = Invite { $name }

# Private chat modes (screens/private.rs)
groups-mark-no-trace = no trace
groups-mark-sealed-locked = sealed, locked
groups-mark-sealed = sealed
groups-mark-direct-only = direct only
groups-no-trace-offer = { $name } offers a no-trace chat: nothing of it is written to disk, and it ends when either of you leaves.
groups-no-trace-accept = Accept no-trace chat with { $name }
groups-no-trace-decline = Decline no-trace chat with { $name }
groups-no-trace-note = No trace: this chat lives only in memory on your two devices and ends when either of you leaves.
groups-no-trace-waiting = Waiting for them to accept…
groups-no-trace-end = End this chat
groups-direct-only-note = Direct only: its messages never pass through a relay.
groups-direct-only-waiting = Waiting for a direct connection…
groups-sealed-locked-note = This chat is sealed with a password. Type it to read and write.
groups-chat-password = Chat password
groups-unlock-chat = Unlock chat
groups-sealed-note = Sealed with a password.
groups-lock-chat = Lock chat
groups-change-chat-password = Change chat password
groups-seal-with-password = Seal with a password
groups-new-chat-password = New chat password
groups-seal-chat = Seal chat
groups-seal-cancel = Cancel
groups-seal-hint = 8 characters or more. Share it with the chat's members in person, not here.
groups-show-panel = Show members
groups-hide-panel = Hide members
groups-panel-title = { $n ->
    [one] 1 member
   *[other] { $n } members
}
groups-role-you = you
groups-role-you-admin = you, admin
groups-role-admin = admin
groups-role-muted = muted here
groups-invite-friends = Invite friends
