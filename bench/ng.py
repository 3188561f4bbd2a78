#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Minimal rtpengine ng-protocol client (bencode over UDP) for the bench.

  ng.py ADDR:PORT ping
  ng.py ADDR:PORT calls N CALLER_IP CALLER_PORT CALLEE_IP CALLEE_PORT
      sets up N calls with offer/answer, the same way a SIP proxy would:
      call i offers CALLER_IP:CALLER_PORT+2i and answers with
      CALLEE_IP:CALLEE_PORT+2i. Prints, one a line, the port rtpengine gave
      the caller (where the caller's media goes), i.e. the relay ports the
      load generator sends to.
  ng.py ADDR:PORT delete N
"""
import os
import re
import socket
import sys


def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(type(v))


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


class Ng:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.dst = (host, int(port))
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2.0)
        self.seq = 0

    def cmd(self, d):
        self.seq += 1
        cookie = b"%d_%d" % (os.getpid(), self.seq)
        msg = cookie + b" " + benc(d)
        for _ in range(3):  # bounded retries over UDP
            self.s.sendto(msg, self.dst)
            try:
                while True:
                    data, _ = self.s.recvfrom(65535)
                    if data.startswith(cookie + b" "):
                        return bdec(data, len(cookie) + 1)[0]
            except socket.timeout:
                continue
        raise RuntimeError("no answer from rtpengine at %s:%d" % self.dst)


def sdp(ip, port, sess):
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
            % (sess, ip, ip, port))


def media_port(sdp_bytes):
    m = re.search(rb"^m=audio (\d+) ", sdp_bytes, re.M)
    if not m:
        raise RuntimeError("no m=audio in rtpengine's SDP")
    return int(m.group(1))


def check(r, what):
    if r.get("result") != b"ok":
        raise RuntimeError("%s: %r" % (what, r))
    return r


def main():
    ng = Ng(sys.argv[1])
    op = sys.argv[2]
    if op == "ping":
        r = ng.cmd({"command": "ping"})
        sys.exit(0 if r.get("result") == b"pong" else 1)
    n = int(sys.argv[3])
    if op == "delete":
        for i in range(n):
            ng.cmd({"command": "delete", "call-id": "bench-%d" % i, "from-tag": "a%d" % i})
        return
    a_ip, a_port, b_ip, b_port = sys.argv[4], int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
    opts = {"replace": ["origin", "session-connection"], "ICE": "remove"}
    for i in range(n):
        cid = "bench-%d" % i
        check(ng.cmd(dict(opts, command="offer", **{"call-id": cid, "from-tag": "a%d" % i},
                          sdp=sdp(a_ip, a_port + 2 * i, i))), "offer " + cid)
        r = check(ng.cmd(dict(opts, command="answer",
                              **{"call-id": cid, "from-tag": "a%d" % i, "to-tag": "b%d" % i},
                              sdp=sdp(b_ip, b_port + 2 * i, i))), "answer " + cid)
        print(media_port(r["sdp"]))


if __name__ == "__main__":
    main()
