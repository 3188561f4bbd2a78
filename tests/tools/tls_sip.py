#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""SIP over TLS test client (python's ssl module; Debian's sipp has no TLS).

  tls_sip.py HOST PORT MODE [--ca F] [--cert F --key F] [--timeout S]

MODE:
  options   OPTIONS to the edge; prints the status code of the answer
  register  REGISTER user@example.com; prints the status code
  invite    INVITE (SDP offer) / ACK / BYE through the route set; prints
            "invite=<code> bye=<code>"
  plain     plain-text OPTIONS on the TLS port; prints "closed" or what came back
  stall     connect, send nothing; prints the seconds until the edge closed it
  serve     a TLS registrar on HOST:PORT (--cert/--key): answers each request
            with 200 (headers echoed, the Contact with expires=300) for
            --timeout seconds; prints "requests=<n>"
Exit status 0 when the exchange ran (the printed result says how), 2 when the
TLS handshake failed (printed: "handshake-failed: <reason>").
"""
import argparse
import random
import re
import socket
import ssl
import sys
import time


def ctx_of(a):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.ca:
        c.load_verify_locations(a.ca)
    c.check_hostname = False  # the edge's certificate names its IP address
    if a.cert:
        c.load_cert_chain(a.cert, a.key)
    return c


class Conn:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def send(self, text):
        self.s.sendall(text.replace("\n", "\r\n").encode())

    def recv_msg(self, timeout):
        end = time.time() + timeout
        while True:
            m = re.search(rb"\r\n\r\n", self.buf)
            if m:
                head = self.buf[: m.end()]
                cl = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                n = m.end() + (int(cl.group(1)) if cl else 0)
                if len(self.buf) >= n:
                    msg, self.buf = self.buf[:n].decode(errors="replace"), self.buf[n:]
                    return msg
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except (socket.timeout, TimeoutError):
                return None
            if not d:
                return None
            self.buf += d

    def final(self, timeout):
        """The first final response (>= 200)."""
        while True:
            m = self.recv_msg(timeout)
            if m is None:
                return None
            code = int(m.split(" ", 2)[1]) if m.startswith("SIP/2.0 ") else 0
            if code >= 200:
                return m


def req(method, ruri, local, cid, cseq, extra="", body="", to_tag=""):
    lh, lp = local
    host = "[%s]" % lh if ":" in lh else lh
    return (
        "%s %s SIP/2.0\n"
        "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK%x;rport\n"
        "Max-Forwards: 70\n"
        "From: <sip:alice@example.com>;tag=tl1\n"
        "To: <sip:bob@example.com>%s\n"
        "Call-ID: %s\n"
        "CSeq: %d %s\n"
        "Contact: <sip:alice@%s:%d;transport=tls>\n"
        "%s"
        "Content-Length: %d\n\n%s"
        % (method, ruri, host, lp, random.getrandbits(48), to_tag, cid, cseq, method,
           host, lp, extra, len(body.replace("\n", "\r\n")), body)
    )


def code_of(m):
    return m.split(" ", 2)[1] if m else "none"


def answer(m):
    lines = m.split("\r\n")
    keep = [l for l in lines[1:] if re.match(r"(?i)(via|from|to|call-id|cseq|contact):", l)]
    out = []
    for l in keep:
        if re.match(r"(?i)to:", l) and ";tag=" not in l:
            l += ";tag=core"
        if re.match(r"(?i)contact:", l):
            l += ";expires=300"
        out.append(l)
    return "SIP/2.0 200 OK\r\n" + "\r\n".join(out) + "\r\nContent-Length: 0\r\n\r\n"


def serve(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    ls = socket.create_server((a.host, a.port), family=socket.AF_INET6 if ":" in a.host else socket.AF_INET)
    ls.settimeout(0.5)
    end, n = time.time() + a.timeout, 0
    conns = []
    while time.time() < end:
        try:
            raw, _ = ls.accept()
            try:
                raw.settimeout(3)
                conns.append(Conn(ctx.wrap_socket(raw, server_side=True)))
            except (ssl.SSLError, OSError):
                raw.close()
        except (socket.timeout, TimeoutError):
            pass
        for c in conns[:]:
            m = c.recv_msg(0.05)
            if m and not m.startswith("SIP/2.0"):
                n += 1
                c.s.sendall(answer(m).encode())
    print("requests=%d" % n)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("mode")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--media", default="203.0.113.10:4100")
    a = p.parse_args()
    if a.mode == "serve":
        return serve(a)
    raw = socket.create_connection((a.host, a.port), timeout=a.timeout)
    if a.mode == "stall":
        t0 = time.time()
        raw.settimeout(60)
        try:
            while raw.recv(4096):
                pass
        except OSError:
            pass
        print("%.1f" % (time.time() - t0))
        return 0
    if a.mode == "plain":
        raw.sendall(b"OPTIONS sip:%s SIP/2.0\r\nContent-Length: 0\r\n\r\n" % a.host.encode())
        raw.settimeout(a.timeout)
        try:
            d = raw.recv(4096)
        except OSError:
            d = b""
        print("closed" if not d or not d.startswith(b"SIP/2.0") else d[:40].decode(errors="replace"))
        return 0
    try:
        s = ctx_of(a).wrap_socket(raw, server_hostname=a.host)
        s.do_handshake()
        # TLS 1.3: a refused client certificate shows at the first read.
        s.settimeout(0.3)
        try:
            d = s.recv(1)
        except (socket.timeout, TimeoutError):
            d = None
        except (ssl.SSLError, OSError) as e:
            print("handshake-failed: %s" % e)
            return 2
        if d == b"":
            print("handshake-failed: closed")
            return 2
    except (ssl.SSLError, OSError) as e:
        print("handshake-failed: %s" % e)
        return 2
    c = Conn(s)
    if d:
        c.buf = d
    local = s.getsockname()[:2]
    edge = "[%s]" % a.host if ":" in a.host else a.host
    cid = "tls-%x" % random.getrandbits(40)
    if a.mode == "options":
        c.send(req("OPTIONS", "sip:%s:%d;transport=tls" % (edge, a.port), local, cid, 1))
        print(code_of(c.final(a.timeout)))
        return 0
    if a.mode == "register":
        c.send(req("REGISTER", "sip:example.com", local, cid, 1, "Expires: 300\n"))
        print(code_of(c.final(a.timeout)))
        return 0
    if a.mode == "invite":
        mip, mport = a.media.rsplit(":", 1)
        sdp = ("v=0\no=a 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio %s RTP/AVP 0\n"
               "a=rtpmap:0 PCMU/8000\na=sendrecv\n" % (mip, mip, mport))
        c.send(req("INVITE", "sip:bob@example.com", local, cid, 1,
                   "Content-Type: application/sdp\n", sdp))
        ok = c.final(a.timeout)
        if not ok or code_of(ok) != "200":
            print("invite=%s bye=none" % code_of(ok))
            return 0
        rr = re.findall(r"(?im)^Record-Route:\s*(.+?)\r?$", ok)
        routes = ", ".join(x.strip() for line in reversed(rr) for x in reversed(line.split(",")))
        to = re.search(r"(?im)^To:.*?;tag=([^;\s>]+)", ok).group(1)
        ct = re.search(r"(?im)^Contact:\s*<([^>]+)>", ok).group(1)
        extra = "Route: %s\n" % routes if routes else ""
        c.send(req("ACK", ct, local, cid, 1, extra, to_tag=";tag=" + to))
        time.sleep(1)
        c.send(req("BYE", ct, local, cid, 2, extra, to_tag=";tag=" + to))
        print("invite=200 bye=%s" % code_of(c.final(a.timeout)))
        return 0
    print("unknown mode")
    return 1


if __name__ == "__main__":
    sys.exit(main())
