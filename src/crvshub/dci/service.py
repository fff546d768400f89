"""The DCI registry API: envelopes checked, searches run, transactions stored, callbacks queued.

Every endpoint's work is one function here, run in the request's transaction. Searches run
on the record search engine through `record.service` (registered records only, the client's
daily quota, an audit line per record returned, as GraphQL `searchEvents`). Asynchronous
requests store their answer under the correlation id (a search: `pdng` at the ACK, the results
once the worker ran it) and queue the callback in the same transaction, so `txn/status` has
it even when the callback never arrives. Callbacks and notifies are webhook deliveries on the
client's channels (`webhook.service`): retried, logged, redeliverable, signed when sent.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from crvshub.auth import client_admin
from crvshub.auth import service as auth_service
from crvshub.auth.domain import Principal, PrincipalKind
from crvshub.context import AppContext
from crvshub.db import new_id, utcnow
from crvshub.dci import domain, fhir_mapping, repository, signing
from crvshub.dci.domain import Criteria, CriteriaError
from crvshub.dci.errors import (
    ActionInvalid,
    BatchTooLarge,
    DciError,
    DciQuotaExceeded,
    EncryptionNotSupported,
    EnvelopeInvalid,
    ItemRejected,
    ItemTimestampInvalid,
    MessageExpired,
    PaginationInvalid,
    ReferenceIdInvalid,
    SearchCriteriaInvalid,
    SenderIdInvalid,
    SenderUriInvalid,
    SortInvalid,
    SubscriptionCodeInvalid,
    SubscriptionInvalid,
    TransactionNotFound,
    VersionNotSupported,
)
from crvshub.dci.models import DciSubscription, DciTransaction
from crvshub.dci.schemas import MsgHeader
from crvshub.errors import AppError
from crvshub.location import service as location_service
from crvshub.outbox.service import DomainEvent, enqueue
from crvshub.record import service as record_service
from crvshub.record.search import DateRange, Order, PersonCriteria, RecordQuery
from crvshub.record.search_results import person
from crvshub.record.service import Record
from crvshub.webhook import operations as webhook_operations
from crvshub.webhook import render as webhook_render
from crvshub.webhook import service as webhook_service
from crvshub.webhook.callbacks import parse_callback
from crvshub.webhook.errors import CallbackInvalid

log = structlog.get_logger("crvshub.dci")
Json = dict[str, Any]
SEARCH_JOB = "dci-search"  # an asynchronous search, run by the worker after the ACK
# Callbacks and notifies are webhook deliveries on channels of this style (signed when sent).
STYLE = "dci"
CALLBACK_TOPIC = "DCI_CALLBACK"  # a client's channel to one callback URL
NOTIFY_TOPIC = "DCI_NOTIFY"  # one channel per subscription (its id is the subscription code)
REGISTRY_ID = "crvshub"
SORT_ATTRIBUTES = {
    "birthdate": "event_date", "birth_date": "event_date", "deathdate": "event_date",
    "death_date": "event_date", "event_date": "event_date", "name": "name",
    "registration_date": "created_at", "created_at": "created_at",
    "brn": "registration_number", "drn": "registration_number", "uin": "registration_number",
    "registration_number": "registration_number",
}


@dataclass(frozen=True)
class Caller:
    """Who sent a message: the authenticated client and its address."""

    principal: Principal
    ip: str | None
    allow_unsigned: bool = False  # CRVSHUB_DCI_ALLOW_UNSIGNED (a local-demo opt-in)


@dataclass(frozen=True)
class Checked:
    """An envelope that passed the checks."""

    header: Json
    message: Json
    items: int


def now_iso() -> str:
    """Return the current instant as ISO 8601 with milliseconds and `Z`."""
    return utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Envelope ----------------------------------------------------------------------------

def check_envelope(body: Any, action: str, caller: Caller, *, items_key: str | None,
                   callback: bool, now: datetime | None = None) -> Checked:
    """Check a request envelope; raise the DciError naming the first problem."""
    header = _checked_header(body, action, caller, callback=callback, now=now)
    return _checked_message(body, header, items_key)


def _checked_header(body: Any, action: str, caller: Caller, *, callback: bool,
                    now: datetime | None) -> Json:
    if not isinstance(body, dict) or not isinstance(body.get("header"), dict):
        raise EnvelopeInvalid("The body must be an object {signature, header, message}")
    header = body["header"]
    missing = [k for k in ("message_id", "message_ts", "action", "sender_id", "total_count")
               if header.get(k) in (None, "")]
    if missing:
        raise EnvelopeInvalid(f"header lacks {', '.join(missing)}", expression="header")
    try:
        MsgHeader.model_validate(header)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EnvelopeInvalid(f"header.{where}: {first['msg']}", expression="header") from None
    if str(header.get("version") or domain.VERSION) != domain.VERSION:
        raise VersionNotSupported(f"header.version {str(header['version'])[:20]!r}: this "
                                  f"registry speaks {domain.VERSION}")
    if header["action"] != action:
        raise ActionInvalid(f"header.action must be {action!r} on this endpoint, not "
                            f"{str(header['action'])[:40]!r}")
    sent = domain.parse_timestamp(header["message_ts"])
    moment = now or utcnow()
    if sent is None:
        raise MessageExpired("header.message_ts must be an ISO 8601 instant")
    if sent < moment - timedelta(seconds=domain.MESSAGE_MAX_AGE_SECONDS):
        raise MessageExpired("header.message_ts is more than 24 hours old: the message has "
                             "expired, send it again with a new timestamp")
    if sent > moment + timedelta(seconds=domain.MESSAGE_MAX_SKEW_SECONDS):
        raise MessageExpired("header.message_ts is more than 5 minutes in the future")
    if header["sender_id"] != caller.principal.client_id:
        raise SenderIdInvalid("header.sender_id must be your client_id")
    if header.get("is_msg_encrypted") is True:
        raise EncryptionNotSupported("Send the message unencrypted over TLS")
    if callback:
        uri = header.get("sender_uri")
        try:
            parse_callback(uri if isinstance(uri, str) else "")
        except CallbackInvalid:
            raise SenderUriInvalid("header.sender_uri must be the http(s) URL where the "
                                   "callback goes") from None
    return dict(header)


def _checked_message(body: Json, header: Json, items_key: str | None) -> Checked:
    message = body.get("message")
    if not isinstance(message, dict):
        raise EnvelopeInvalid("message must be an object", expression="message")
    if message.get("header") is not None and "ciphertext" in message:
        raise EncryptionNotSupported("Send the message unencrypted over TLS")
    count = domain.total_count(header["total_count"])
    if count is None or count < 0:
        raise EnvelopeInvalid("header.total_count must be a whole number")
    items = 1
    if items_key is not None:
        listed = message.get(items_key)
        if not isinstance(listed, list) or not listed:
            raise EnvelopeInvalid(f"message.{items_key} must be a non-empty list",
                                  expression=f"message.{items_key}")
        items = len(listed)
    if items > domain.MAX_BATCH or count > domain.MAX_BATCH:
        raise BatchTooLarge(f"At most {domain.MAX_BATCH} items per message; this one has "
                            f"{max(items, count)}: split it")
    transaction_id = message.get("transaction_id")
    if not isinstance(transaction_id, str) or len(transaction_id) > 99:
        raise EnvelopeInvalid("message.transaction_id must be a text of at most 99 characters",
                              expression="message.transaction_id")
    return Checked(header, message, items)


def open_envelope(session: Session, body: Any, action: str, caller: Caller, *,
                  items_key: str | None, callback: bool) -> Checked:
    """Check an envelope, then its signature against the client's registered key."""
    checked = check_envelope(body, action, caller, items_key=items_key, callback=callback)
    signing.verify(session, caller.principal.subject, body.get("signature"),
                   digest(checked.header, checked.message),
                   allow_unsigned=caller.allow_unsigned)
    return checked


