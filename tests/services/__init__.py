"""The tests of wstutorial/services/, one file per module."""
