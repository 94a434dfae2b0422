"""The benchmark: the tutorial's server, stream and notebook view against plain
Tornado, the ``websockets`` library and raw TCP. Run ``python -m bench --help``.

Not part of the installed package: it runs from a checkout.
"""
