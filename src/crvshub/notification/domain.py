"""Notification vocabulary: URLs, section codes, countries and required fields (pure)."""

from __future__ import annotations

import re
from datetime import date

EXT = "http://opencrvs.org/specs/extension/"
REG_LAST_OFFICE = EXT + "regLastOffice"
REG_LAST_LOCATION = EXT + "regLastLocation"
CONTACT_PERSON = EXT + "contact-person"
CONTACT_PHONE = EXT + "contact-person-phone-number"
CONTACT_EMAIL = EXT + "contact-person-email"
SYSTEM_IDENTIFIER = "http://opencrvs.org/specs/id/system_identifier"
COMPOSITION_IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
NATIONALITY = "http://hl7.org/fhir/StructureDefinition/patient-nationality"

COMPOSITION_TYPES = {"birth-notification": "birth", "death-notification": "death"}
TASK_CODES = {"BIRTH": "birth", "DEATH": "death"}
ENCOUNTER_SECTION = {"birth": "birth-encounter", "death": "death-encounter"}
SUBJECT_SECTION = {"birth": "child-details", "death": "deceased-details"}

# Section codes a notification may carry (matched by code only, whatever the system).
SECTION_CODES = frozenset(
    {
        "child-details",
        "mother-details",
        "father-details",
        "informant-details",
        "deceased-details",
        "spouse-details",
        "birth-encounter",
        "death-encounter",
    }
)
ALLOWED_RESOURCES = frozenset(
    {"Patient", "RelatedPerson", "Encounter", "Observation", "QuestionnaireResponse", "Location"}
)
GENDERS = frozenset({"male", "female", "unknown", "other"})
# Place-of-event types that need no stored facility (an address or "at home" is enough).
HOME_PLACE_TYPES = frozenset({"PRIVATE_HOME", "OTHER"})

# Observation codes (LOINC or OpenCRVS) that feed required fields.
OBS_BIRTH_TYPE = "57722-1"
OBS_WEIGHT = "3141-9"
OBS_ATTENDANT = "73764-3"
OBS_MANNER = "uncertified-manner-of-death"
OBS_CAUSE_ESTABLISHED = "cause-of-death-established"
OBS_CAUSE_METHOD = "cause-of-death-method"

PERSON_ROLES = {"child", "mother", "father", "deceased", "spouse", "informant"}
PERSON_FACTS = (
    "name", "gender", "birthDate", "deathDate", "address", "nationality", "identifier",
    "maritalStatus", "phone",
)
EVENT_FACTS = {
    "birth": ("placeOfBirth", "birthType", "weightAtBirth", "attendantAtBirth"),
    "death": ("placeOfDeath", "mannerOfDeath", "causeOfDeathEstablished", "causeOfDeathMethod"),
}
COMMON_FACTS = ("informant.type", "contact.phone", "contact.email")

# Built-in "complete declaration" rule; a country overrides it with a JSON file (docs).
DEFAULT_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "birth": (
        "child.name", "child.gender", "child.birthDate", "placeOfBirth",
        "mother.name", "mother.birthDate", "mother.nationality", "mother.identifier",
        "mother.address", "informant.type", "contact.phone",
    ),
    "death": (
        "deceased.name", "deceased.gender", "deceased.birthDate", "deceased.deathDate",
        "deceased.nationality", "deceased.identifier", "deceased.address", "placeOfDeath",
        "mannerOfDeath", "informant.type", "contact.phone",
    ),
}

_DATE = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2}))?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_FULL_URL = re.compile(r"^\S{1,255}$")


def known_fields(event: str) -> frozenset[str]:
    """Return every field name a required-field list may use for an event."""
    roles = {"birth": ("child", "mother", "father", "informant"),
             "death": ("deceased", "spouse", "mother", "father", "informant")}[event]
    people = {f"{role}.{fact}" for role in roles for fact in PERSON_FACTS}
    return frozenset(people | set(EVENT_FACTS[event]) | set(COMMON_FACTS))


def parse_fhir_date(value: str) -> date | None:
    """Return the date of a FHIR date or dateTime; None if it is not a full, valid date."""
    match = _DATE.match(value[:10]) if len(value) >= 10 else _DATE.match(value)
    if not match or not match.group(5):
        return None
    try:
        return date(int(match.group(1)), int(match.group(3)), int(match.group(5)))
    except ValueError:
        return None


def is_fhir_date(value: str) -> bool:
    """Tell whether a string is a valid FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    match = _DATE.match(value)
    if not match:
        return False
    month = int(match.group(3) or 1)
    if not 1 <= month <= 12:
        return False
    return not match.group(5) or parse_fhir_date(value) is not None


def is_fhir_datetime(value: str) -> bool:
    """Tell whether a string is a FHIR date or dateTime."""
    if is_fhir_date(value):
        return True
    return bool(_DATETIME.match(value)) and parse_fhir_date(value) is not None


def is_full_url(value: str) -> bool:
    """Tell whether an entry fullUrl is usable (a non-empty token without spaces)."""
    return bool(_FULL_URL.match(value))


# ISO 3166-1 alpha-3 codes (officially assigned), for addresses outside the home country.
_ISO3166_ALPHA3_CODES = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
    BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
    COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
    ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
    GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
    JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
    MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
    NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
    PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
    SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
    UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
    """
ISO3166_ALPHA3 = frozenset(_ISO3166_ALPHA3_CODES.split())


def is_known_country(code: str, home_country: str) -> bool:
    """Tell whether a country code is the home country or an ISO 3166 alpha-3 code."""
    return code == home_country or code in ISO3166_ALPHA3
