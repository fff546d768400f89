"""Request-scoped dependencies: the one transaction per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crvshub.context import AppContext, get_context
from crvshub.db import Database


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield the request's session; commit before the response is sent, roll back on error.

    Opening a session does no I/O (the connection is taken at its first statement), so only
    the commit or rollback runs in the thread pool: one hop off the event loop, not two.
    """
    ctx: AppContext = request.app.state.ctx
    session = ctx.db.sessionmaker()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_finish, session, commit=False)
        raise
    await run_in_threadpool(_finish, session, commit=True)


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """Yield a session for a request that only reads; it is rolled back, never committed.

    On SQLite it takes no write lock (`Database.read_sessionmaker`), so searches and reports
    run beside writers instead of queueing behind them.
    """
    ctx: AppContext = request.app.state.ctx
    session = ctx.db.read_sessionmaker()
    try:
        yield session
    finally:
        await run_in_threadpool(_finish, session, commit=False)


T = TypeVar("T")


class Transaction:
    """The request's transaction, for hot endpoints: the work and its commit in one thread trip.

    `SessionDep` costs a sync endpoint two trips to the thread pool (the endpoint, then the
    commit); `await tx.run(work)` runs `work(session)` and then commits (or rolls back) in one.
    Still one transaction per request, owned here: the work may flush, never commit.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.used = False

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` then commit, off the event loop; roll back if it raises."""
        if self.used:
            raise RuntimeError("one transaction per request: run() was already called")
        self.used = True
        return await run_in_threadpool(self._run, work)

    def _run(self, work: Callable[[Session], T]) -> T:
        with self.db.transaction() as session:
            return work(session)


async def get_transaction(request: Request) -> Transaction:
    """Return the request's `Transaction` (no session exists until `run`)."""
    ctx: AppContext = request.app.state.ctx
    return Transaction(ctx.db)


async def context_dependency(request: Request) -> AppContext:
    """Return the application context (without a trip to the thread pool)."""
    return get_context(request)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
TransactionDep = Annotated[Transaction, Depends(get_transaction)]
ContextDep = Annotated[AppContext, Depends(context_dependency)]
