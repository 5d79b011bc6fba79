"""The scope a root field needs from an API token, declared on the field.

A token that lacks the scope is told so instead of being answered an empty list as if
there were nothing to see (GitHub answers ``INSUFFICIENT_SCOPES`` the same way). The
check looks only at the token, before the resolver reads anything: its answer is the
same whatever the arguments name (an existing organization or a made-up slug), so it
tells nothing about the data. A session (``scopes`` is None: all of the user's rights)
and anonymous callers are never refused here; what they may not see stays answered as
if it did not exist.

- A query field answers a top-level error with ``extensions.code`` ``INSUFFICIENT_SCOPE``
  (and, by GraphQL's rules, null in its place, which reaches ``data`` for a non-null
  root field).
- A mutation answers its payload with the object null and one ``errors`` entry of code
  ``INSUFFICIENT_SCOPE``, as every other refusal of a mutation.

Public data needs no scope, so ``items``, ``projects`` or ``organizations`` declare none:
they keep answering their public part to any token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.extensions import FieldExtension

from fabcom.errors import ErrorCode, FieldError
from fabcom.gql.context import PublicError
from fabcom.i18n import N_
from fabcom.permissions import SCOPES

if TYPE_CHECKING:
    from strawberry.types import Info
    from strawberry.types.field import StrawberryField

INSUFFICIENT_SCOPE = N_("This token lacks the {scope} scope that {field} needs.")


def scope_error(scope: str, field: str) -> FieldError:
    """The refusal, translated when shown."""
    return FieldError(ErrorCode.INSUFFICIENT_SCOPE, INSUFFICIENT_SCOPE, None, {"scope": scope, "field": field})


class RequiresScope(FieldExtension):
    """``extensions=[RequiresScope("members:read")]`` on a query or mutation field: a
    token without that scope is refused before the resolver runs: with the field's payload
    when its type has ``errors`` (a mutation), else with ``INSUFFICIENT_SCOPE`` raised."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; known scopes: {', '.join(SCOPES)}")
        self.scope = scope

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def _refusal(self, info: Info) -> Any:
        """What the field answers to a token without the scope."""
        ctx = info.context
        error = scope_error(self.scope, info.field_name)
        payload: Any = self.field.type  # the payload class, for a mutation
        fields = getattr(payload, "__strawberry_definition__", None)
        names = [f.python_name for f in fields.fields] if fields is not None else []
        if "errors" not in names:
            raise PublicError(error.text(ctx.locale), "INSUFFICIENT_SCOPE")
        from fabcom.gql.mutations import MutationError  # the mutations import this module

        message = MutationError(field=None, message=error.text(ctx.locale), code=error.code)
        return payload(**{name: None for name in names if name != "errors"}, errors=[message])

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.principal.has_scope(self.scope):
            return self._refusal(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.principal.has_scope(self.scope):
            return self._refusal(info)
        return await next_(source, info, **kwargs)
