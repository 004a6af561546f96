from ninja import NinjaAPI

from carnet.api import problems
from carnet.api.v1.booking import router as booking_router
from carnet.api.v1.directory import router as directory_router
from carnet.api.v1.pro import router as pro_router
from carnet.api.v1.scheduling import router as scheduling_router

api = NinjaAPI(
    title="Carnet API",
    version="1",
    description="Find a practitioner, see free slots, book, move and cancel appointments.",
    docs_url="/docs",
    urls_namespace="api",
)
problems.install(api)
api.add_router("/v1/", directory_router)
api.add_router("/v1/", scheduling_router)
api.add_router("/v1/", booking_router)
api.add_router("/v1/", pro_router)
