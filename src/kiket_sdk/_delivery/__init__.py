"""The inbound delivery path: how a webhook from Kiket becomes exactly one handler run.

**The model** (contract section 1, "What each proof vouches for, and what a delivery is"):

* **A delivery is its signed bytes on its route.** The same bytes on the same route are the
  same delivery whenever they arrive: after it succeeded -> its stored answer
  (``X-Kiket-Duplicate: true``); while the first still runs -> wait (``duplicate_wait``), then
  the stored answer, else 409 + ``Retry-After``; after a 5xx or a timeout -> the handler runs
  again. The same bytes on another event or version -> 401: a signature does not cover the URL,
  so a route change is an attack.
* **An event is (extension, event, version, id).** A fresh signature with an id already handled
  for that event and version is a redelivery (the stored answer); the same id on another event
  or version is another event. ``deduplicate=False`` turns this off, never the rule above.
* **A claim is held while its handler can still run**, as a lease the running handler renews:
  a plain ``def`` handler past ``handler_timeout`` gets its 503, but its claim stays until its
  thread ends and its outcome is recorded; a process that dies leaves a claim that expires
  after one lease (30 s).
* **The ledger fails closed.** Store unreachable -> 503 + ``Retry-After``, no handler runs; an
  answer that cannot be recorded is retried, then logged with the event id.
* **Each proof is trusted for what it covers.** HMAC covers the body bytes (not the URL); a
  runtime token covers its claims, not the body, and vouches for one body. Credentials go only
  to the configured base URL, or to an HMAC-proven ``api.base_url`` on an allowed host.
* **One JSON rule** for every handler kind: the same bytes get the same status whether the
  handler takes a model or a dict; a parse failure of any kind is a 4xx, never a 500; answers
  are strict JSON.

**The modules**, in the order a delivery meets them: `edge` (ASGI: content type, size, body
deadline) -> `request` (`Delivery`: route, headers, body, parsed once) -> `pipeline` (the
sequence) -> `proof` (what vouches, for what; `api_hosts`: where credentials may go) ->
`json_codec` and `envelope` (the JSON rule, the envelope) -> `ledger` (claims, leases, stored
answers, over a store from `kiket_sdk._stores`) -> `dispatch` (the handler call, with its
`context`) -> `answer`. `handlers` inspects handlers at registration; `messages` holds every
text. The layering is checked by import-linter (``nox -s layers``).
"""
