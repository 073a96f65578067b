"""The shared data's tables and how each must be read, from shared/data/MANIFEST.md."""

from __future__ import annotations

from typing import Any

# The "proper read" of every shared table, from MANIFEST.md sections 1, 2 and 2b.
PROPER_READS: dict[str, dict[str, Any]] = {
    "seaborn/titanic.csv": {},
    "seaborn/tips.csv": {},
    "seaborn/penguins.csv": {},
    "seaborn/diamonds.csv": {},
    "seaborn/mpg.csv": {},
    "seaborn/taxis.csv": {},
    "seaborn/iris.csv": {},
    "seaborn/planets.csv": {},
    "seaborn/car_crashes.csv": {},
    "messy/spam_latin1.csv": {"encoding": "latin-1"},
    "messy/crimedata_latin1_wide.csv": {"encoding": "latin-1", "na_values": "?"},
    "messy/superstore_semicolon_cp1252_decimalcomma.csv": {
        "sep": ";",
        "decimal": ",",
        "encoding": "cp1252",
    },
    "messy/AirQualityUCI_semicolon_decimalcomma.csv": {"sep": ";", "decimal": ","},
    "messy/superstore_macroman_CR_only.csv": {"encoding": "mac_roman"},
    "messy/superstore_utf8_bom.csv": {"encoding": "utf-8-sig"},
    "messy/HR_attrition_utf8_bom.csv": {"encoding": "utf-8-sig"},
    "messy/airbnb_toClean_utf8_bom.csv": {"encoding": "utf-8-sig"},
    "messy/hotel_bookings_subset.csv": {},
    "large/Skin_NonSkin.txt": {"sep": "\t", "header": None},
    "large/diabetic_data.csv": {"na_values": "?"},
    "large/IDs_mapping.csv": {},
}
