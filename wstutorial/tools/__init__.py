"""The teacher's tools before class: ``wheelhouse`` (every wheel the students need,
for ``classroom --wheels``) and ``rehearsal`` (a simulated class against the
classroom server). Both run from the command line (``python -m wstutorial
wheelhouse`` / ``rehearse``)."""
