"""The org -> country seed checked on its own, without a build: keys, codes, evidence and the
provider groups the documented definitions name. Fast (reads two small files)."""

import csv
import re
from collections import defaultdict

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, SEED_CSV

SEEDS_YML = PROJECT_ROOT / "dbt_project" / "seeds" / "_seeds.yml"
COLUMNS = ["org", "provider", "country", "org_type", "is_heatmap_tracked", "evidence"]

# ISO 3166-1 alpha-2, the 249 officially assigned codes (no reserved ones such as UK, EU or XK).
ISO_ALPHA2 = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

# The provider groups the definitions (README, dim_organizations docs) name, exactly.
DOCUMENTED_PROVIDER_GROUPS = {
    "ByteDance": {"ByteDance", "ByteDance-Seed", "bytedance-research"},
    "Baidu": {"baidu", "PaddlePaddle"},
    "Alibaba Qwen": {"Qwen", "Wan-AI"},
    "Zhipu": {"zai-org", "THUDM"},
}

# Evidence must stand on its own: no paths to files on someone's machine.
LOCAL_PATH = re.compile(r"(^|[\s(;])(/|\.\./|~/)|realdata|\.csv\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def seed():
    with open(SEED_CSV, newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def accepted_values(column: str) -> set[str]:
    config = yaml.safe_load(SEEDS_YML.read_text())
    (seed,) = [s for s in config["seeds"] if s["name"] == "org_countries"]
    (col,) = [c for c in seed["columns"] if c["name"] == column]
    (test,) = [t["accepted_values"] for t in col["data_tests"] if isinstance(t, dict) and "accepted_values" in t]
    return set(test["arguments"]["values"])


def test_orgs_are_unique_case_insensitively(seed):
    seen = defaultdict(list)
    for row in seed:
        seen[row["org"].strip().lower()].append(row["org"])
    duplicates = {key: spellings for key, spellings in seen.items() if len(spellings) > 1}
    assert not duplicates
    assert all(row["org"] == row["org"].strip() and row["org"] for row in seed)


def test_countries_are_iso_codes_in_the_accepted_list(seed):
    accepted = accepted_values("country")
    assert accepted <= ISO_ALPHA2, sorted(accepted - ISO_ALPHA2)
    bad = {row["org"]: row["country"] for row in seed if row["country"] not in ISO_ALPHA2 or row["country"] not in accepted}
    assert not bad


def test_types_and_flags_are_from_their_lists(seed):
    types = accepted_values("org_type")
    assert {row["org"]: row["org_type"] for row in seed if row["org_type"] not in types} == {}
    assert {row["org"]: row["is_heatmap_tracked"] for row in seed if row["is_heatmap_tracked"] not in ("true", "false")} == {}


def test_every_row_has_self_contained_evidence(seed):
    assert [row["org"] for row in seed if not row["evidence"].strip()] == []
    assert {row["org"]: row["evidence"] for row in seed if LOCAL_PATH.search(row["evidence"])} == {}


def test_each_provider_has_one_country(seed):
    countries = defaultdict(set)
    for row in seed:
        assert row["provider"].strip(), row
        countries[row["provider"]].add(row["country"])
    assert {provider: sorted(c) for provider, c in countries.items() if len(c) > 1} == {}


def test_documented_provider_groups(seed):
    orgs_of = defaultdict(set)
    tracked_of = defaultdict(set)
    for row in seed:
        orgs_of[row["provider"]].add(row["org"])
        tracked_of[row["provider"]].add(row["is_heatmap_tracked"])
    for provider, orgs in DOCUMENTED_PROVIDER_GROUPS.items():
        assert orgs_of[provider] == orgs, provider
        # A group releases as one: its orgs are all heatmap-tracked or none is (zai-org with THUDM).
        assert len(tracked_of[provider]) == 1, (provider, tracked_of[provider])
