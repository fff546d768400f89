"""GraphQL types of the record search, with OpenCRVS v1.x names (`searchEvents`, ...)."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from graphql import GraphQLInt as Int

from crvshub.record.search_params import LEVELS, MARRIAGE_FIELDS, PERSON_FIELDS

S = GraphQLString


def _strings(*names: str) -> dict[str, GraphQLField]:
    return {name: GraphQLField(S) for name in names}


def _input_names() -> list[str]:
    found = ["event", "name", "dateOfEvent", "dateOfEventStart", "dateOfEventEnd",
             "dateOfRegistration", "dateOfRegistrationStart", "dateOfRegistrationEnd",
             "timePeriodFrom", "contactNumber", "contactEmail", "nationalId",
             "registrationNumber", "trackingId", "recordId", "declarationLocationId",
             "declarationJurisdictionId", "eventLocationId", "eventCountry", *LEVELS]
    for first, family, born, identifier, gender in PERSON_FIELDS.values():
        found += [first, family, born, born + "Start", born + "End", identifier]
        found += [gender] if gender else []
    return found + list(MARRIAGE_FIELDS)


AdvancedSearchParametersInput = GraphQLInputObjectType("AdvancedSearchParametersInput", {
    **{name: GraphQLInputField(S) for name in _input_names()},
    "registrationStatuses": GraphQLInputField(GraphQLList(S)),
    "compositionType": GraphQLInputField(GraphQLList(S)),
})
SortBy = GraphQLInputObjectType("SortBy", {
    "column": GraphQLInputField(GraphQLNonNull(S)),
    "order": GraphQLInputField(GraphQLNonNull(S)),
})
HumanName = GraphQLObjectType("HumanName", _strings("firstNames", "familyName", "use"))
AssignmentData = GraphQLObjectType("AssignmentData", _strings(
    "practitionerId", "userId", "firstName", "lastName", "officeName"))
RegistrationSearchSet = GraphQLObjectType("RegistrationSearchSet", {
    **_strings("status", "contactNumber", "contactEmail", "contactRelationship", "trackingId",
               "registrationNumber", "registeredLocationId", "eventLocationId",
               "createdAt", "modifiedAt", "dateOfDeclaration", "reason", "comment"),
    "duplicates": GraphQLField(GraphQLList(GraphQLID)),
    "assignment": GraphQLField(AssignmentData),
})
OperationHistorySearchSet = GraphQLObjectType("OperationHistorySearchSet", {
    **_strings("operationType", "operatedOn", "operatorRole", "operatorOfficeName",
               "notificationFacilityName", "rejectReason", "rejectComment"),
    "operatorName": GraphQLField(GraphQLList(HumanName)),
    "operatorOfficeAlias": GraphQLField(GraphQLList(S)),
    "notificationFacilityAlias": GraphQLField(GraphQLList(S)),
})


def _common() -> dict[str, GraphQLField]:
    return {
        "id": GraphQLField(GraphQLNonNull(GraphQLID)),
        "type": GraphQLField(S),
        "registration": GraphQLField(RegistrationSearchSet),
        "operationHistories": GraphQLField(GraphQLList(OperationHistorySearchSet)),
    }


def _event_type(source: dict[str, Any], *_args: Any) -> str:
    return "DeathEventSearchSet" if source.get("type") == "Death" else "BirthEventSearchSet"


EventSearchSet = GraphQLInterfaceType("EventSearchSet", _common, resolve_type=_event_type)
BirthEventSearchSet = GraphQLObjectType("BirthEventSearchSet", lambda: {
    **_common(),
    **_strings("dateOfBirth", "childIdentifier", "childGender", "placeOfBirth",
               "mothersFirstName", "mothersLastName", "fathersFirstName", "fathersLastName",
               "motherDateOfBirth", "fatherDateOfBirth", "motherIdentifier", "fatherIdentifier"),
    "childName": GraphQLField(GraphQLList(HumanName)),
}, interfaces=[EventSearchSet])
DeathEventSearchSet = GraphQLObjectType("DeathEventSearchSet", lambda: {
    **_common(), **_strings("dateOfDeath", "deceasedGender"),
    "deceasedName": GraphQLField(GraphQLList(HumanName)),
}, interfaces=[EventSearchSet])
EventSearchResultSet = GraphQLObjectType("EventSearchResultSet", {
    "totalItems": GraphQLField(Int),
    "results": GraphQLField(GraphQLList(EventSearchSet)),
})

IdentityType = GraphQLObjectType("IdentityType", _strings("id", "type"))
Deceased = GraphQLObjectType("Deceased", {
    "deceased": GraphQLField(GraphQLBoolean), "deathDate": GraphQLField(S)})
Person = GraphQLObjectType("Person", {
    "id": GraphQLField(GraphQLID), "name": GraphQLField(GraphQLList(HumanName)),
    **_strings("birthDate", "gender"),
    "identifier": GraphQLField(GraphQLList(IdentityType)),
    "deceased": GraphQLField(Deceased),
})
RegWorkflow = GraphQLObjectType("RegWorkflow", _strings("type", "timestamp"))
Registration = GraphQLObjectType("Registration", {
    "id": GraphQLField(GraphQLID),
    **_strings("trackingId", "registrationNumber", "type", "contactPhoneNumber", "contactEmail"),
    "status": GraphQLField(GraphQLList(RegWorkflow)),
})
Location = GraphQLObjectType("Location", {"id": GraphQLField(GraphQLNonNull(GraphQLID))})


def _registration_fields(subject: str) -> dict[str, GraphQLField]:
    return {
        "id": GraphQLField(GraphQLNonNull(GraphQLID)), **_strings("createdAt", "updatedAt"),
        "registration": GraphQLField(Registration), "eventLocation": GraphQLField(Location),
        **{role: GraphQLField(Person) for role in (subject, "mother", "father", "informant",
                                                   "spouse")},
    }


BirthRegistration = GraphQLObjectType("BirthRegistration", _registration_fields("child"))
DeathRegistration = GraphQLObjectType("DeathRegistration", _registration_fields("deceased"))
