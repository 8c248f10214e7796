"""Customers: who events belong to, and the limits they run under."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    max_live_events: int = Field(5, ge=1, le=10_000, description="concurrent LIVE events")
    max_listeners_per_event: int = Field(
        1000, ge=1, le=1_000_000, description="listeners per event"
    )


class Customer(CustomerCreate):
    model_config = ConfigDict(extra="ignore")

    id: int
    created_at: datetime
