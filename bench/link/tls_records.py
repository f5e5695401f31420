"""The TLS records of one captured TCP connection, per direction: which bytes
were the handshake and which carried application data, without decrypting
anything (record headers are in the clear)."""

HANDSHAKE_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake"}


def connections(packets):
    """Groups captured packets by the device's TCP port: {port: [packets]}."""
    out = {}
    for p in packets:
        if not p.src_port:
            continue
        port = p.src_port if p.to_server else p.dst_port
        out.setdefault(port, []).append(p)
    return out


def records(packets, to_server):
    """[(content type, record length incl. its 5-byte header)] of one
    direction; the captured segments arrive in order on the wire (no loss,
    constant delay), so the stream is their payloads concatenated (a
    retransmitted segment would be counted twice: the bench's wire drops
    nothing)."""
    stream = b"".join(p.payload for p in packets if p.to_server == to_server)
    out = []
    i = 0
    while i + 5 <= len(stream):
        length = int.from_bytes(stream[i + 3:i + 5], "big")
        out.append((stream[i], 5 + length))
        i += 5 + length
    return out


def summary(packets):
    """Bytes of one connection: on the wire (IP packets), in TLS handshake
    records and in application data records, each direction."""
    result = {}
    for to_server, name in ((True, "device_to_server"), (False, "server_to_device")):
        recs = records(packets, to_server)
        result[name] = {
            "ip_bytes": sum(p.size for p in packets if p.to_server == to_server),
            "packets": sum(1 for p in packets if p.to_server == to_server),
            "tls_handshake_bytes": sum(n for t, n in recs if t in HANDSHAKE_TYPES),
            "application_records": [n for t, n in recs if t == 23],
        }
    return result
