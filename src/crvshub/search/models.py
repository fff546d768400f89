"""The search index: people named in each record, their name terms and identifiers.

Rows are written in the same transaction as the record they describe (no indexing delay)
and rebuilt by `crvshub reindex`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, UTCDateTime


class SearchPerson(Base):
    """One person named in a record (child, deceased, mother, father, informant, spouse)."""

    __tablename__ = "search_persons"

    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    given: Mapped[str | None] = mapped_column(String(255))
    family: Mapped[str | None] = mapped_column(String(255))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_search_persons_role_birth_date", "role", "birth_date"),)


class SearchTerm(Base):
    """A posting: this term names (or, prefixed "=", identifies) this person of this record.

    Identifiers share the table with name terms (a name term never starts with "="), so
    indexing a record costs one statement for both and looks both up by the same index.
    `declared` is the record's declaration time (`records.created_at`, never changed), kept
    in the primary key's leaf entries on PostgreSQL (`INCLUDE`) and in an index of its own on
    SQLite: the newest holders of a name are chosen from the postings alone, not by looking
    each record up.
    """

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    declared: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        PrimaryKeyConstraint("term", "role", "record_id", postgresql_include=["declared"]),
        # A record's postings by role from the index alone: a record's rewrite and deletion,
        # and the duplicate check, which reads the terms of a few hundred records of the same
        # week.
        Index("ix_search_terms_record_role_term", "record_id", "role", "term"),
        # SQLite only (migration 0030termsdeclared): its primary key cannot include
        # `declared`, and reading it from the table cost a name's newest holders a table
        # lookup each. `info["only_on"]` tells the schema comparison of the tests.
        Index("ix_search_terms_term_declared", "term", "role", "record_id", "declared",
              info={"only_on": "sqlite"}).ddl_if(dialect="sqlite"),
    )


class SearchVocabulary(Base):
    """Every distinct name term known to the index, with its sound keys, in arrival order."""

    __tablename__ = "search_vocabulary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    term: Mapped[str] = mapped_column(String(64), unique=True)
    phonetic: Mapped[str] = mapped_column(String(64), index=True)
    skeleton: Mapped[str] = mapped_column(String(64), index=True)
