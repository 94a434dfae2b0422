# Start a second server on a free port (port=0), show its page, then stop it.
import wstutorial

extra = ...  # your code here: start it, print extra.page_url("hello.html"), stop it
