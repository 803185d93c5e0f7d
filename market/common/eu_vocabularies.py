"""The published controlled vocabularies DCAT-AP asks for, as far as the exchange uses them.

EU Publications Office authority tables (http://publications.europa.eu/resource/authority/...):
data themes, file types, languages, access rights, countries, currencies; IANA media types.
The Chinese labels of the data themes are the exchange's translation.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME_SCHEME = f"{AUTHORITY}data-theme"
ACCESS_RESTRICTED = f"{AUTHORITY}access-right/RESTRICTED"  # "available under certain conditions"
LANGUAGES = {"zh": f"{AUTHORITY}language/ZHO", "en": f"{AUTHORITY}language/ENG"}
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

DataTheme = Literal[
    "AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"
]
# (English label as published, Chinese label)
DATA_THEMES: dict[str, tuple[str, str]] = {
    "AGRI": ("Agriculture, fisheries, forestry and food", "农业、渔业、林业和食品"),
    "ECON": ("Economy and finance", "经济和金融"),
    "EDUC": ("Education, culture and sport", "教育、文化和体育"),
    "ENER": ("Energy", "能源"),
    "ENVI": ("Environment", "环境"),
    "GOVE": ("Government and public sector", "政府和公共部门"),
    "HEAL": ("Health", "卫生健康"),
    "INTR": ("International issues", "国际事务"),
    "JUST": ("Justice, legal system and public safety", "司法、法律制度和公共安全"),
    "REGI": ("Regions and cities", "地区和城市"),
    "SOCI": ("Population and society", "人口和社会"),
    "TECH": ("Science and technology", "科学和技术"),
    "TRAN": ("Transport", "交通运输"),
}

# IANA media type → EU file type, for the types sellers deliver in; others keep only their
# IANA media type (DCAT-AP `dcat:mediaType`) and state no `dct:format`.
FILE_TYPES: dict[str, str] = {
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/ld+json": "JSON_LD",
    "application/geo+json": "GEOJSON",
    "application/xml": "XML",
    "text/xml": "XML",
    "text/plain": "TXT",
    "text/turtle": "RDF_TURTLE",
    "application/rdf+xml": "RDF_XML",
    "application/pdf": "PDF",
    "application/zip": "ZIP",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/octet-stream": "OCTET",
}
# RFC 6838 §4.2: type "/" subtype, each a restricted name.
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def data_theme(code: str) -> str:
    return f"{DATA_THEME_SCHEME}/{code}"


def file_type(media_type: str) -> str | None:
    code = FILE_TYPES.get(media_type)
    return f"{AUTHORITY}file-type/{code}" if code else None


def media_type_iri(media_type: str) -> str:
    # A media type may hold characters an IRI may not (`^`) or reads otherwise (`#`): escaped.
    return f"{IANA_MEDIA_TYPES}{quote(media_type, safe='/+.-_')}"
