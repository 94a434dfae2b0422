"""Real-browser tests: the pages and the notebooks in Chromium."""
