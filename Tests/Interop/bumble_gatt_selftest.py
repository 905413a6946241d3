#!/usr/bin/env python3
"""Bumble against Bumble: proves bumble_gatt_peer.py's gatt-server and gatt-client work together.

    $(scripts/setup-bumble.sh) Tests/Interop/bumble_gatt_selftest.py

Starts bumble_controllers.py, a gatt-server on C1 (serving two connections) and, on C0, two
gatt-client runs against it: one at MTU 247, one without an MTU exchange (MTU 23), each running
every op kind. Checks the client's discovery dump against the server's own dump line by line, every
value read, the echo of every write, the STREAM notifications and indications, the SINK counts,
refused reads and writes, and the server's MTU / SUBSCRIBED / SENT / SINK lines. Prints ``OK`` /
``FAIL`` lines and ``RESULT PASS|FAIL``; exit code 0 only on PASS. About 5 s; every wait bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
U = '6E0A-4B5E-9C2D-2F1A7D3E8B10'
READ, ECHO, STREAM, LONG, SINK, EDGE = (f'3C5B00{n:02X}-{U}' for n in (1, 2, 3, 5, 7, 8))
READ_VALUE = b'Bumble read value'
LONG_VALUE = bytes((7 * i + 3) & 0xFF for i in range(600))
EDGE_VALUE = bytes(range(0x40, 0x40 + 22))
SERVER_ADDRESS = 'C4:B0:00:00:00:04'

passed = failed = 0


def check(condition: bool, what: str, detail: str = '') -> None:
    global passed, failed
    if condition:
        passed += 1
        print(f'OK {what}', flush=True)
    else:
        failed += 1
        print(f'FAIL {what}' + (f' ({detail})' if detail else ''), flush=True)


def fields(line: str) -> dict[str, str]:
    return dict(word.split('=', 1) for word in line.split()[1:] if '=' in word)


def wait_line(process: subprocess.Popen, prefix: str, sink: list[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        line = line.rstrip('\n')
        sink.append(line)
        if line.startswith(prefix):
            return line
    raise SystemExit(f'no line starting with {prefix!r}; got {sink}')


def client_run(port: str, mtu: int, ops: list[str]) -> list[str]:
    result = subprocess.run(
        [PY, '-u', os.path.join(HERE, 'bumble_gatt_peer.py'), '--transport', f'tcp-client:127.0.0.1:{port}',
         '--timeout', '30', 'gatt-client', '--target-address', SERVER_ADDRESS, '--mtu', str(mtu),
         '--notify-wait', '3000', '--ops', ','.join(ops)],
        capture_output=True, text=True, timeout=40)
    lines = result.stdout.splitlines()
    check(result.returncode == 0 and lines[-1:] == ['DONE'], f'gatt-client mtu={mtu} exits 0 with DONE',
          f'rc={result.returncode} last={lines[-1:]} stderr tail={result.stderr[-800:]}')
    return lines


def values(lines: list[str], prefix: str, uuid: str) -> list[bytes]:
    return [bytes.fromhex(fields(l)['value']) for l in lines if l.startswith(prefix) and fields(l).get('uuid') == uuid]


def verify_client(lines: list[str], server_dump: list[str], mtu: int) -> None:
    dump = [l for l in lines if l.startswith('GATT ')]
    check(dump == server_dump, f'mtu={mtu}: discovery dump equals the server dump ({len(dump)} lines)',
          '\n'.join(sorted(set(dump) ^ set(server_dump))))
    if mtu != 23:
        check(f'MTU mtu={mtu}' in lines, f'mtu={mtu}: client MTU line')
    check(values(lines, 'READ ', READ) == [READ_VALUE], f'mtu={mtu}: READ value')
    check(values(lines, 'READ ', LONG) == [LONG_VALUE], f'mtu={mtu}: LONG 600 bytes (Read Blob)')
    check(values(lines, 'READ ', EDGE) == [EDGE_VALUE], f'mtu={mtu}: EDGE 22 bytes')
    check(values(lines, 'READ ', '2901') == [b'Bumble READ characteristic'], f'mtu={mtu}: user description')
    check(values(lines, 'READ ', '2A00') == [b'BUMBLE-GATT'], f'mtu={mtu}: GAP device name')
    check(any(l.startswith(f'READ uuid={ECHO} ') and fields(l).get('status') == '0x02' for l in lines),
          f'mtu={mtu}: read of ECHO refused with 0x02')
    check(any(l.startswith(f'WRITE uuid={READ} ') and fields(l).get('status') == '0x03' for l in lines),
          f'mtu={mtu}: write to READ refused with 0x03')
    check(values(lines, 'NOTIFY ', ECHO) == [b'hello', b'cmd'], f'mtu={mtu}: ECHO echoes both writes')
    stream = values(lines, 'NOTIFY ', STREAM)
    check([int.from_bytes(v[:4], 'little') for v in stream] == list(range(10))
          and all(len(v) == 20 for v in stream), f'mtu={mtu}: STREAM 10 notifications in order')
    indications = values(lines, 'INDICATE ', STREAM)
    check([int.from_bytes(v[:4], 'little') for v in indications] == [0, 1, 2], f'mtu={mtu}: STREAM 3 indications in order')


def verify_server(lines: list[str], mtu: int) -> None:
    if mtu != 23:
        check(f'MTU mtu={mtu}' in lines, f'mtu={mtu}: server MTU line')
    check(f'SINK writes=3 bytes={300 + 2 * (mtu - 3)}' in lines, f'mtu={mtu}: SINK counted a long write + 2 commands',
          str([l for l in lines if l.startswith('SINK')]))
    sent = [fields(l) for l in lines if l.startswith('SENT ')]
    check([(s['kind'], s['count']) for s in sent] == [('notify', '10'), ('indicate', '3')], f'mtu={mtu}: server SENT lines')
    subs = [fields(l)['value'] for l in lines if l.startswith(f'SUBSCRIBED char={STREAM} ')]
    check(subs == ['0x0001', '0x0000', '0x0002', '0x0000'], f'mtu={mtu}: server SUBSCRIBED lines', str(subs))
    long_reads = sum(1 for l in lines if l.startswith(f'READ char={LONG} '))
    expected = -(-600 // (mtu - 1))
    check(long_reads == expected, f'mtu={mtu}: LONG served in {expected} Read/Read Blob requests', str(long_reads))


def main() -> int:
    controllers = subprocess.Popen([PY, '-u', os.path.join(HERE, 'bumble_controllers.py'), '--duration', '60'],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    server = None
    try:
        ready = wait_line(controllers, 'READY', [], 15)
        ports = {k: v.rsplit(':', 1)[1] for k, v in fields(ready).items() if k in ('C0', 'C1')}
        server = subprocess.Popen(
            [PY, '-u', os.path.join(HERE, 'bumble_gatt_peer.py'), '--transport', f'tcp-client:127.0.0.1:{ports["C1"]}',
             '--timeout', '60', 'gatt-server', '--name', 'BUMBLE-GATT', '--cycles', '2'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        server_lines: list[str] = []
        wait_line(server, 'READY', server_lines, 15)
        server_dump = [l for l in server_lines if l.startswith('GATT ')]
        check(f'GATT service start=0x000E end=0x001D uuid=3C5B0000-{U}' in server_dump,
              'server dump has the test service after GAP and GATT', '\n'.join(server_dump))

        for mtu in (247, 23):
            sink = bytes(i & 0xFF for i in range(300))
            ops = [f'read:{READ}', f'read:{LONG}', f'read:{EDGE}', 'read:2A00',
                   f'read:@0x{int(fields(next(l for l in server_dump if READ in l))["value_handle"], 16) + 1:04X}',
                   f'readfail:{ECHO}:02', f'writefail:{READ}:00:03',
                   f'subscribe:{ECHO}:0', f'write:{ECHO}:{b"hello".hex()}', f'wait:{ECHO}:1',
                   f'writecmd:{ECHO}:{b"cmd".hex()}', f'wait:{ECHO}:2', f'unsubscribe:{ECHO}',
                   f'subscribe:{STREAM}:10', f'unsubscribe:{STREAM}', f'indicate:{STREAM}:3', f'unsubscribe:{STREAM}',
                   f'write:{SINK}:{sink.hex()}', f'writecmd:{SINK}:{"aa" * (mtu - 3)}',
                   f'writecmd:{SINK}:{"bb" * (mtu - 3)}', f'write:{SINK}:{b"END".hex()}']
            client_lines = client_run(ports['C0'], mtu, ops)
            verify_client(client_lines, server_dump, mtu)
            mark = len(server_lines)
            wait_line(server, 'DISCONNECTED', server_lines, 15)
            verify_server(server_lines[mark:], mtu)
            # Second cycle: the server advertises again (READY cycle=2) before the next client.
            if mtu == 247:
                wait_line(server, 'READY', server_lines, 15)
        wait_line(server, 'DONE', server_lines, 15)
        check(server.wait(15) == 0, 'gatt-server exits 0 after its 2 connections')
    finally:
        for process in (server, controllers):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
    verdict = 'PASS' if failed == 0 and passed > 0 else 'FAIL'
    print(f'RESULT {verdict} passed={passed} failed={failed}', flush=True)
    return 0 if verdict == 'PASS' else 1


if __name__ == '__main__':
    sys.exit(main())
