"""pytest plugin: the stripe_emulator fixture (being written)."""
