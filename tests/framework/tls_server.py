#!/usr/bin/env python3
"""A real HTTPS server for kgate's TLS tests (Python 3 standard library only).

Serves GET/HEAD of any path with 200 and a small HTML page over TLS with the given certificate,
optionally restricted to a TLS version range, with HSTS and extra headers on request.

  tls_server.py --cert C --key K --port-file F [--max-tls 1.1|1.2|1.3] [--min-tls ...]
                [--hsts] [--header 'Name: value' ...] [--verbose]

Binds 127.0.0.1 on an ephemeral port and writes the port to F (atomically) once listening, so
a test waits for the file rather than sleeping. Exits cleanly on SIGTERM or SIGINT.
"""

import argparse
import http.server
import os
import signal
import ssl
import sys
import warnings

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}

BODY = b"<!doctype html>\n<html><head><title>kgate tls test</title></head>" \
       b"<body><p>hello over tls</p></body></html>\n"

# Handshake and idle limit per connection: a client that connects and stalls only ties up its
# own worker thread, and only for this long.
CONNECTION_TIMEOUT = 10


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", required=True, help="PEM certificate (chain) file")
    p.add_argument("--key", required=True, help="PEM private key file")
    p.add_argument("--port-file", required=True, help="file to write the listening port to")
    p.add_argument("--max-tls", choices=sorted(VERSIONS), default="1.3")
    p.add_argument("--min-tls", choices=sorted(VERSIONS), default=None,
                   help="default 1.2, or 1.0 when --max-tls is below 1.2")
    p.add_argument("--hsts", action="store_true",
                   help="send Strict-Transport-Security: max-age=31536000; includeSubDomains")
    p.add_argument("--header", action="append", default=[], metavar="'Name: value'",
                   help="extra response header (repeatable)")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    headers = []
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            p.error(f"--header {h!r}: expected 'Name: value'")
        headers.append((name.strip(), value.strip()))
    args.header = headers
    return args


def make_context(args):
    max_v = VERSIONS[args.max_tls]
    min_v = VERSIONS[args.min_tls] if args.min_tls else (
        ssl.TLSVersion.TLSv1 if max_v < ssl.TLSVersion.TLSv1_2 else ssl.TLSVersion.TLSv1_2)
    if min_v > max_v:
        sys.exit(f"tls_server: --min-tls {args.min_tls} is above --max-tls {args.max_tls}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(args.cert, args.key)
    except (OSError, ssl.SSLError) as e:
        sys.exit(f"tls_server: cannot load --cert {args.cert} / --key {args.key}: {e}")
    if min_v < ssl.TLSVersion.TLSv1_2:
        # OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 handshake signatures) above security level 0.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        # Python warns that TLS 1.0/1.1 are deprecated; offering them is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = min_v
        ctx.maximum_version = max_v
    return ctx


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kgate-tls-test"
    timeout = CONNECTION_TIMEOUT

    def _headers(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        if self.server.hsts:
            self.send_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        for name, value in self.server.extra_headers:
            self.send_header(name, value)
        self.end_headers()

    def do_GET(self):
        self._headers()
        self.wfile.write(BODY)

    def do_HEAD(self):
        self._headers()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # do not wait for stalled clients on exit

    def __init__(self, args):
        self.ssl_context = make_context(args)
        self.hsts = args.hsts
        self.extra_headers = args.header
        self.verbose = args.verbose
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        # Runs in the per-connection thread. The TLS handshake happens here rather than on the
        # listening socket so a client that never finishes it cannot block accept().
        request.settimeout(CONNECTION_TIMEOUT)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            # Refused versions, untrusting clients and probes that hang up end up here.
            if self.verbose:
                print(f"tls_server: handshake with {client_address}: {e}", file=sys.stderr)
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)  # atomic: readers see no file or the whole port


def main(argv):
    args = parse_args(argv)
    server = Server(args)

    def on_signal(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        write_port_file(args.port_file, server.server_address[1])
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
