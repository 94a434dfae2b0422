# Start a second server on a free port (port=0), show its page, then stop it.
import wstutorial

extra = wstutorial.start_server(port=0)
print("second server:", extra.page_url("hello.html"))
print("clients closed when stopping:", extra.stop())
