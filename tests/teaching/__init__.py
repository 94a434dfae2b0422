"""The tests of wstutorial/teaching/, one file per module."""
