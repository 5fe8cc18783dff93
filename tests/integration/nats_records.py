#!/usr/bin/env python3
"""Flow and dnstap telemetry with known temporal hits, for test_nats_flow_temporal.sh.

  nats_records.py write DIR PHASES
      DIR/flows.pcap     the IPFIX datagrams of all phases, captured (raw IP, 127.0.0.1 ->
                         127.0.0.1:2055): what accord match reads as one source
      DIR/dnstap.fstrm   the dnstap messages of all phases, one Frame Streams file
      DIR/flows.K, DIR/dnstap.K   phase K's datagrams / frames (4-byte length before each)
      prints "FLOWS n1 n2 ..." and "DNSTAP m1 m2 ...": records and messages per phase
  nats_records.py send-flows PORT FILE       phase FILE's datagrams to 127.0.0.1:PORT
  nats_records.py send-dnstap SOCKET FILE    phase FILE's frames on one Frame Streams connection

Flow record i (one a second from T0): to 198.51.100.7 when i % 37 == 5, from 203.0.113.N when
i % 41 == 7.  dnstap message j (one a second from T0): a query for hJ.evil.example when
j % 31 == 3, else for wwwJ.example.com; every message with j % 43 == 10 is a response whose A
answer is 198.51.100.9.
"""
import socket
import struct
import sys

T0 = 1700000000
FLOWS, DNSTAP = 900, 600
PER_DATAGRAM = 10
# sourceIPv4Address, destinationIPv4Address, ports, protocol, octets, packets, start/end ms
TEMPLATE = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]


def ip4(s):
    return socket.inet_aton(s)


def flow(i):
    dst = "198.51.100.7" if i % 37 == 5 else "192.0.2.%d" % (1 + i % 200)
    src = "203.0.113.%d" % (i % 250) if i % 41 == 7 else "10.0.%d.%d" % (i // 250, 1 + i % 250)
    ms = (T0 + i) * 1000
    return (ip4(src) + ip4(dst) + struct.pack("!HHB", 40000 + i % 20000, [443, 80, 22][i % 3], 6)
            + struct.pack("!QQQQ", 100 + i, 1 + i % 5, ms, ms + 500))


def ipfix(seq, records, with_template):
    sets = b""
    if with_template:
        body = struct.pack("!HH", 256, len(TEMPLATE))
        body += b"".join(struct.pack("!HH", ie, n) for ie, n in TEMPLATE)
        sets += struct.pack("!HH", 2, 4 + len(body)) + body
    data = b"".join(records)
    sets += struct.pack("!HH", 256, 4 + len(data)) + data
    return struct.pack("!HHIII", 10, 16 + len(sets), T0, seq, 1) + sets


def name_wire(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns(j, response):
    name = "h%d.evil.example" % j if j % 31 == 3 else "www%d.example.com" % j
    hdr = struct.pack("!HHHHHH", j & 0xffff, 0x8180 if response else 0x0100, 1, 1 if response else 0, 0, 0)
    q = name_wire(name) + struct.pack("!HH", 1, 1)
    ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + ip4("198.51.100.9") if response else b""
    return hdr + q + ans


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80])
        v >>= 7
    return out + bytes([v])


def field(n, wt, payload):
    key = varint(n << 3 | wt)
    if wt == 0:
        return key + varint(payload)
    if wt == 5:
        return key + struct.pack("<I", payload)
    return key + varint(len(payload)) + payload


def dnstap(j):
    response = j % 43 == 10
    m = field(1, 0, 6 if response else 5) + field(2, 0, 1) + field(3, 0, 1)
    m += field(4, 2, ip4("10.1.%d.%d" % (j // 250, 1 + j % 250))) + field(5, 2, ip4("127.0.0.1"))
    m += field(6, 0, 30000 + j) + field(7, 0, 53)
    if response:
        m += field(12, 0, T0 + j) + field(13, 5, 0) + field(14, 2, dns(j, True))
    else:
        m += field(8, 0, T0 + j) + field(9, 5, 0) + field(10, 2, dns(j, False))
    return field(1, 2, b"accord-test") + field(14, 2, m) + field(15, 0, 1)


CT = b"protobuf:dnstap.Dnstap"
START = b"\0\0\0\0" + struct.pack("!III", 12 + len(CT), 2, 1) + struct.pack("!I", len(CT)) + CT
STOP = b"\0\0\0\0" + struct.pack("!II", 4, 3)


def frames(msgs):
    return b"".join(struct.pack("!I", len(m)) + m for m in msgs)


def pcap(datagrams):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)
    for k, d in enumerate(datagrams):
        udp = struct.pack("!HHHH", 40000, 2055, 8 + len(d), 0) + d
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xffff, 0, 64, 17, 0,
                         ip4("127.0.0.1"), ip4("127.0.0.1")) + udp
        out += struct.pack("<IIII", T0 + k, 0, len(ip), len(ip)) + ip
    return out


def cuts(n, phases):
    return [n * k // phases for k in range(phases + 1)]


def write(d, phases):
    fc, dc = cuts(FLOWS, phases), cuts(DNSTAP, phases)
    every, seq = [], 0
    for k in range(phases):
        recs = [flow(i) for i in range(fc[k], fc[k + 1])]
        grams = []
        for at in range(0, len(recs), PER_DATAGRAM):
            part = recs[at:at + PER_DATAGRAM]
            grams.append(ipfix(seq, part, at == 0))  # each phase starts with the template
            seq += len(part)
        with open("%s/flows.%d" % (d, k + 1), "wb") as f:
            f.write(b"".join(struct.pack("!I", len(g)) + g for g in grams))
        with open("%s/dnstap.%d" % (d, k + 1), "wb") as f:
            f.write(frames([dnstap(j) for j in range(dc[k], dc[k + 1])]))
        every += grams
    with open(d + "/flows.pcap", "wb") as f:
        f.write(pcap(every))
    with open(d + "/dnstap.fstrm", "wb") as f:
        f.write(START + frames([dnstap(j) for j in range(DNSTAP)]) + STOP)
    print("FLOWS", *[fc[k + 1] - fc[k] for k in range(phases)])
    print("DNSTAP", *[dc[k + 1] - dc[k] for k in range(phases)])


def chunks_of(path):
    b = open(path, "rb").read()
    at, out = 0, []
    while at < len(b):
        (n,) = struct.unpack("!I", b[at:at + 4])
        out.append(b[at + 4:at + 4 + n])
        at += 4 + n
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "write":
        write(sys.argv[2], int(sys.argv[3]))
    elif cmd == "send-flows":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for g in chunks_of(sys.argv[3]):
            s.sendto(g, ("127.0.0.1", int(sys.argv[2])))
        s.close()
    elif cmd == "send-dnstap":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[2])
        s.sendall(START + frames(chunks_of(sys.argv[3])) + STOP)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # the reader closes once it has read the STOP frame
        s.close()
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