def canonical(header: Json, message: Json) -> bytes:
    """Return the bytes a signature covers: `{header, message}` as sorted, compact JSON."""
    return orjson.dumps({"header": header, "message": message}, option=orjson.OPT_SORT_KEYS)


def digest(header: Json, message: Json) -> str:
    """Return the SHA-256 digest of a message, as the signature's `digest` claim."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(canonical(header, message)).digest(
        )).decode()


def sign(ctx: AppContext, header: Json, message: Json) -> str:
    """Sign a message with the server's active key: a JWS whose claims carry its digest.

    Verify it with `/.well-known/jwks.json` (EdDSA with an Ed25519 key by default, RS256 with
    `CRVSHUB_DCI_SIGNING_ALGORITHM=RS256`; `kid` in the JWS header), then compare the
    `digest` claim with the SHA-256 of the sorted compact JSON of `{header, message}`.
    """
    moment = int(utcnow().timestamp())
    return ctx.keys.sign({"iss": ctx.settings.base_url, "iat": moment, "exp": moment + 3600,
                          "digest": digest(header, message)}, ctx.settings.dci_signing_algorithm)


def answer_header(action: str, receiver: str | None, *, total: int, completed: int,
                  status: str = "succ") -> Json:
    """Return a `MsgCallbackHeader_V1.0.0` for an answer or callback."""
    return {"version": domain.VERSION, "message_id": new_id(), "message_ts": now_iso(),
            "action": action, "status": status, "total_count": total,
            "completed_count": completed, "sender_id": REGISTRY_ID,
            "receiver_id": receiver, "is_msg_encrypted": False}


def envelope(ctx: AppContext, header: Json, message: Json) -> Json:
    """Return a signed `{signature, header, message}`."""
    return {"signature": sign(ctx, header, message), "header": header, "message": message}


def ack(correlation_id: str) -> Json:
    """Return the standard's ACK `Response` body."""
    return {"message": {"ack_status": "ACK", "timestamp": now_iso(),
                        "correlation_id": correlation_id}}


