"""What the notebooks teach with: exercise self-checks, the protocol by hand, page links, the set-up check."""
