"""``python -m bench``: every measurement (see ``bench.run``); ``python -m bench broadcast``: only the broadcast comparison; ``python -m bench echo``: only the echo comparison; ``python -m bench idle``: idle connections and the collector."""

import sys

if sys.argv[1:2] == ["broadcast"]:
    from .broadcast import main as broadcast_main

    sys.exit(broadcast_main(sys.argv[2:]))
if sys.argv[1:2] == ["echo"]:
    from .echo import main as echo_main

    sys.exit(echo_main(sys.argv[2:]))
if sys.argv[1:2] == ["idle"]:
    from .idle import main as idle_main

    sys.exit(idle_main(sys.argv[2:]))

from .run import main

sys.exit(main())
