# The Spreads tab (screens/spreads.rs)
spreads-take-part = Take part in spreading messages
spreads-explain = A spreading message is a text its author signs. Friends who take part pass it on to theirs once they have seen it, at most as many hops from the author as the author chose. Its author can be proven by anyone it reaches.
spreads-friends = { $n ->
    [one] 1 friend takes part
   *[other] { $n } friends take part
}
spreads-compose = New spreading message
spreads-compose-hint = Write a message to spread
spreads-hops = hops
spreads-send = Spread
spreads-none = No spreading messages yet.
spreads-by-you = By you · up to { $limit } hops · sent to { $n }
spreads-by = By { $name } · hop { $hop } of { $limit }
spreads-from = Passed to you by { $name }
spreads-taken-back = Taken back by its author.
spreads-retract = Take back
spreads-notify-title = Spreading message
spreads-notify-body = A message by { $name } reached you
spreads-action-reading = Error reading spreading messages
spreads-action-spreading = Error spreading the message
spreads-action-passing-on = Error passing spreading messages on
spreads-action-taking-back = Error taking the message back
spreads-action-changing = Error changing whether you take part
