# HttpCase mixin: after a browser run, wait until the test HTTP server has been quiet for a moment, so no late
# request from the closed browser shares the test cursor with what the test does next.
import threading
import time

#: A request the browser sent just before it was stopped can reach the server after Odoo's own wait for
#: request threads (seen under load: the POS's next screen asking for a category image): half a second with
#: no request thread means the browser's last connections have all been served.
QUIET_SECONDS = 0.5
#: The longest wait for that quiet; a request still running then is Odoo's own "remaining requests" case.
QUIET_LIMIT_SECONDS = 15.0


def _request_threads():
    return [t for t in threading.enumerate() if t.name.startswith("odoo.service.http.request.")]


class QuietAfterBrowser:
    def browser_js(self, *args, **kwargs):
        try:
            return super().browser_js(*args, **kwargs)
        finally:
            self._wait_http_quiet()

    def _wait_http_quiet(self, quiet=QUIET_SECONDS, limit=QUIET_LIMIT_SECONDS):
        deadline = time.monotonic() + limit
        last_busy = time.monotonic()
        while time.monotonic() < deadline:
            threads = _request_threads()
            if threads:
                for thread in threads:
                    thread.join(max(0.0, deadline - time.monotonic()))
                last_busy = time.monotonic()
            elif time.monotonic() - last_busy >= quiet:
                return
            else:
                time.sleep(0.05)
