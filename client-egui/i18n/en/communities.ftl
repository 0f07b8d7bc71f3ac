# The Communities tab (screens/communities/)
communities-sign-in-first = Communities live on the relay: sign up or log in under People first.
communities-feed = Feed
communities-feed-empty = Nothing here yet: posts from the communities you join show here.
communities-yours = Your communities
communities-none-joined = You have not joined a community yet.
communities-row-unread = { $name } ({ $n })
communities-find = Find communities
communities-search = Search communities
communities-none-found = No community matches “{ $query }”.
communities-members = { $n ->
    [one] 1 member
   *[other] { $n } members
}
communities-joined = { $name }: joined
communities-request-sent-for = { $name }: request sent
communities-join-name = Join { $name }
communities-ask-to-join-name = Ask to join { $name }
communities-pick = Pick a community on the left, open your feed, or find a community to join.
communities-refresh = Refresh
communities-back = Back
communities-sort = Sort:
communities-sort-new = New
communities-sort-top = Top
communities-sort-active = Active
communities-load-more = Load more
communities-no-posts = No posts yet.

# New community
communities-new-community = New community
communities-name = Community name
communities-name-rule = 3 to 32 characters: a–z, 0–9, - and _.
communities-topic = Topic
communities-description = Description
communities-rules = Rules
communities-private-option = Private: only members read it, and joining needs a moderator's yes
communities-who-may-post = Who may post:
communities-policy-members = Members
communities-policy-approved = Approved members
communities-policy-moderators = Moderators
communities-create = Create community
communities-cancel = Cancel
communities-too-long = The topic is at most 256 bytes; the description and the rules at most 4096 each.

# A community's page
communities-archived = Archived
communities-private = Private
communities-counts = { $members ->
    [one] 1 member
   *[other] { $members } members
} · { $posts ->
    [one] 1 post
   *[other] { $posts } posts
} · owner { $owner } · who may post: { $policy }
communities-about = About
communities-join = Join
communities-ask-to-join = Ask to join
communities-request-sent = Request sent
communities-leave = Leave
communities-banned = You are banned here.
communities-moderation = Moderation
communities-private-note = This community is private: only its members read it. Ask to join, and a moderator will answer.
communities-search-in = Search in this community
communities-search-posts = Search posts
communities-hits = { $n ->
    [one] 1 result for “{ $query }”
   *[other] { $n } results for “{ $query }”
}
communities-clear-search = Clear search
communities-open-thread = Open the thread

# Writing a post
communities-new-post = New post
communities-title = Title
communities-text = Text
communities-link = Link (optional)
communities-link-hint = https://…
communities-preview = Preview
communities-post = Post
communities-quoting = Quoting: { $what }
communities-drop-quote = Do not quote
communities-need-title = A post needs a title.
communities-title-too-long = The title is at most { $n } bytes.
communities-text-too-long = The text is at most { $n } bytes.
communities-bad-link = A link starts with https:// or http:// and has no spaces.

# A post or comment
communities-unknown-author = someone
communities-in = in { $community }
communities-meta = { $author } · { $day } { $time }
communities-meta-edited = { $meta } · edited
communities-meta-claimed = { $meta } (as the relay says)
communities-failed-verification = Failed verification: { $problem }
communities-deleted = deleted by its author
communities-removed = removed by a moderator
communities-repost = Repost of another post
communities-open-original = Open the original
communities-quotes = Quotes another post or comment
communities-open-quoted = Open the quoted
communities-like = Like ({ $n })
communities-liked = Liked ({ $n })
communities-comments = Comments ({ $n })

