# The open conversation: title, messages, composer, extras, image viewer.

chat-untitled = chat
chat-delete-question = Delete this message for everyone?
chat-delete-detail = It is removed from every device in this chat.
chat-e2e-note = Messages in this chat are end-to-end encrypted.

## A message's bubble

chat-earlier-message = an earlier message
chat-deleted = (deleted)
chat-unsupported = (unsupported message — update kovan)
chat-body-image = [image { $name }] { $caption }
chat-body-voice = [voice { $name }] { $caption }
chat-body-poll = [poll] { $text }
chat-location = Location
chat-open-image = Open { $name }
chat-full-size = Full size
chat-edited = edited
chat-tick-seen = ✔✔ seen
chat-reply = Reply
chat-message-info = Message info
chat-edit = Edit
chat-delete-for-everyone = Delete for everyone
chat-react = React { $emoji }
chat-more-reactions = More reactions…
chat-reacted = Reacted
chat-react-with = React with

## Message info

chat-nobody-else = Nobody else is in this chat.
chat-close-info = Close info
chat-read-delivered = Read { $read } · delivered { $delivered }
chat-read = Read { $read }
chat-delivered-not-read = Delivered { $delivered }, not read yet
chat-not-delivered = Not delivered yet

## The composer

chat-replying-to = Replying to: { $text }
chat-cancel-reply = Cancel reply
chat-extras = Attach, location, poll, send later
chat-emoji = Emoji
chat-message = Message
chat-message-hint = Write a message; :shortcodes: become emoji
chat-save-edit = Save edit
chat-send = Send
chat-complete = Complete :{ $code }:
chat-file-path = File path
chat-attach-file = Attach file
chat-attach-image = Attach image

## Locations

chat-latitude = Latitude
chat-longitude = Longitude
chat-place-name = Place name
chat-coordinates-hint = Latitude is −90…90 and longitude −180…180, in degrees.
chat-share-location = Share location
chat-live-for = Live for
chat-share-live-location = Share live location
chat-live-duration = A live share lasts 1 minute to 24 hours
chat-open-in-map = Open in map app
chat-live-until = Live until { $until } · updated { $updated }
chat-move-location = Move to the typed position
chat-stop-sharing = Stop sharing
chat-live-stopped = Live location stopped
chat-live-ended = Live location ended

## Polls

chat-poll-question = Poll question
chat-multiple-choice = Multiple choice
chat-poll-options = Poll options
chat-poll-options-hint = one per line
chat-start-poll = Start poll
chat-poll-closed = Poll closed
chat-close-poll = Close poll
chat-locked-text = Locked message
chat-locked-password = Password
chat-locked-area = Area
chat-locked-area-hint = lat, lon, radius in m
chat-locked-hint = Hint
chat-send-locked = Send locked
chat-locked-area-note = An area is checked only by the recipient's app: their position is their word.
chat-waits-password = a password
chat-waits-area = being inside an area
chat-locked-waits = 🔒 Sealed until: { $what }
chat-locked-opened = 🔓 Opened ({ $what })
chat-locked-hint-shown = Hint: { $hint }
chat-locked-area-shown = Area: within { $radius } m of { $lat }, { $lon }
chat-locked-here = Where you are (lat, lon)
chat-open-locked = Open
chat-locked-members = Members who agree
chat-locked-members-hint = names, separated by commas
chat-locked-members-needed = How many
chat-waits-members = { $needed } of { $holders } members agreeing
chat-locked-members-shown = Agreed so far ({ $count } of { $needed } needed): { $agreed }
chat-agree-to-open = Agree to open
chat-you-agreed = ✔ You agreed
chat-locked-in-hours = Opens by itself in (hours)
chat-locked-silent-days = If I stay silent for (days)
chat-locked-opens-by-itself = Their apps release it by themselves at { $when }
chat-locked-check-in-by = Check in before { $when }, or it opens
chat-check-in = I'm here (check in)
chat-verifiable-poll = Verifiable
chat-verifiable-poll-hint = Today's members are the voters; each casts one signed ballot, and every member can check the ballots and the tally.
chat-cast-ballot = Cast ballot
chat-poll-verified = ✔ Verified
chat-poll-not-checked = ? Not checked on this device
chat-poll-does-not-hold = ⚠ The tally does not hold
chat-poll-check-details = What was checked
chat-poll-eligible = { $counted } ballot(s) counted of { $eligible } members who may vote
chat-poll-eligibility-checked = The voter list matched the group when the poll arrived.
chat-poll-eligibility-unchecked = The poll arrived after the group changed, so this device could not check its voter list.
chat-poll-eligibility-failed = The voter list does not match the group: someone tampered with the poll.
chat-poll-not-eligible = You were not a member when the poll was made, so you cannot vote.
chat-poll-finding-bad-signature = { $who }: a ballot whose signature does not verify (not counted)
chat-poll-finding-not-eligible = { $who }: a ballot from someone who may not vote (not counted)
chat-poll-finding-unfit = { $who }: a ballot with choices the poll does not offer (not counted)
chat-poll-finding-double-vote = { $who }: voted twice, so both ballots are void
chat-poll-finding-dropped = { $who }: the close leaves out this member's ballot
chat-poll-finding-altered = { $who }: the close counts a different ballot than this member sent
chat-poll-finding-bad-close = { $who }: the close counts a ballot that is not valid
chat-poll-finding-bad-ring = { $who }: the ring of voters holds a key that is not this member's signed registration, or this member was shown another ring
chat-poll-finding-left-out = { $who }: the ring of voters leaves out this member's registration
chat-poll-finding-not-received = { $who }: the close counts or voids a ballot this device never received
chat-poll-ring-unconfirmed = { $count } voter(s) have not yet confirmed they hold the same ring of voters: voting is safest once all have
chat-poll-finding-registered-twice = { $who }: registered two ballot keys (the ring holds one of them)
chat-poll-not-in-ring = Your ballot key is not in the ring of voters, so you cannot vote.
chat-poll-anonymous-registering = 🕶 Anonymous: { $registered } of { $eligible } voters registered; voting opens when all have
chat-poll-anonymous-ring = 🕶 Anonymous: ballots are counted among { $ring } voters and name nobody
chat-poll-open-voting = Open voting now
chat-poll-open-voting-hint = Voting opens for those registered so far; the others cannot vote in this poll.
chat-anonymous-poll = Anonymous
chat-anonymous-poll-hint = A verifiable poll whose ballots do not say who cast them (a group of 3 voters or more). Ballots travel through relay mailboxes.

