"""Every feature's router, in one list: a new feature is wired here and nowhere else."""

from __future__ import annotations

from fastapi import FastAPI

from market.participants.endpoints import router as participants_router

ROUTERS = [participants_router]


def include_all(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
