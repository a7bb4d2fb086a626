"""``mendoza view``: a local web app over the store to look at the data, overrule the grader and compare
runs. Server-rendered pages (Jinja2, every value escaped) with a ``.json`` twin each, a little JavaScript from
a static file, served by uvicorn on 127.0.0.1 unless a token guards it."""

from mendoza.viewer.app import create_app, open_viewer_store
from mendoza.viewer.server import parse_tokens, serve

__all__ = ["create_app", "open_viewer_store", "parse_tokens", "serve"]
