"""The country's declaration form file: read from the country folder, refused when it names what
CRVS Hub cannot map, checked before the server starts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crvshub.settings import BUILTIN_COUNTRY_DIR
from crvshub.web import form_bundle
from crvshub.web.form_config import CONFIG_FILE, FormConfigError, forms, label


def country_with(tmp_path: Path, change: dict[str, object]) -> Path:
    folder = tmp_path / "country"
    shutil.copytree(BUILTIN_COUNTRY_DIR, folder)
    raw = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    raw["birth"]["sections"][0]["fields"].append(change)
    (folder / CONFIG_FILE).write_text(json.dumps(raw), encoding="utf-8")
    return folder


def test_the_builtin_forms_read_in_both_languages() -> None:
    birth = forms(BUILTIN_COUNTRY_DIR)["birth"]
    child = birth.sections[0]
    assert label(child.title, "fr") == "Enfant" and label(child.title, "en") == "Child"
    assert label(child.title, "sw") == "Child"  # no Swahili label: English
    death = forms(BUILTIN_COUNTRY_DIR)["death"]
    assert {"deceased.deathDate", "mannerOfDeath", "spouse.given"} <= {
        f.name for f in death.fields()}
    assert birth.documents.max_bytes == 1024 * 1024


def test_a_country_may_add_a_field_from_the_known_names(tmp_path: Path) -> None:
    folder = country_with(tmp_path, {"name": "child.nationalId", "type": "text",
                                     "label": "Child's ID", "fact": "child.identifier"})
    names = [f.name for f in forms(folder)["birth"].sections[0].fields]
    assert names[-1] == "child.nationalId"


@pytest.mark.parametrize("bad", [
    {"name": "child.shoeSize", "type": "text", "label": "Shoe size"},
    {"name": "child.given", "type": "colour", "label": "Given"},
    {"name": "child.given", "type": "text", "label": "Given", "fact": "child.shoeSize"},
    {"name": "child.given", "type": "text", "label": 7},
])
def test_a_field_crvs_hub_cannot_map_is_refused(tmp_path: Path, bad: dict[str, object]) -> None:
    with pytest.raises(FormConfigError):
        forms(country_with(tmp_path, bad))


def test_written_values_read_back_the_same() -> None:
    values = {"deceased.given": "Peter", "deceased.family": "Zulu", "deceased.gender": "male",
              "deceased.deathDate": "2026-01-06", "mannerOfDeath": "NATURAL_CAUSES",
              "causeOfDeathEstablished": "true", "causeOfDeathMethod": "PHYSICIAN",
              "informant.type": "SON", "informant.given": "John", "informant.family": "Zulu",
              "spouse.given": "Ruth", "contact.email": "john@example.org",
              "place.type": "OTHER", "place.addressLine": "Market square"}
    bundle = form_bundle.write(form_bundle.empty_bundle("death"), "death", values, {}, {})
    assert form_bundle.values_of(bundle, "death") == values


def test_the_server_does_not_start_with_a_bad_form_file(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = country_with(tmp_path, {"name": "child.shoeSize", "type": "text", "label": "Shoe"})
    env = {**os.environ, "CRVSHUB_COUNTRY_DIR": str(folder),
           "CRVSHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}

    def crvshub(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crvshub", command], capture_output=True,
                              text=True, timeout=120, env=env, check=False)

    assert crvshub("migrate").returncode == 0
    result = crvshub("serve")
    assert result.returncode == 2, result.stderr
    assert "child.shoeSize" in result.stderr and "Traceback" not in result.stderr
