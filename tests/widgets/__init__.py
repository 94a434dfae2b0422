"""The tests of wstutorial/widgets/, one file per module."""
