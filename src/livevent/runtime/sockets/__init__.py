"""Who connects, and what they are told: the listen and speak sockets and the /live routes."""
