"""Batch recommendations onto Braze profiles (/users/track), and Braze's /users/delete."""
