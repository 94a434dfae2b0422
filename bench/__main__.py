"""``python -m bench``: every measurement (see ``bench.run``); ``python -m bench broadcast``: only the broadcast comparison."""

import sys

if sys.argv[1:2] == ["broadcast"]:
    from .broadcast import main as broadcast_main

    sys.exit(broadcast_main(sys.argv[2:]))

from .run import main

sys.exit(main())
