"""Buying in the console: a catalogue product's page, its quote (the API's `POST /v1/quotes`: the
trade rules run first, the quote is itemised and expires) and the order placed from it (the API's
`POST /v1/orders`, paid from the prepaid balance and so settled at once, or through the payment
provider: a bank transfer an operator confirms). The same use cases, so the same rules and audit
entries; the order page then leads to the licence and its files."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from market.catalog import products
from market.common.clock import now
from market.common.vocabulary import KNOWN_PURPOSES
from market.console.participant_pages import not_found, participant, private, refuse
from market.console.web import Console
from market.db.session import Session
from market.errors import MarketError, NotFound
from market.orders import quotes
from market.orders.schemas import QuoteCreate
from market.payments import checkout
from market.payments.endpoints import Provider
from market.payments.schemas import OrderPlace

router = APIRouter(include_in_schema=False)

PURPOSES = sorted(KNOWN_PURPOSES)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/console/products/{product_id}", response_class=HTMLResponse)
async def product_page(v: Console, session: Session, product_id: uuid.UUID) -> HTMLResponse:
    try:
        product = await products.get_product(session, v.principal, product_id)
    except NotFound as exc:
        return not_found(v, exc)
    can_buy = (
        v.principal is not None
        and v.principal.participant_id is not None
        and v.principal.has("buyer")
        and v.principal.participant_id != product.seller_id
        and product.listing_status == "listed"
    )
    return v.render("product.html", product=product, can_buy=can_buy, purposes=PURPOSES)


@router.post("/console/products/{product_id}/quote")
async def ask_quote(
    v: Console,
    product_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=200)],
    session: Session,
    quantity: Annotated[str, Form(max_length=40)] = "",
    purpose: Annotated[str, Form(max_length=80)] = "",
    scenario: Annotated[str, Form(max_length=400)] = "",
    cross_border: Annotated[bool, Form()] = False,
) -> Response:
    principal = participant(v, "buyer")
    v.check_csrf(csrf)
    back = f"/console/products/{product_id}"
    labels = {"quantity": v.t("quantity"), "purpose": v.t("purpose"), "scenario": v.t("scenario")}
    try:
        data = QuoteCreate.model_validate(
            {
                "product_id": product_id,
                "quantity": int(quantity) if quantity.strip().isdigit() else quantity,
                "purpose": purpose,
                "scenario": scenario,
                "cross_border": cross_border,
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        message = f"{v.t('invalid_input')}: {labels.get(field, field)}: {error['msg']}"
        return v.redirect(back, flash=("error", message))
    try:
        quote = await quotes.issue_quote(session, v.settings, principal, data)
    except MarketError as exc:
        return await refuse(v, session, exc, back)
    return v.redirect(f"/console/me/quotes/{quote.id}")


@router.get("/console/me/quotes/{quote_id}", response_class=HTMLResponse)
async def quote_page(v: Console, session: Session, quote_id: uuid.UUID) -> HTMLResponse:
    principal = participant(v)
    try:
        quote = await quotes.visible_quote(session, principal, quote_id)
    except NotFound as exc:
        return not_found(v, exc)
    product = await products.find(session, quote.product_id)
    return private(
        v.render(
            "quote.html",
            quote=quote,
            product=product,
            lines=quote.body.get("lines", []),
            expired=now() >= quote.expires_at,
            own=quote.buyer_id == principal.participant_id,
        )
    )


@router.post("/console/me/quotes/{quote_id}/order")
async def place_order(
    v: Console,
    quote_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=200)],
    session: Session,
    provider: Provider,
    payment_method: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    principal = participant(v, "buyer")
    v.check_csrf(csrf)
    back = f"/console/me/quotes/{quote_id}"
    try:
        data = OrderPlace.model_validate({"quote_id": quote_id, "payment_method": payment_method})
    except ValidationError as exc:
        message = f"{v.t('invalid_input')}: {v.t('payment_method')}: {exc.errors()[0]['msg']}"
        return v.redirect(back, flash=("error", message))
    from_balance = data.payment_method == "account"
    try:
        order = await checkout.place_order(
            session, v.settings, provider, principal, data.quote_id, from_balance=from_balance
        )
        shown = await checkout.delivery_now(session, v.settings, principal, order) if from_balance else None
    except MarketError as exc:
        return await refuse(v, session, exc, back)
    target = f"/console/me/orders/{order.id}"
    if shown and shown.get("access_credential"):
        # An API product's credential is shown this once (as the API's answer shows it).
        page = v.render(
            "secret_once.html",
            heading=v.t("order_placed"),
            label=v.t("access_credential"),
            secret=str(shown["access_credential"]),
            next_url=target,
        )
        page.headers.update(NO_STORE)
        return page
    return v.redirect(target, flash=("ok", v.t("order_placed")))
