"""The HTTP gateway: the FastAPI app, its routers and schemas, dependencies, middleware and the one place
domain error codes become HTTP statuses."""
