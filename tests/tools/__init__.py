"""The tests of wstutorial/tools/, one file per module."""
