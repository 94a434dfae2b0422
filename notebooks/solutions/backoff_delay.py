import random


def delay(attempt, initial, maximum):
    """Seconds to wait before reconnection attempt `attempt` (1, 2, 3, ...).

    The cap doubles with each attempt, from `initial`, but never exceeds `maximum`;
    the wait is a random part of the cap (jitter), so many clients spread out.
    """
    cap = min(maximum, initial * 2 ** (attempt - 1))
    return random.uniform(0, cap)
