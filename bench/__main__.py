"""``python -m bench``: every measurement (see ``bench.run``); ``python -m bench broadcast``: only the broadcast comparison; ``python -m bench idle``: idle connections and the collector; ``python -m bench teacher-page``: the teacher's page with 1,000 students."""

import sys

if sys.argv[1:2] == ["broadcast"]:
    from .broadcast import main as broadcast_main

    sys.exit(broadcast_main(sys.argv[2:]))
if sys.argv[1:2] == ["teacher-page"]:
    from .teacher_page import main as teacher_page_main

    sys.exit(teacher_page_main(sys.argv[2:]))
if sys.argv[1:2] == ["idle"]:
    from .idle import main as idle_main

    sys.exit(idle_main(sys.argv[2:]))

from .run import main

sys.exit(main())
