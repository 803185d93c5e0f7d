"""A world for a buyer in the console: a seller's registered file (one revision, one CSV) listed
at a fixed price, and a buyer whose prepaid balance an operator has confirmed topped up."""

from __future__ import annotations

from dataclasses import dataclass

from tests.api.factories import Api, Party
from tests.api.files_factories import file_product, finalise, new_resource, new_revision, register, upload
from tests.api.prepaid_factories import funded_buyer

CSV = "月份,企业数,营业收入\n2026-01,1200,35000000\n2026-02,1215,36100000\n".encode()
PRICE = {"kind": "fixed", "unit_price": "100.00", "currency": "CNY", "plan_version": 1}


@dataclass
class FileForSale:
    seller: Party
    buyer: Party
    operator: dict[str, str]
    account_id: str
    product_id: str
    content: bytes
    name: str = "monthly.csv"


async def file_for_sale(api: Api, balance_minor: int = 100_000) -> FileForSale:
    seller = await api.org(name="长春数据公司")
    operator = await api.staff("operator")
    resource_id = await new_resource(api, seller)
    revision_id = await new_revision(api, seller, resource_id)
    up = await upload(api, seller, resource_id, revision_id, "monthly.csv", CSV)
    assert up.status_code == 200, up.text
    await finalise(api, seller, resource_id, revision_id)
    await register(api, seller, operator, resource_id)
    product_id = await file_product(api, seller, resource_id, **PRICE)
    buyer, account_id = await funded_buyer(api, operator, balance_minor)
    return FileForSale(seller, buyer, operator, account_id, product_id, CSV)
