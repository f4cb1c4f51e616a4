"""OpenAI's Responses API (`POST /v1/responses`) on every server, as pure code (no I/O).

- `request`: check a call's arguments and refuse what cannot be served, before anything is sent;
- `items`: Responses input items (and a previous response's output) as chat messages, tools as chat tools;
- `build`: a chat completion as a `Response` object;
- `events`: a chat chunk sequence as the Responses event sequence, in OpenAI's order;
- `native`: complete what a server's own `/responses` answer leaves out, so that it validates.
"""