# --- Search --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    """One search item, read and checked, ready to run."""

    reference_id: str
    locale: str
    events: tuple[str, ...]
    reg_event_type: str | None
    query: RecordQuery | None
    order: Order
    page_size: int
    page_number: int


def _to_query(criteria: Criteria) -> RecordQuery | None:
    """Return the record query of DCI criteria (None: nothing can match)."""
    events = criteria.events
    birth, death = criteria.birth, criteria.death
    if death.start is not None or death.end is not None:
        events = tuple(e for e in events if e == "death")
    elif (birth.start is not None or birth.end is not None) and len(events) > 1:
        events = ("birth",)
    criteria = replace(criteria, events=events)
    if criteria.impossible():
        return None
    single = events[0] if len(events) == 1 else None
    subject = "deceased" if single == "death" else "child"
    people: list[PersonCriteria] = []
    event_range = DateRange()
    if single == "death":
        event_range = DateRange(death.start, death.end)
        if birth.start or birth.end or criteria.name or criteria.sex:
            people.append(PersonCriteria("deceased", name=criteria.name, birth_from=birth.start,
                                         birth_to=birth.end, gender=criteria.sex))
    else:
        event_range = DateRange(birth.start, birth.end)
        if criteria.sex or (criteria.name and single):
            people.append(PersonCriteria(subject, name=criteria.name if single else None,
                                         gender=criteria.sex))
    if criteria.mother_identifier or criteria.mother_name:
        people.append(PersonCriteria("mother", name=criteria.mother_name,
                                     identifier=criteria.mother_identifier))
    if criteria.father_identifier or criteria.father_name:
        people.append(PersonCriteria("father", name=criteria.father_name,
                                     identifier=criteria.father_identifier))
    return RecordQuery(
        events=events, event_date=event_range, registration_number=criteria.registration_number,
        record_id=criteria.record_id, tracking_id=criteria.tracking_id,
        subject_identifier=criteria.subject_identifier,
        any_name=criteria.name if criteria.name and not single else None,
        event_location_ids=criteria.places, office_ids=criteria.offices, people=tuple(people))


def _order(sort: Any) -> Order:
    if sort in (None, "", []):
        return Order()
    if not isinstance(sort, list) or len(sort) > 5:
        raise SortInvalid("sort must be a list of at most 5 {attribute_name, sort_order}")
    columns = []
    for item in sort:
        if not isinstance(item, dict):
            raise SortInvalid("each sort item must be {attribute_name, sort_order}")
        name = str(item.get("attribute_name", "")).lower()
        if name not in SORT_ATTRIBUTES:
            raise SortInvalid(f"cannot sort by {name[:40]!r} (supported: "
                              f"{', '.join(sorted(SORT_ATTRIBUTES))})")
        direction = item.get("sort_order") or "asc"
        if direction not in ("asc", "desc"):
            raise SortInvalid("sort_order must be asc or desc")
        columns.append((SORT_ATTRIBUTES[name], direction == "desc"))
    return Order(tuple(columns))


def _page(pagination: Any) -> tuple[int, int]:
    if pagination in (None, ""):
        return domain.DEFAULT_PAGE_SIZE, 1
    if not isinstance(pagination, dict):
        raise PaginationInvalid("pagination must be {page_size, page_number}")
    size, number = pagination.get("page_size", domain.DEFAULT_PAGE_SIZE), \
        pagination.get("page_number", 1)
    if isinstance(size, bool) or not isinstance(size, int) or not \
            1 <= size <= domain.MAX_PAGE_SIZE:
        raise PaginationInvalid(f"page_size must be 1 to {domain.MAX_PAGE_SIZE}")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise PaginationInvalid("page_number must be 1 or more (pages count from 1)")
    if (number - 1) * size > domain.MAX_SKIP:
        raise PaginationInvalid(f"at most {domain.MAX_SKIP} records can be skipped: narrow "
                                "the search instead of paging further")
    return size, number


def _locale(value: Any) -> str:
    if isinstance(value, str) and len(value) == 3 and value.isalpha() and value.islower():
        return value
    return domain.DEFAULT_LOCALE


