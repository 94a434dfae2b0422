"""The teacher's tools before class: ``wheelhouse`` (every wheel the students need,
for ``classroom --wheels``), ``rehearsal`` (a simulated class against the
classroom server) and ``notes`` (the teacher's notes, shipped in the package).
All run from the command line (``python -m wstutorial wheelhouse`` /
``rehearse`` / ``notes``)."""
