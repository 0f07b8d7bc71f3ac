## Settings tab: data directory, relay, account key

settings-data-directory = Data directory: { $path }
settings-relay = Relay: { $relay }
settings-relay-from-config = from kovan.toml
settings-account-key = Account key: { $key }…
settings-sign-in-first = Sign up or log in under People to change relay settings.
settings-relay-address = Relay address
settings-use-this-relay = Use this relay
settings-relay-address-scheme = A relay address starts with http:// or https://

## Settings tab: profile and privacy

settings-your-avatar = Your avatar
settings-avatar-image = Avatar image
settings-set-avatar = Set avatar
settings-remove-avatar = Remove avatar
settings-display-name = Display name
settings-about = About
settings-discoverable = Discoverable in search
settings-read-receipts = Send read receipts
settings-friend-policy = Who can ask to be your friend
settings-policy-everyone = Everyone
settings-policy-link = Only people with my invite link
settings-policy-nobody = Nobody

## Settings tab: invite links

settings-invite-links = Invite links
settings-invite-links-detail = Someone who has one of your links can ask to be your friend.
settings-invite-name = Link name
settings-invite-name-hint = optional
settings-invite-uses = Uses
settings-invite-uses-hint = any
settings-invite-expires = Expires after
settings-invite-expires-hint = never, or 1d, 12h
settings-invite-uses-invalid = Uses is a whole number from 1, or empty for any.
settings-invite-expires-invalid = Expires after is a time like 30m, 12h or 7d, or empty for never.
settings-create-invite-link = Create invite link
settings-invite-link = Invite link
settings-copy-invite = Copy { $name }
settings-revoke-invite = Revoke { $name }
settings-invite-used-of = used { $used } of { $max }
settings-invite-used-times = used { $used } times
settings-invite-revoked = Revoked · { $used }
settings-invite-expired = Expired · { $used }
settings-invite-used-up = Used up · { $used }
settings-invite-active = Active · { $used }
settings-invite-active-until = Active · { $used } · until { $day } { $time }

## Settings tab: sessions

settings-sessions = Sessions
settings-session = { $device } · last used { $day } { $time }
settings-session-this-one = { $device } · last used { $day } { $time } (this one)
settings-revoke-session = Revoke { $id }

## Settings tab: password, log out, account deletion

settings-current-password = Current password
settings-new-password = New password
settings-change-password = Change password
settings-log-out = Log out
settings-delete-account = Delete account
settings-delete-account-detail = This removes your relay account, its mailbox and files. Type your password:
settings-password-to-delete = Password to delete
settings-delete-my-account = Delete my account
settings-appearance = This window
settings-theme = Theme:
settings-theme-system = System
settings-theme-light = Light
settings-theme-dark = Dark
settings-language = Language:
settings-language-system = System
settings-notifications = Desktop notifications for messages, requests and invitations
settings-notify-name-and-message = Show the sender and the message
settings-notify-name-only = Show the sender only
settings-notify-nothing = Show only that something came
settings-choose-image = Choose…
settings-typing-indicators = Typing indicators (send mine, show others')

settings-sound = Sound
settings-microphone = Microphone
settings-speaker = Speaker
settings-sound-default = The system's default
settings-sound-missing = { $device } (not connected: the default is used)
settings-sound-look-again = Look for devices again
