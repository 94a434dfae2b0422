"""Real programs the later notebooks run next to the tutorial's server: Redis and nginx.

Each is started on a free loopback port, in a temporary folder, as this user,
and stopped again; when the program is not installed, ``ServiceMissing`` says
how to install it.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_import

__all__ = ["ServiceError", "ServiceMissing"]

if TYPE_CHECKING:
    from .local import ServiceError, ServiceMissing
else:
    lazy_import(globals(), {"ServiceError": "local", "ServiceMissing": "local"})
