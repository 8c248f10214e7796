"""/api/customers: who events belong to, and their limits."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from livevent.auth.middleware import own_customer, require_admin
from livevent.http.appkeys import SERVICE
from livevent.http.operations import OperationTable, id_parameter, path_int, read_body
from livevent.model import Customer, CustomerCreate

table = OperationTable()


class CustomerList(BaseModel):
    items: list[Customer]


@table.add(
    "GET", "/api/customers", summary="List customers", tag="customers", response=CustomerList
)
async def list_customers(request: web.Request) -> web.Response:
    require_admin(request)
    customers = await request.app[SERVICE].list_customers()
    return web.json_response(text=CustomerList(items=customers).model_dump_json())


@table.add(
    "POST",
    "/api/customers",
    summary="Create a customer",
    tag="customers",
    status=201,
    body=CustomerCreate,
    response=Customer,
    errors=(400, 409, 422),
)
async def create_customer(request: web.Request) -> web.Response:
    require_admin(request)
    data = await read_body(request, CustomerCreate)
    customer = await request.app[SERVICE].create_customer(data)
    response = web.json_response(text=customer.model_dump_json(), status=201)
    response.headers["Location"] = f"/api/customers/{customer.id}"
    return response


@table.add(
    "GET",
    "/api/customers/{customer_id}",
    summary="A customer",
    tag="customers",
    response=Customer,
    errors=(404,),
    parameters=(id_parameter("customer_id", "the customer's id"),),
)
async def get_customer(request: web.Request) -> web.Response:
    customer_id = path_int(request, "customer_id")
    own_customer(request, customer_id)
    customer = await request.app[SERVICE].get_customer(customer_id)
    return web.json_response(text=customer.model_dump_json())
