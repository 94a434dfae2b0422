"""The tests of wstutorial/classroom/, one file per module."""
