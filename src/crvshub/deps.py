"""Request-scoped dependencies: the one transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crvshub.context import AppContext, get_context


def get_session(request: Request) -> Iterator[Session]:
    """Yield the request's session; commit before the response is sent, roll back on error."""
    ctx: AppContext = request.app.state.ctx
    with ctx.db.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ContextDep = Annotated[AppContext, Depends(get_context)]
