# Confirmation (widgets/confirm.rs)
widgets-confirm = Confirm
widgets-cancel = Cancel

# A file in a message (widgets/file_line.rs)
widgets-file-cancel = Cancel { $name }
widgets-file-download = Download { $name }
widgets-file-saved = { $size }, saved
widgets-file-via-call = over the call
widgets-file-via-link = over a data link
widgets-file-ready = { $size }, ready
widgets-file-cancelled = { $size }, cancelled
widgets-file-failed = { $size }, failed

# Sizes and days (widgets/format.rs); KB, MB, GB stay as they are
widgets-bytes =
    { $n ->
        [one] { $n } byte
       *[other] { $n } bytes
    }
widgets-today = Today
widgets-yesterday = Yesterday

# Presence (widgets/presence.rs)
widgets-online = { $name } online
widgets-offline = { $name } offline
widgets-last-seen = { $name } last seen { $time }

# Emoji picker (emoji.rs)
widgets-emoji-find = Find emoji
widgets-emoji-recent = Recent
widgets-emoji-smileys = Smileys
widgets-emoji-people = People
widgets-emoji-nature = Nature
widgets-emoji-food = Food
widgets-emoji-travel = Travel
widgets-emoji-activities = Activities
widgets-emoji-objects = Objects
widgets-emoji-symbols = Symbols
widgets-emoji-flags = Flags
widgets-file-open = Open
widgets-file-reveal = Show in folder
widgets-file-save-as = Save a copy…
