"""The hand-written bases of the generated models (``kiket_sdk._generated.models``).

datamodel-code-generator names them in ``pyproject.toml [tool.datamodel-codegen]``:
``base-class`` makes every generated model a ``KiketModel``, and ``base-class-map`` gives
``CustomDataRecord`` the ``CustomDataRow`` base. The configuration lives here, once, as an
annotated ``ClassVar``; the template ``codegen/templates/datamodel/pydantic_v2/ConfigDict.jinja2``
keeps generated classes from repeating it.

- ``KiketModel``: keeps unknown fields (``extra="allow"``: the platform adds fields over time,
  and a field the SDK does not know yet must not fail an answer or a delivery) and accepts both
  the wire name and the Python name of an aliased field (``validate_by_name``).
- ``CustomDataRow``: a custom data record, whose columns the extension module defines, so the
  spec cannot name them; ``record.columns`` gives them as JSON values.

Example:

```python
from kiket_sdk.types import CustomDataRecord, Problem

record = CustomDataRecord.model_validate({"id": 7, "tier": "gold"})
record.columns  # -> {"tier": "gold"}
Problem.model_validate({"title": "Gone", "trace_id": "t-1"}).model_extra  # -> {"trace_id": "t-1"}
```
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, JsonValue

__all__ = ["CustomDataRow", "KiketModel"]


class KiketModel(BaseModel):
    """Base of every generated request, response and event model.

    Unknown fields are kept (``model_extra``) and serialised back; a field with an alias (the
    wire name, e.g. ``from``) is also accepted under its Python name (``from_``).
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", validate_by_name=True)


class CustomDataRow(KiketModel):
    """Base of ``CustomDataRecord``: one row of a custom data table, its columns untyped.

    The spec declares only ``id``; every other key of the row is a column defined by the
    extension module and is kept as an extra field.
    """

    @property
    def columns(self) -> dict[str, JsonValue]:
        """The row's columns other than ``id``, by column name (a new dict on each access).

        Values are what the platform sent, as JSON values (``str``, ``int``, ``float``,
        ``bool``, ``None``, lists and dicts of them). A column the row lacks is absent, so
        ``record.columns.get("tier")`` reads an optional column and ``record.columns["tier"]``
        raises ``KeyError`` for a missing one.

        >>> from kiket_sdk.types import CustomDataRecord
        >>> CustomDataRecord.model_validate({"id": 7, "tier": "gold", "seats": 5}).columns
        {'tier': 'gold', 'seats': 5}
        """
        return dict(self.model_extra or {})
