"""App feeds: JSON Feed 1.1, RSS 2.0 and Atom per feed code, served with conditional GET, plus signed
webhook pushes to registered apps.

The connector writes feed state to disk (`store`); `serve.feeds_app` renders it on request; the
receiver emulator stands in for an app's webhook endpoint in tests and the sandbox.
"""

from connectors.appfeed.connector import AppFeedConfig, AppFeedConnector
from connectors.appfeed.serve import feeds_app

__all__ = ["AppFeedConfig", "AppFeedConnector", "feeds_app"]
