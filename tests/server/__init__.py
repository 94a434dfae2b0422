"""The tests of wstutorial/server/, one file per module."""
