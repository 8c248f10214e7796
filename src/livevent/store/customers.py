"""Customers in the store: who events belong to, and their limits."""

from __future__ import annotations

from datetime import UTC, datetime

from livevent.errors import AlreadyExists, NotFound
from livevent.model import Customer, CustomerCreate
from livevent.store.database import Database, UniqueViolation

_CUSTOMER_COLUMNS = "id, name, max_live_events, max_listeners_per_event, created_at"


class CustomerRecords:
    """The customer half of `EventStore` (a mixin: one store, one database)."""

    database: Database

    async def create_customer(self, data: CustomerCreate) -> Customer:
        try:
            async with self.database.write() as connection:
                row = await connection.fetchrow(
                    "INSERT INTO customers (name, max_live_events, max_listeners_per_event,"
                    f" created_at) VALUES ($1, $2, $3, $4) RETURNING {_CUSTOMER_COLUMNS}",
                    data.name,
                    data.max_live_events,
                    data.max_listeners_per_event,
                    datetime.now(UTC),
                )
        except UniqueViolation:
            raise AlreadyExists(f"a customer named {data.name!r} already exists") from None
        assert row is not None
        return Customer.model_validate(row)

    async def ensure_customer(self, name: str) -> Customer:
        """The customer with this name, created with default limits if missing."""
        found = await self.find_customer(name)
        if found is not None:
            return found
        try:
            return await self.create_customer(CustomerCreate(name=name))
        except AlreadyExists:  # created by someone else meanwhile
            found = await self.find_customer(name)
            assert found is not None
            return found

    async def get_customer(self, customer_id: int) -> Customer:
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = $1", customer_id
            )
        if row is None:
            raise NotFound(f"customer {customer_id} does not exist", customer_id=customer_id)
        return Customer.model_validate(row)

    async def find_customer(self, name: str) -> Customer | None:
        async with self.database.read() as connection:
            row = await connection.fetchrow(
                f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE name = $1", name.strip()
            )
        return None if row is None else Customer.model_validate(row)

    async def list_customers(self) -> list[Customer]:
        async with self.database.read() as connection:
            rows = await connection.fetch(
                f"SELECT {_CUSTOMER_COLUMNS} FROM customers ORDER BY name"
            )
        return [Customer.model_validate(row) for row in rows]
