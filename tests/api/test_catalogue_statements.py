"""An anonymous catalogue page costs the same few statements whatever its size: no query per
product. As JSON: the products, then their resources, in one query each (SQLite's BEGIN IMMEDIATE
counts as a third); as DCAT-AP linked data, their sellers and registration certificates too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.statement_counter import counted

PAGE_MAX = {False: 3, True: 5}  # by as_linked_data


@pytest.mark.parametrize("as_linked_data", [False, True])
async def test_a_catalogue_page_costs_the_same_few_statements_whatever_its_size(
    api: Api, app: Any, backend: str, as_linked_data: bool
) -> None:
    sellers = [await api.org() for _ in range(3)]
    for n in range(55):
        await listed_product(app, sellers[n % 3].participant_id)
    headers = {"Accept": "application/ld+json"} if as_linked_data else {}
    counts = {}
    for limit in (5, 50):
        with counted(app) as statements:
            page = await api.client.get(f"/v1/catalog?limit={limit}", headers=headers)
        assert page.status_code == 200, page.text
        if not as_linked_data:
            assert len(page.json()["items"]) == limit
        counts[limit] = statements
    print({k: len(v) for k, v in counts.items()}, *counts[50], sep="\n  ")
    assert len(counts[5]) == len(counts[50]) <= PAGE_MAX[as_linked_data], counts
