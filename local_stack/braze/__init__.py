"""A Braze REST API emulator: /users/track, /users/delete and catalog items, with Braze's limits."""
