"""The HTTP toolkit both web applications share: problems, parameters, sockets, app keys.

Nothing here knows an event's routes or a live session: the event service (`api/`),
auth's routes (`auth/`) and the live runtime (`runtime/`) build on it.
"""
