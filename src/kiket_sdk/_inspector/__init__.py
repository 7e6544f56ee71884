"""The delivery inspector served by ``kiket-sdk dev`` under ``/_kiket/inspector``.

``journal`` keeps the recent deliveries (a delivery observer, ``kiket_sdk.observation``);
``seeding`` loads the fake Kiket's state from a mapping or a YAML file and ``editing`` changes
it in place; ``catalogue`` lists the events that can be sent and checks their payloads; ``api``
is the Starlette app of the JSON API and the event stream; ``routing`` puts it in front of the
extension (and journals what the pipeline never saw). Only the CLI imports this package.
"""
