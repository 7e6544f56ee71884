"""``ctx.endpoints.intake_forms(project_id)``: the generated helper plus ``public_url``.

Every call of the helper (``list``, ``get``, ``list_submissions``, ``create_submission``, ...) is
generated from the spec (``x-kiket-scope: {helper: intake_forms, bound: project_id}``). Written
here is the one rule the spec cannot express: a form marked private (``public: false``) has no
public URL, whatever the API put in its ``form_url``.

```python
url = ctx.endpoints.intake_forms(42).public_url("bug-report")  # None for a private form
```
"""

from __future__ import annotations

from kiket_sdk._generated.models import IntakeForm
from kiket_sdk._generated.resources import AsyncIntakeFormsScope, IntakeFormsScope

__all__ = ["AsyncIntakeFormsClient", "IntakeFormsClient", "public_form_url"]


def public_form_url(form: IntakeForm) -> str | None:
    """``form.form_url``, or ``None`` when the form is private (``public`` is ``False``).

    >>> public_form_url(IntakeForm(id=1, key="k", name="n", public=False, form_url="https://x"))
    """
    return None if form.public is False else form.form_url


class IntakeFormsClient(IntakeFormsScope):
    """Intake forms of one project (blocking): the generated calls and ``public_url``."""

    def public_url(self, form: IntakeForm | str) -> str | None:
        """A form's public ``form_url`` (a key is fetched first); ``None`` for a private form."""
        return public_form_url(self.get(form) if isinstance(form, str) else form)


class AsyncIntakeFormsClient(AsyncIntakeFormsScope):
    """Intake forms of one project (awaited twin of ``IntakeFormsClient``)."""

    async def public_url(self, form: IntakeForm | str) -> str | None:
        """A form's public ``form_url`` (a key is fetched first); ``None`` for a private form."""
        return public_form_url(await self.get(form) if isinstance(form, str) else form)
