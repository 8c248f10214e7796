"""The web pages: listeners on their phones, speakers and interpreters, and managers.

Plain HTML, CSS and JavaScript served as package data: nothing to build.
"""

from livevent.web.pages import STATIC_DIR, install_pages, page

__all__ = ["STATIC_DIR", "install_pages", "page"]
