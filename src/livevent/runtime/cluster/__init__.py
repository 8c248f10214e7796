"""The owner's work across instances: the owner lock, relaying, booths on several instances."""