def plan_item(item: Any, seen: set[str]) -> Planned:
    """Read one `search_request` item; raise an ItemRejected naming its problem."""
    if not isinstance(item, dict):
        raise SearchCriteriaInvalid("each search_request item must be an object")
    reference = item.get("reference_id")
    if not isinstance(reference, str) or not reference or reference in seen:
        raise ReferenceIdInvalid("reference_id must be a non-empty text, unique in the message")
    seen.add(reference)
    if domain.parse_timestamp(item.get("timestamp")) is None:
        raise ItemTimestampInvalid("timestamp must be an ISO 8601 instant")
    criteria = item.get("search_criteria")
    if not isinstance(criteria, dict):
        raise SearchCriteriaInvalid("search_criteria must be an object")
    query_type = criteria.get("query_type")
    try:
        events = domain.event_of(criteria.get("reg_event_type"), default=(
            ("birth", "death") if query_type == "idtype-value" else ("birth",)))
        found = domain.query_criteria(query_type, criteria.get("query"), events)
    except CriteriaError as exc:
        raise SearchCriteriaInvalid(str(exc)) from None
    size, number = _page(criteria.get("pagination"))
    event_type = criteria.get("reg_event_type")
    return Planned(reference, _locale(item.get("locale")), found.events,
                   event_type if isinstance(event_type, str) else None, _to_query(found),
                   _order(criteria.get("sort")), size, number)


def _rejected(reference: str, error: ItemRejected, locale: str = domain.DEFAULT_LOCALE) -> Json:
    return {"reference_id": reference, "timestamp": now_iso(), "status": "rjct",
            "status_reason_code": error.reason,
            "status_reason_message": f"{error.code}: {error.message}"[:999], "locale": locale}


def _place_names(ctx: AppContext) -> fhir_mapping.PlaceName:
    snapshot = ctx.location_cache.snapshot()

    def name(location_id: str | None) -> str | None:
        view = snapshot.get(location_id) if location_id else None
        return view.name if view else None

    return name


