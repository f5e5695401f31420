"""The board's status page fetched as an operator does: `sublink-server
admin forward SYSTEM status --listen 127.0.0.1:0`, then curl through that
port, two fetches at once and two bad requests; each answer is judged
whole (status line, Content-Length against the body) and the page must
name the board's real state."""
import re
import subprocess

from .console import StepFailed

STEP = "status page"
CURL = "/usr/bin/curl"


def page_problem(response, system_id, features):
    """What is wrong with one `curl -i` answer to GET / (None: nothing):
    HTTP/1.0 200, the whole body by its Content-Length, and the page naming
    the system, state licensed, each feature with its quantity and the link
    up."""
    problem, body = answer_problem(response, "200 OK")
    if problem:
        return problem
    for line in ("sublink status of %s\n" % system_id, "\nstate: licensed\n", "\nlink: up, port "):
        if line not in body:
            return "the page does not say %r:\n%s" % (line.strip(), body)
    m = re.search(r"^license: \S+, expires \d+ \(UTC ms\), features(.*)$", body, re.M)
    if not m:
        return "the page names no license with its features:\n%s" % body
    shown = dict(f.split("=", 1) for f in m.group(1).split())
    expected = {name: str(qty) for name, qty in features}
    if shown != expected:
        return "the page shows features %s, the server entitled %s" % (shown, expected)
    if not body.rstrip("\n").splitlines()[-1].startswith("last_failure: "):
        return "the page does not end with its last line (last_failure):\n%s" % body
    return None


def answer_problem(response, status):
    """(problem or None, body) of one `curl -i` answer that should carry
    `status` ("405 Method Not Allowed"): the status line and a body of
    exactly Content-Length bytes."""
    head, sep, body = response.partition("\r\n\r\n")
    if not sep:
        return "no end of the response head in %r" % response[:200], ""
    lines = head.split("\r\n")
    if lines[0] != "HTTP/1.0 " + status:
        return "status line %r, expected 'HTTP/1.0 %s'" % (lines[0], status), body
    lengths = [line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("content-length:")]
    if len(lengths) != 1 or not lengths[0].isdigit():
        return "no single Content-Length in the head:\n%s" % head, body
    if int(lengths[0]) != len(body.encode()):
        return "Content-Length %s but %d bytes of body arrived" % (lengths[0], len(body.encode())), body
    return None, body


def check(server, db, system_id, features, wrap, timeout_s):
    """Opens the forward, fetches the page twice in parallel and sends two
    bad requests, then closes the forward. `wrap` turns an argv into one run
    where the server is (inside its namespace). Returns a one-line summary;
    raises StepFailed naming what went wrong."""
    admin = [server, "admin", "--db", db]
    opened = _run(wrap(admin + ["forward", system_id, "status", "--listen", "127.0.0.1:0", "--operator", "mps2-test"]),
                  timeout_s)
    m = re.search(r"127\.0\.0\.1:(\d+)", opened.stdout)
    if opened.returncode != 0 or not m:
        raise StepFailed(STEP, "admin forward failed (exit %s): %s" % (opened.returncode,
                                                                      (opened.stderr or opened.stdout).strip()))
    listen = "127.0.0.1:%s" % m.group(1)
    try:
        url = "http://%s/" % listen
        curl = [CURL, "-sS", "-i", "--max-time", str(int(timeout_s))]
        fetches = [subprocess.Popen(wrap(curl + [url]), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                   for _ in range(2)]
        pages = []
        for p in fetches:
            out, err = p.communicate(timeout=timeout_s + 5)
            if p.returncode != 0:
                raise StepFailed(STEP, "curl %s failed (exit %s): %s" % (url, p.returncode, err.decode().strip()))
            pages.append(out.decode(errors="replace"))
        for page in pages:
            problem = page_problem(page, system_id, features)
            if problem:
                raise StepFailed(STEP, problem)
        for extra, status in ((["-X", "POST", "--data", "x=1"], "405 Method Not Allowed"),
                              ([], "404 Not Found")):
            target = url if extra else url + "admin"
            r = _run(wrap(curl + extra + [target]), timeout_s)
            problem, _ = answer_problem(r.stdout, status) if r.returncode == 0 else (r.stderr.strip(), "")
            if problem:
                raise StepFailed(STEP, "%s %s: %s" % (" ".join(extra) or "GET", target, problem))
    finally:
        _run(wrap(admin + ["forward", "--close", listen]), timeout_s)
    size = len(pages[0].partition("\r\n\r\n")[2])
    return "two parallel fetches through %s whole (%d-byte page), POST 405, /admin 404" % (listen, size)


def _run(argv, timeout_s):
    """The finished run; its stdout and stderr as text with CRLF kept (an
    HTTP head's line ends are part of what is judged)."""
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout_s + 5)
        r.stdout, r.stderr = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        return r
    except subprocess.TimeoutExpired:
        raise StepFailed(STEP, "%s did not finish within %.0f s" % (" ".join(argv), timeout_s + 5))
