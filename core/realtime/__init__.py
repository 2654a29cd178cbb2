"""Real-time plumbing shared by every app (docs/realtime.md):

- `groups`: group names built from primary keys (`group_name`);
- `broadcast`: send an event to a group once the transaction commits (`broadcast_on_commit`);
- `envelope`: the one shape in which the hub hands a frame to sockets (`Envelope`: the frame's
  text serialised once, its kind, its seq);
- `hub`: one channel-layer subscription per group per worker process, fanned out to the
  process's sockets, and the database reads those sockets share (single-flight);
- `consumer`: `HubConsumer`, the base of every live socket (bounded outbox, slow-client close,
  read-only frames, language, error frames, join-then-read, clean detach);
- `pubsub`: the channel layer on Redis, publish/subscribe, which tells the hubs when their
  subscription broke.

The channel layer is lossy (a worker misses what is published while its subscription is
broken), so
every broadcast is of something already committed to the database, and clients resync by
sequence number. Only `group_name` and `broadcast_on_commit` are imported here: services use
them, and they must not pull in the consumers' machinery.
"""

from core.realtime.broadcast import broadcast_many_on_commit, broadcast_on_commit
from core.realtime.groups import group_name

__all__ = ["broadcast_many_on_commit", "broadcast_on_commit", "group_name"]
