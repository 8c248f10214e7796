"""HLS: every channel of a live event as an audio rendition with its captions, for a CDN."""
