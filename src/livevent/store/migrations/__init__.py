"""Versioned schema migrations, one folder of numbered SQL files per dialect."""
