"""The organizer's side of browser tests: a customer's manager, and signing them in."""

from __future__ import annotations

from playwright.async_api import Page
from pydantic import SecretStr

from livevent.auth.accounts import Accounts
from livevent.model import CustomerCreate, Role, UserCreate
from livevent.runtime import LiveRuntime

PASSWORD = "correct horse battery"


async def user(
    runtime: LiveRuntime, email: str, role: Role, customer: int | None, name: str | None = None
) -> None:
    """A user of the runtime's store who signs in with `PASSWORD`."""
    service = runtime.service
    assert service is not None
    accounts = Accounts.from_settings(
        runtime.settings, users=service.store.users, bus=service.bus, verifier=runtime.verifier
    )
    data = UserCreate(
        email=email, name=name or email, role=role, customer_id=customer,
        password=SecretStr(PASSWORD),
    )  # fmt: skip
    await accounts.create_user(data)


async def manager(
    runtime: LiveRuntime, email: str, customer_name: str, name: str | None = None
) -> int:
    """A customer and its manager, who signs in with `PASSWORD`; the customer's id."""
    service = runtime.service
    assert service is not None
    customer = await service.store.create_customer(CustomerCreate(name=customer_name))
    await user(runtime, email, Role.MANAGER, customer.id, name)
    return customer.id


async def sign_in(page: Page, base: str, email: str) -> None:
    """The console at `base`, signed in as `email`: the events list shows."""
    await page.goto(f"{base}/manage")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Events", exact=True).wait_for()
