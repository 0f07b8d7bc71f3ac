## People tab: friends, requests, blocked accounts

people-friends = Friends
people-avatar-of = { $name }'s avatar
people-name-verified = { $name } ✔ verified
people-identity-changed = identity changed
people-safety-number = Safety number for { $name }
people-direct-only-chat = Direct-only chat with { $name }
people-no-trace-chat = No-trace chat with { $name }
people-unfriend = Unfriend { $name }
people-unfriend-question = Unfriend { $name }?
people-unfriend-detail = Your chat with them ends; either of you can ask again later.
people-block = Block { $name }
people-block-question = Block { $name }?
people-block-detail = Nothing they send reaches you until you unblock them.
people-mark-verified = Mark { $name } verified
people-friend-requests = Friend requests
people-accept = Accept { $name }
people-decline = Decline { $name }
people-request-sent = { $name }: request sent
people-blocked = Blocked
people-unblock = Unblock { $name }

## People tab: search

people-search-people = Search people
people-send-friend-request = Send friend request
people-search = Search
people-searching = Searching for “{ $query }”…
people-no-one-found = No one found for “{ $query }”. Check the spelling, or ask for their invite link.
people-found-on-relay = { $name } (relay)
people-found-on-lan = { $name } (lan)
people-add = Add { $name }

## People tab: the relay account form

people-relay-account = Relay account
people-username = Username
people-password = Password
people-choose-username-password = Choose a username and a password of at least 8 characters.
people-password-too-short = The password needs at least 8 characters.
people-sign-up = Sign up
people-log-in = Log in
people-sign-up-or-log-in = Sign up makes a new account; Log in uses one you have.
people-safety-title = Safety number with { $name }
people-safety-explain = Your chat with { $name } is end-to-end encrypted. To be sure nobody sits in the middle, compare this number with { $name }'s, in person or on a call: it is the same on both sides only when you talk to each other directly.
people-safety-qr = The safety number as a QR code
people-safety-verified = You have verified { $name }. If their number ever changes, kovan will tell you.
people-safety-paste-explain = Or paste the number { $name } sent you through another channel:
people-safety-paste = Their number
people-safety-check = Check and mark verified
people-safety-close = Close
