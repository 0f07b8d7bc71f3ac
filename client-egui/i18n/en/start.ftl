# First run (screens/first_run.rs)
start-welcome = Welcome to kovan
start-keys-stay-here = Your keys are made on this device and never leave it.
start-device-name = Device name
start-passphrase = Passphrase
start-repeat-passphrase = Repeat passphrase
start-passphrases-differ = The passphrases differ.
start-create-identity = Create identity
start-strength-too-short = Too short: at least 8 characters
start-strength-weak = Weak: longer is better
start-strength-strong = Strong
start-strength-fair = Fair

# Lock screen (screens/unlock.rs)
start-locked = kovan is locked
start-unlock = Unlock
start-unlock-to-connect = Unlock to connect to { $url }, then sign up or log in there.
start-unlock-without-relay = Unlock to go on without a relay.

# Waiting (screens/starting.rs)
start-opening-keys = Opening your keys…
start-starting = Starting…
