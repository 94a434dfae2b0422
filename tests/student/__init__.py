"""The tests of wstutorial/student/, one file per module."""