def _reference(item: Any) -> str:
    value = item.get("reference_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else ""


def _number_only(planned: Planned) -> bool:
    """Tell whether an item asks for one registration number and nothing else (first page)."""
    query = planned.query
    return (query is not None and bool(query.registration_number) and planned.page_number == 1
            and query == RecordQuery(events=query.events,
                                     registration_number=query.registration_number))


def use_quota(session: Session, caller: Caller, message: Json) -> None:
    """Count a message's searches against the client's daily quota, or raise (429)."""
    items = len(message["search_request"])
    if record_service.use_client_quota(session, caller.principal.subject, items) is None:
        raise DciQuotaExceeded(f"These {items} searches would pass your daily quota")


def run_search(session: Session, ctx: AppContext, caller: Caller, message: Json,
               correlation_id: str) -> Json:
    """Run every item of a `SearchRequest` (quota used already); return the `SearchResponse`."""
    items: list[Any] = message["search_request"]
    seen: set[str] = set()
    answers: list[Json] = []
    given: list[Record] = []
    place = _place_names(ctx)
    plans: list[Planned | ItemRejected] = []
    for item in items:
        try:
            plans.append(plan_item(item, seen))
        except ItemRejected as error:
            plans.append(error)
    by_number = record_service.registered_by_numbers(session, [
        p.query.registration_number for p in plans
        if isinstance(p, Planned) and _number_only(p) and p.query is not None
        and p.query.registration_number])
    for item, planned in zip(items, plans, strict=True):
        if isinstance(planned, ItemRejected):
            answers.append(_rejected(_reference(item), planned))
            continue
        if planned.query is None:
            total, records = 0, []
        elif _number_only(planned):
            # A registration number is unique: one lookup for the whole batch (above).
            hit = by_number.get(str(planned.query.registration_number))
            records = [hit] if hit is not None and hit.event in planned.query.events else []
            total = len(records)
        else:
            page = record_service.client_search(
                session, ctx.vocabulary, planned.query, planned.order,
                count=planned.page_size, skip=(planned.page_number - 1) * planned.page_size)
            total, records = page.total, page.records
        given.extend(records)
        event_type = planned.reg_event_type or (
            domain.EVENT_TYPES[planned.events[0]] if len(planned.events) == 1 else None)
        data: Json = {"version": domain.VERSION, "reg_type": domain.REG_TYPE,
                      "reg_record_type": domain.RECORD_TYPE,
                      "reg_records": [fhir_mapping.person_record(r, place) for r in records]}
        if event_type:
            data["reg_event_type"] = event_type
        answers.append({
            "reference_id": planned.reference_id, "timestamp": now_iso(), "status": "succ",
            "data": data,
            "pagination": {"page_size": planned.page_size, "page_number": planned.page_number,
                           "total_count": total},
            "locale": planned.locale})
    record_service.audit_retrieved(session, caller.principal, caller.ip, given)
    return {"transaction_id": message["transaction_id"], "correlation_id": correlation_id,
            "search_response": answers}


def sync_search(session: Session, ctx: AppContext, caller: Caller, body: Any) -> Json:
    """`POST /registry/sync/search`: the signed on-search envelope."""
    checked = open_envelope(session, body, "search", caller, items_key="search_request",
                            callback=False)
    use_quota(session, caller, checked.message)
    response = run_search(session, ctx, caller, checked.message, new_id())
    done = len(response["search_response"])
    header = answer_header("on-search", caller.principal.client_id, total=checked.items,
                           completed=done)
    return envelope(ctx, header, response)


def _store(session: Session, caller: Caller, checked: Checked, action: str, response: Json,
           correlation_id: str, references: Sequence[str], status: str = "succ",
           ) -> DciTransaction:
    row = DciTransaction(
        id=correlation_id, client_id=caller.principal.subject,
        transaction_id=checked.message["transaction_id"],
        message_id=str(checked.header["message_id"])[:128], action=action, status=status,
        reference_ids=list(references), sender_uri=checked.header.get("sender_uri"),
        response=response, created_at=utcnow())
    repository.add(session, row)
    return row


def _repeated(session: Session, caller: Caller, checked: Checked, action: str) -> Json | None:
    """Return the ACK already given to this message (same client, message_id and action).

    A client that lost an ACK (timeout, dropped connection) sends the message again: it gets
    the same correlation id, and nothing runs or is sent twice.
    """
    earlier = repository.by_message(session, caller.principal.subject,
                                    str(checked.header["message_id"])[:128], action)
    return ack(earlier.id) if earlier is not None else None


def queue_callback(session: Session, ctx: AppContext, client_row_id: str, url: str,
                   action: str, message: Json) -> None:
    """Queue a callback on the client's channel to its URL (a webhook delivery: retried with
    backoff, logged, redeliverable; signed when sent)."""
    client = auth_service.client_summary(session, client_row_id)
    if client is None:
        return
    channel = webhook_service.open_channel(
        session, ctx.settings, client_id=client_row_id, callback=url, topic=CALLBACK_TOPIC,
        style=STYLE)
    items = 1
    for key in ("search_response", "subscribe_response"):
        if isinstance(message.get(key), list):
            items = len(message[key])
    header = answer_header(action, client.client_id, total=items, completed=items)
    webhook_service.queue_delivery(session, channel, topic=f"dci:{action}",
                                   body=_stored_body(header, message))


def _stored_body(header: Json, message: Json) -> str:
    """Return what a delivery stores: header and message; `message_ts` and the signature are
    made at each attempt, `message_id` is the delivery id (the same on every attempt)."""
    return orjson.dumps({"header": header, "message": message}).decode()


def _pending(message: Json, correlation_id: str) -> Json:
    """Return the `SearchResponse` of a search not run yet: every item `pdng`."""
    return {"transaction_id": message["transaction_id"], "correlation_id": correlation_id,
            "search_response": [
                {"reference_id": _reference(i) or "-", "timestamp": now_iso(), "status": "pdng",
                 "locale": _locale(i.get("locale") if isinstance(i, dict) else None)}
                for i in message["search_request"]]}


def async_search(session: Session, _ctx: AppContext, caller: Caller, body: Any) -> Json:
    """`POST /registry/search`: ACK at once; the worker runs the search, stores its answer
    and sends it to `on-search` (`txn/status` answers `pdng` items until then)."""
    checked = open_envelope(session, body, "search", caller, items_key="search_request",
                            callback=True)
    repeated = _repeated(session, caller, checked, "search")
    if repeated is not None:
        return repeated
    use_quota(session, caller, checked.message)
    correlation_id = new_id()
    references = [_reference(i) for i in checked.message["search_request"]]
    _store(session, caller, checked, "search", _pending(checked.message, correlation_id),
           correlation_id, references, status="pdng")
    enqueue(session, SEARCH_JOB, {
        "correlation_id": correlation_id, "ip": caller.ip, "message": checked.message,
        "url": domain.callback_url(str(checked.header["sender_uri"]), "on-search")})
    return ack(correlation_id)


def finish_search(session: Session, ctx: AppContext, payload: Json) -> bool:
    """Run a queued search, store its answer and queue `on-search`; False if nothing to do."""
    row = repository.transaction(session, str(payload.get("correlation_id")))
    if row is None or row.status != "pdng":
        return False
    client = auth_service.client_summary(session, row.client_id)
    if client is None:
        return False
    reader = Principal(kind=PrincipalKind.CLIENT, subject=client.id, name=client.name,
                       scopes=frozenset(), token_id="", client_type=client.type,
                       client_id=client.client_id)
    ip = payload.get("ip")
    response = run_search(session, ctx, Caller(reader, ip if isinstance(ip, str) else None),
                          payload["message"], row.id)
    row.response, row.status = response, "succ"
    queue_callback(session, ctx, row.client_id, str(payload.get("url")), "on-search", response)
    return True


# --- Transaction status -----------------------------------------------------------------------

TXN_ACTIONS = {"search": "on-search", "subscribe": "on-subscribe",
               "unsubscribe": "on-unsubscribe"}


def _found_transaction(session: Session, caller: Caller, request: Any) -> DciTransaction:
    if not isinstance(request, dict):
        raise EnvelopeInvalid("message.txnstatus_request must be an object")
    kind, attribute = request.get("txn_type"), request.get("attribute_type")
    value = request.get("attribute_value")
    if kind not in TXN_ACTIONS:
        raise EnvelopeInvalid("txn_type must be search, subscribe or unsubscribe")
    client = caller.principal.subject
    rows: Sequence[DciTransaction] = []
    if attribute == "transaction_id" and isinstance(value, str):
        rows = repository.transactions_of(session, client, transaction_id=value, action=kind)
    elif attribute == "correlation_id" and isinstance(value, str):
        rows = repository.transactions_of(session, client, correlation_id=value, action=kind)
    elif attribute == "reference_id_list" and isinstance(value, list):
        wanted = {str(v) for v in value}
        rows = [r for r in repository.transactions_of(session, client, action=kind, limit=200)
                if wanted & set(r.reference_ids)]
    elif attribute == "subscription_code_list" and isinstance(value, list):
        wanted = {str(v) for v in value}
        rows = [r for r in repository.transactions_of(session, client, action=kind, limit=200)
                if wanted & _codes_in(r.response or {})]
    else:
        raise EnvelopeInvalid("attribute_type must be transaction_id, correlation_id, "
                              "reference_id_list or subscription_code_list, with a value "
                              "of its type")
    if not rows or rows[0].response is None:
        raise TransactionNotFound(f"No {kind} transaction of yours has this {attribute}")
    return rows[0]


def _codes_in(response: Json) -> set[str]:
    codes = {str(s.get("code")) for s in response.get("subscription_status", [])
             if isinstance(s, dict)}
    for item in response.get("subscribe_response", []):
        for info in item.get("subscriptions", []) if isinstance(item, dict) else []:
            if isinstance(info, dict):
                codes.add(str(info.get("code")))
    return codes


def status_message(session: Session, caller: Caller, message: Json) -> Json:
    """Return the `TxnStatusResponse` of a `TxnStatusRequest` (the stored answer itself)."""
    row = _found_transaction(session, caller, message.get("txnstatus_request"))
    return {"transaction_id": message["transaction_id"], "correlation_id": row.id,
            "txnstatus_response": {"txn_type": TXN_ACTIONS[row.action],
                                   "txn_status": row.response}}


def sync_status(session: Session, ctx: AppContext, caller: Caller, body: Any) -> Json:
    """`POST /registry/sync/txn/status`: the stored answer, in a txn-on-status envelope."""
    checked = open_envelope(session, body, "txn-status", caller, items_key=None, callback=False)
    response = status_message(session, caller, checked.message)
    header = answer_header("txn-on-status", caller.principal.client_id, total=1, completed=1)
    return envelope(ctx, header, response)


def async_status(session: Session, ctx: AppContext, caller: Caller, body: Any) -> Json:
    """`POST /registry/txn/status`: ACK, then `txn/on-status` with the stored answer."""
    checked = open_envelope(session, body, "txn-status", caller, items_key=None, callback=True)
    repeated = _repeated(session, caller, checked, "txn-status")
    if repeated is not None:
        return repeated
    correlation_id = new_id()
    response = status_message(session, caller, checked.message)
    response["correlation_id"] = correlation_id
    _store(session, caller, checked, "txn-status", response, correlation_id, [])
    queue_callback(session, ctx, caller.principal.subject, domain.callback_url(
        str(checked.header["sender_uri"]), "txn/on-status"), "txn-on-status", response)
    return ack(correlation_id)


# --- Subscriptions ---------------------------------------------------------------------------

def _subscribe_item(session: Session, ctx: AppContext, caller: Caller, item: Any,
                    seen: set[str], sender_uri: str) -> Json:
    if not isinstance(item, dict):
        raise SubscriptionInvalid("each subscribe_request item must be an object")
    reference = item.get("reference_id")
    if not isinstance(reference, str) or not reference or reference in seen:
        raise ReferenceIdInvalid("reference_id must be a non-empty text, unique in the message")
    seen.add(reference)
    criteria = item.get("subscribe_criteria")
    if not isinstance(criteria, dict):
        raise SubscriptionInvalid("subscribe_criteria must be an object")
    try:
        event = domain.subscription_event(criteria.get("reg_event_type"))
        _filter_criteria(event, criteria.get("filter_type"), criteria.get("filter"))
    except CriteriaError as exc:
        error = SubscriptionInvalid(str(exc))
        raise error from None
    if not criteria.get("notify_record_type"):
        raise SubscriptionInvalid("notify_record_type is required")
    locale = _locale(item.get("locale"))
    info: Json = {"version": domain.VERSION, "status": "subscribe", "timestamp": now_iso(),
                  "reg_type": criteria.get("reg_type") or domain.REG_TYPE,
                  "reg_event_type": criteria["reg_event_type"],
                  "filter_type": criteria.get("filter_type") or "predicate",
                  "filter": criteria.get("filter") if criteria.get("filter") is not None
                  else [], "notify_record_type": criteria["notify_record_type"],
                  "locale": locale}
    if isinstance(criteria.get("frequency"), dict):
        info["frequency"] = criteria["frequency"]
    for existing in repository.subscriptions_of(session, caller.principal.subject):
        if (existing.status == "subscribe" and existing.event == event
                and existing.info.get("filter") == info["filter"]):
            return {"reference_id": reference, "timestamp": now_iso(), "status": "rjct",
                    "status_reason_code": "rjct.event.already_subscribed",
                    "status_reason_message": f"Already subscribed as {existing.code}",
                    "subscriptions": [existing.info], "locale": locale}
    code = new_id()
    info["code"] = code
    repository.add(session, DciSubscription(
        code=code, client_id=caller.principal.subject, event=event, status="subscribe",
        info=info, sender_uri=sender_uri, created_at=utcnow()))
    session.flush()
    # Its notifies go on a webhook channel of its own: unsubscribing closes it at once.
    webhook_service.open_channel(
        session, ctx.settings, client_id=caller.principal.subject,
        callback=domain.callback_url(sender_uri, "notify"), topic=NOTIFY_TOPIC, style=STYLE,
        channel_id=code)
    return {"reference_id": reference, "timestamp": now_iso(), "status": "succ",
            "subscriptions": [info], "locale": locale}


def _filter_criteria(event: str, filter_type: Any, query: Any) -> Criteria:
    events = (event.split("_", maxsplit=1)[0],)
    if query in (None, "", [], {}):
        return Criteria(events=events)
    return domain.query_criteria(filter_type or "predicate", query, events)


def subscribe(session: Session, ctx: AppContext, caller: Caller, body: Any) -> Json:
    """`POST /registry/subscribe`: ACK; subscriptions stored, `on-subscribe` queued."""
    checked = open_envelope(session, body, "subscribe", caller, items_key="subscribe_request",
                             callback=True)
    repeated = _repeated(session, caller, checked, "subscribe")
    if repeated is not None:
        return repeated
    correlation_id = new_id()
    seen: set[str] = set()
    answers: list[Json] = []
    for item in checked.message["subscribe_request"]:
        try:
            answers.append(_subscribe_item(session, ctx, caller, item, seen,
                                           str(checked.header["sender_uri"])))
        except ItemRejected as error:
            answers.append(_rejected(_reference(item), error))
    response = {"transaction_id": checked.message["transaction_id"],
                "correlation_id": correlation_id, "subscribe_response": answers}
    _store(session, caller, checked, "subscribe", response, correlation_id,
           [_reference(i) for i in checked.message["subscribe_request"]])
    queue_callback(session, ctx, caller.principal.subject, domain.callback_url(
        str(checked.header["sender_uri"]), "on-subscribe"), "on-subscribe", response)
    return ack(correlation_id)


def unsubscribe(session: Session, ctx: AppContext, caller: Caller, body: Any) -> Json:
    """`POST /registry/unsubscribe`: ACK; the subscriptions end at once, `on-unsubscribe`."""
    checked = open_envelope(session, body, "unsubscribe", caller, items_key="subscription_codes",
                             callback=True)
    repeated = _repeated(session, caller, checked, "unsubscribe")
    if repeated is not None:
        return repeated
    correlation_id = new_id()
    codes = [str(c) for c in checked.message["subscription_codes"]]
    mine = {s.code: s for s in repository.subscriptions_of(
        session, caller.principal.subject, codes)}
    live = sorted(code for code, sub in mine.items() if sub.status == "subscribe")
    repository.end_subscriptions(session, caller.principal.subject, codes, utcnow())
    for code in live:  # waiting notifies end with the subscription
        webhook_service.close_channel(session, code, "unsubscribed (DCI unsubscribe)")
    unknown = [c for c in codes if c not in mine]
    response: Json = {
        "transaction_id": checked.message["transaction_id"], "correlation_id": correlation_id,
        "timestamp": now_iso(), "status": "rjct" if unknown else "succ",
        "subscription_status": [{"code": c, "status": "unsubscribe"} for c in codes
                                if c in mine]}
    if unknown:
        error = SubscriptionCodeInvalid(f"Unknown subscription codes: {', '.join(unknown)}")
        response["status_reason_code"] = error.reason
        response["status_reason_message"] = f"{error.code}: {error.message}"[:999]
    _store(session, caller, checked, "unsubscribe", response, correlation_id, [])
    queue_callback(session, ctx, caller.principal.subject, domain.callback_url(
        str(checked.header["sender_uri"]), "on-unsubscribe"), "on-unsubscribe", response)
    return ack(correlation_id)


# --- Notify (listener, in the transaction that emits the event) -------------------------------

def _facts(record: Record) -> domain.RecordFacts:
    subject = person(record, "child" if record.event == "birth" else "deceased")
    born = (subject or {}).get("birthDate")
    birth = domain.parse_timestamp(born + "T00:00:00+00:00") if isinstance(born, str) and \
        len(born) == 10 else None
    return domain.RecordFacts(record.event, record.event_date,
                              birth.date() if birth else None, record.subject_gender,
                              record.event_location_id, record.office_id)


def notify_subscribers(session: Session, event: DomainEvent) -> None:
    """Queue a notify for every live subscription whose event and filter the record meets.

    Each is a webhook delivery on the subscription's channel, written in the emitting
    transaction with the record as it is now; the record is audited as given to the client.
    """
    events = [name for name, topics in domain.SUBSCRIBE_TOPICS.items() if event.topic in topics]
    if not events or event.record_id is None:
        return
    subscriptions = repository.live_subscriptions(session, events)
    if not subscriptions:
        return
    record = record_service.find(session, event.record_id)
    if record is None:
        return
    facts = _facts(record)
    today = datetime.now(UTC).date()
    for sub in subscriptions:
        try:
            criteria = _filter_criteria(sub.event, sub.info.get("filter_type"),
                                        sub.info.get("filter"))
        except CriteriaError:
            continue
        if domain.matches(criteria, replace(facts, event=sub.event), today):
            _queue_notify(session, sub, record, event)


def _queue_notify(session: Session, sub: DciSubscription, record: Record,
                  event: DomainEvent) -> None:
    client = auth_service.client_summary(session, sub.client_id)
    if client is None or client.status != "active":
        return  # as webhooks: a deactivated client collects nothing
    message = {"transaction_id": event.id[:99], "notify_event": [{
        "reference_id": sub.code, "timestamp": now_iso(),
        "data": {"version": domain.VERSION, "reg_type": domain.REG_TYPE,
                 # The event subscribed to, as the subscriber named it (DEATH_REVERSAL...).
                 "reg_event_type": sub.info.get("reg_event_type"),
                 "reg_record_type": domain.RECORD_TYPE,
                 "reg_records": [fhir_mapping.person_record(record, _session_places(session))]},
        "locale": sub.info.get("locale") or domain.DEFAULT_LOCALE}]}
    header = answer_header("notify", client.client_id, total=1, completed=1)
    queued = webhook_service.queue_delivery(
        session, sub.code, topic=event.topic, body=_stored_body(header, message),
        event_id=event.id, record_id=record.id)
    if queued is None:
        log.warning("dci_notify_without_channel", subscription=sub.code)
        return
    reader = Principal(kind=PrincipalKind.CLIENT, subject=client.id, name=client.name,
                       scopes=frozenset(), token_id="", client_type=client.type,
                       client_id=client.client_id)
    record_service.audit_retrieved(session, reader, None, [record])


def _session_places(session: Session) -> fhir_mapping.PlaceName:
    def name(location_id: str | None) -> str | None:
        found = location_service.get(session, location_id) if location_id else None
        return found.name if found is not None else None

    return name


def error_body(error: AppError) -> Json:
    """Return the standard body of an error: ERR `Response`, or `HttpErrorResponse`."""
    code = error.dci_code if isinstance(error, DciError) else {
        401: "err.request.unauthorized", 403: "err.request.forbidden",
        429: "err.request.too_many_requests", 404: "err.request.not_found",
        503: "err.service.unavailable"}.get(error.status, "err.request.bad")
    text = f"{error.code}: {error.message}"[:999]
    if error.status in (401, 403) or (error.status == 429 and not isinstance(error,
                                                                              DciQuotaExceeded)):
        return {"errors": [{"code": code, "message": text}]}
    return {"message": {"ack_status": "ERR", "timestamp": now_iso(),
                        "error": {"code": code, "message": text}, "correlation_id": new_id()}}


# --- Client signing keys -----------------------------------------------------------------------

def set_client_key(session: Session, client_id: str, jwk: Any) -> Json:
    """Register the public key a client (by its public client_id) signs its messages with."""
    client = client_admin.get(session, client_id)
    kid = signing.register_key(session, client.id, jwk)
    return {"client_id": client.client_id, "kid": kid}


def remove_client_key(session: Session, client_id: str) -> Json:
    """Forget a client's signing key: its messages are refused until it registers another."""
    client = client_admin.get(session, client_id)
    return {"client_id": client.client_id, "removed": signing.remove_key(session, client.id)}


def delivery_log(session: Session, client_id: str, limit: int = 20) -> list[Json]:
    """Return a client's DCI channels (by public client_id), each with its latest deliveries
    and their attempts, as the webhook admin API shows them."""
    client = client_admin.get(session, client_id)
    channels: list[Json] = []
    for sub, summary in webhook_operations.all_subscriptions(session, client_id=client.id,
                                                             status=None):
        if sub.style != STYLE:
            continue
        page = webhook_operations.list_deliveries(session, sub.id, None, status=None,
                                                  since=None, limit=limit, offset=0)
        channels.append({**webhook_render.subscription_json(sub, summary), "deliveries": [
            webhook_render.delivery_json(d, page.attempts[d.id]) for d in page.deliveries]})
    return channels
