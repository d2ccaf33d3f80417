"""The dashboard API: FastAPI app factory, auth, routes, metrics and housekeeping jobs."""
