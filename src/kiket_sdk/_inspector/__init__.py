"""The delivery inspector served by ``kiket-sdk dev`` under ``/_kiket/inspector``.

``journal`` keeps the recent deliveries (a delivery observer, ``kiket_sdk.observation``);
``seeding`` loads the fake Kiket's state from a mapping or a YAML file; ``api`` is the
Starlette app of the JSON API and the event stream; ``routing`` puts it in front of the
extension. Only the CLI imports this package.
"""
