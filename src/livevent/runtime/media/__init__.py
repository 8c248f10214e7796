"""Audio itself: PCM frames and resampling, Opus, and local inputs (a file, a sound device)."""
