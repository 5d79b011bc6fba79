"""One page, rendered from the module's template."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fabcom.api import module_settings


async def hello(request: Request) -> Response:
    from fabcom.web.templating import environment

    template = environment(request.state.locale).get_template("dummy/hello.html")
    return Response(template.render(greeting=module_settings("dummy").greeting), media_type="text/html")


routes = [Route("/", hello, name="hello")]
