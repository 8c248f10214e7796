"""The live core of one event: its session, channels, fan-out to listeners, booths, presence."""