## Send later

chat-send-at = Send at
chat-send-at-hint = +10m, +2h, or 2026-12-31 23:59
chat-save-scheduled = Save scheduled
chat-stop-editing = Stop editing
chat-schedule = Schedule
chat-bad-time = Not a time kovan understands, or it has passed
chat-scheduled-poll = poll: { $question }
chat-scheduled-for = Scheduled for { $time }: { $what }
chat-edit-scheduled = Edit scheduled
chat-cancel-scheduled = Cancel scheduled

## Voice notes

chat-recording-failed = Recording failed: { $error }
chat-playing-failed = Playing failed: { $error }
chat-recording = Recording { $time }
chat-stop-and-send = Stop and send
chat-discard-recording = Discard recording
chat-record-voice-note = Record voice note
chat-record-voice-note-hover = Record a voice note
chat-stop-playing = Stop playing
chat-playing = Playing { $at } / { $all } s
chat-play = Play { $name }
chat-voice-length = { $secs } s

## The image viewer

chat-image-failed = That image could not be shown.
chat-image = Image
chat-image-alt = The image, full size
chat-image-preview = This is the preview; download the image to see it full size.
chat-close-image = Close image
chat-search-label = Search in chat
chat-search-hint = Words, a file's name, a poll…
chat-search-button = Find
chat-search-close = Close search
chat-search-none = No message here says “{ $query }”.
chat-search-count = { $n ->
    [one] 1 message
   *[other] { $n } messages
}
chat-search-hit = { $who }: { $text } · { $when }
chat-open-failed = The desktop could not open it: { $error }
chat-choose-file = Choose…
chat-copy = Copy text
chat-forward = Forward…
chat-forward-title = Forward to
chat-forward-to = Forward to { $name }
chat-forward-cancel = Cancel forwarding
chat-pick-time = Day and time:
chat-pick-hour = Hour
chat-pick-minute = Minute
chat-in-an-hour = In an hour
chat-tomorrow-morning = Tomorrow 09:00
chat-find-place = Find a place
chat-find-place-hint = A city or town, e.g. Kadıköy
chat-no-place = No place by that name here; click the map or type coordinates.
chat-map = Map: click to pick a place, drag to move, scroll to zoom
chat-typing-one = { $name } is typing…
chat-typing-two = { $a } and { $b } are typing…
chat-typing-many = { $n } people are typing…
chat-locked-file = File: { $name }
chat-locked-file-remove = Remove
chat-locked-file-choose = Seal a file with it…
chat-locked-file-sealed = 📎 A sealed file ({ $size }): what it is shows once the message opens
chat-locked-file-waiting = 📎 { $name } ({ $size }) opens once its bytes are here
chat-locked-file-opening = 📎 { $name }: opening…
chat-locked-file-open = 📎 { $name } ({ $size })
chat-locked-file-failed = 📎 { $name } did not open: { $why }
chat-locked-file-fetch = Download the sealed file
chat-sealed-poll = Sealed until closed
chat-sealed-poll-hint = A verifiable poll whose ballots stay sealed until you close it: nobody, you included, sees a choice before; then every voter's app reveals its choices.
chat-poll-sealed-until-close = 🔒 { $counted } sealed ballot(s): the choices show once the poll is closed
chat-poll-sealed-revealed = 🔓 Ballots revealed; { $hidden } not revealed yet
chat-locked-relays = Relays that keep the key
chat-locked-relays-hint = relay addresses or "mine", by commas
chat-locked-relays-needed = How many must release
chat-locked-relays-note = Relays release their shares by themselves at the time, or after your silence, by their own clocks; fewer than needed learn nothing, and none of them sees the message.
chat-waits-relays = { $needed } of { $relays } relays releasing
chat-locked-relays-shown = Relays that released: { $count } of { $needed } needed ({ $relays } keep a share)
chat-locked-relays-not-before = Not before { $when }
chat-locked-relays-next = Asking the relays again at { $when }
chat-locked-relays-cancelled = Its sender cancelled it: it will not open
chat-locked-relays-failed = The relays never released it