# A post and its comments
communities-write-comment = Write a comment
communities-comment = Comment
communities-reply = Reply
communities-your-reply = Your reply
communities-send-reply = Send reply
communities-hide-replies = { $n ->
    [one] Hide 1 reply
   *[other] Hide { $n } replies
}
communities-show-replies = { $n ->
    [one] Show 1 reply
   *[other] Show { $n } replies
}
communities-repost-button = Repost
communities-repost-to = Repost to { $name }
communities-quote = Quote in a new post
communities-quote-in = Quote in { $name }
communities-join-first = Join a community first.
communities-edit = Edit
communities-new-title = New title
communities-new-text = New text
communities-save = Save
communities-delete = Delete
communities-delete-post-question = Delete your post?
communities-delete-comment-question = Delete your comment?
communities-delete-detail = It shows as deleted by its author; its comments stay.
communities-report = Report
communities-reason = Reason
communities-reason-hint = spam, abuse…
communities-send-report = Send report

# Moderation
communities-moderation-of = Moderation of { $name }
communities-back-to = Back to { $name }
communities-note = Note for the log
communities-note-hint = optional
communities-reports = Open reports ({ $n })
communities-no-reports = No open reports.
communities-reported-by = { $by } reported: { $reason }
communities-reported-item = item { $item } · { $when }
communities-open-reported = Open
communities-remove = Remove
communities-dismiss = Dismiss
communities-requests = Join requests ({ $n })
communities-no-requests = No one is waiting.
communities-asks = { $name } asks to join ({ $when })
communities-asks-note = { $name } asks to join: { $note }
communities-admit = Admit { $name }
communities-refuse = Refuse { $name }
communities-users = Users
communities-username = Username
communities-ban = Ban
communities-unban = Unban
communities-invite = Invite
communities-approve-poster = Approve as poster
communities-owner = Owner
communities-archive = Archive
communities-archive-hint = Read-only: no new posts, comments or likes until it is reopened.
communities-reopen = Reopen
communities-delete-community = Delete community
communities-delete-community-question = Delete { $name }?
communities-delete-community-detail = The community and everything posted in it go for everyone. This cannot be undone.
communities-log = Moderation log
communities-log-empty = Nothing yet.
communities-log-entry = { $by } { $action } { $on }
communities-log-note = ({ $note })
communities-log-unverified = not signed by a moderator
communities-log-remove = removed
communities-log-dismiss = dismissed the report about
communities-log-ban = banned
communities-log-unban = unbanned
communities-log-admit = admitted
communities-log-refuse = refused
communities-log-invite = invited
communities-log-approve-poster = approved as poster

# What failed (the error bar)
communities-action-reading-communities = Error reading communities
communities-action-searching-communities = Error searching communities
communities-action-reading-the-community = Error reading the community
communities-action-reading-the-feed = Error reading the feed
communities-action-searching-the-community = Error searching the community
communities-action-reading-the-post = Error reading the post
communities-action-saving-the-file = Error saving the file
communities-action-reading-the-moderation-queue = Error reading the moderation queue
communities-action-creating-the-community = Error creating the community
communities-action-joining-the-community = Error joining the community
communities-action-leaving-the-community = Error leaving the community
communities-action-archiving-the-community = Error archiving the community
communities-action-reopening-the-community = Error reopening the community
communities-action-deleting-the-community = Error deleting the community
communities-action-posting = Error posting
communities-action-commenting = Error commenting
communities-action-liking = Error liking
communities-action-deleting-the-post = Error deleting the post
communities-action-deleting-the-comment = Error deleting the comment
communities-action-reporting = Error reporting
communities-action-moderating = Error moderating
communities-open-file = Open
communities-file-saved = Saved { $path }, but it could not be opened: { $error }
communities-more-comments = Load more comments
communities-settings = Settings
communities-edit-settings = Edit settings
communities-save-settings = Save settings
communities-moderators = Other moderators
communities-moderators-hint = usernames, comma-separated
communities-moderated-by = Moderators: { $names }
communities-attach-file = Attach a file…
communities-remove-file = Remove
communities-files-full = A post carries at most { $n } files.
communities-file-too-big = A file is larger than { $size }.
