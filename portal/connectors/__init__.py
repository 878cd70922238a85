"""Marketplace log formats (connectors): which fields an export fills, the column
names it uses, and how its cells read. See base.py; one module per marketplace."""
from portal.connectors.base import Connector, connector, connectors_for, register  # noqa: F401
from portal.connectors import generic, jd, tmall, vipshop  # noqa: F401,E402
