#!/usr/bin/env python3
"""Stock Bumble virtual LE controllers on one shared LocalLink, for interop tests.

Each controller is an unmodified ``bumble.controller.Controller``. It is reachable by an external
HCI host over plain H4 framing (no extra header):

* a TCP server on 127.0.0.1 (port 0 by default: the kernel picks a free port, reported below), or
* a pseudo-terminal (``--pty PATH``): PATH becomes a symlink to the pty replica, which is in raw
  mode. Open it as a serial port without baud rate or modem lines.

Numbering: the pty controllers come first (C0, C1, ...), then the TCP ones. Controller Ck has the
public address F0:F0:F0:F0:F0:<k+1> (stock Bumble would give every controller 00:00:00:00:00:00).

On stdout there is exactly one line, flushed as soon as everything listens::

    READY C0=tcp:127.0.0.1:40123 C1=tcp:127.0.0.1:40125 addresses=F0:F0:F0:F0:F0:01,F0:F0:F0:F0:F0:02 controller=stock scan_rsp=echo bumble=0.0.236

``Ck=`` is the transport string of our Swift stack (``tcp:HOST:PORT`` or ``serial:PATH``); for a
Bumble host use ``tcp-client:HOST:PORT`` or ``serial:PATH``. ``scan_rsp=`` says what a scanner's
host gets as the scan response of an ADV_IND advertiser that has scan response data, measured at
start-up on a private LocalLink of two stock controllers driven with raw HCI commands (see
``probe_scan_response``): ``echo`` (the report flagged as a scan response repeats the advertising
data; Bumble 0.0.236's ``Controller.on_advertising_pdu`` sends one after every advertising report,
and its advertisers never put their scan response data on the link), ``real`` (it carries the scan
response data), ``none`` (no such report within 2 s) or ``other``.

Lifetime: exits with code 0 on SIGTERM or SIGINT, after ``--duration`` seconds (default 120), or
when its parent process goes away, so that nothing outlives a test.

TCP sessions: a controller serves one host at a time; a second client is closed at once. When the
host goes away, the harness behaves as if the chip lost power: the peers of its links get a
disconnection (reason 0x08, connection timeout), and a brand-new stock controller with the same
address takes its place on the link for the next client. The controllers themselves are not
patched: HCI_Reset is still the stock no-op, and every HCI command is handled by stock Bumble.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import tty

from bumble import hci, ll
from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport.common import PacketParser

try:
    from importlib.metadata import version as _dist_version

    BUMBLE_VERSION = _dist_version('bumble')
except Exception:  # pragma: no cover - metadata missing
    BUMBLE_VERSION = 'unknown'

log = logging.getLogger('bumble_controllers')

# HCI error 0x08: what the peer of a vanished device sees (supervision timeout).
POWER_LOSS_REASON = hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR


class Endpoint:
    """One controller position on the link plus the byte stream to its external host."""

    def __init__(self, index: int, link: LocalLink, address: str) -> None:
        self.index = index
        self.name = f'C{index}'
        self.link = link
        self.address = address
        self.parser = PacketParser(self)  # calls self.on_packet for every complete H4 packet
        self.writer = None  # callable(bytes) that delivers to the external host, or None
        self.controller = self._new_controller()

    def _new_controller(self) -> Controller:
        controller = Controller(self.name, link=self.link, public_address=self.address)
        controller.host = _ToHost(self, controller)
        return controller

    # host -> controller ------------------------------------------------------------------
    def on_packet(self, packet: bytes) -> None:
        self.controller.on_packet(bytes(packet))

    def feed(self, data: bytes) -> bool:
        """Feeds raw bytes from the host; False on a framing error (H4 cannot resynchronise)."""
        try:
            self.parser.feed_data(data)
        except Exception as error:  # noqa: BLE001 - any parse error is fatal for the stream
            log.error('[%s] H4 framing error: %s', self.name, error)
            return False
        return True

    # session management ------------------------------------------------------------------
    def attach(self, writer) -> bool:
        if self.writer is not None:
            return False
        self.writer = writer
        self.parser.reset()
        log.info('[%s] host attached', self.name)
        return True

    def detach(self) -> None:
        """The host went away: drop its links as a power loss would, then start afresh."""
        log.info('[%s] host detached; replacing controller', self.name)
        self.writer = None
        old = self.controller
        for connection in list(old.le_connections.values()):
            try:
                connection.send_ll_control_pdu(ll.TerminateInd(POWER_LOSS_REASON))
            except Exception as error:  # noqa: BLE001 - the peer may be gone already
                log.debug('[%s] terminate on detach: %s', self.name, error)
        old.le_connections.clear()
        old.le_legacy_advertiser.stop()
        for advertising_set in list(old.advertising_sets.values()):
            advertising_set.stop()
        old.le_scan_enable = False
        old.pending_le_connection = None
        old.host = None
        if old in self.link.controllers:
            self.link.remove_controller(old)
        self.controller = self._new_controller()


class _ToHost:
    """Packet sink given to a Controller: forwards its H4 packets to the current host."""

    def __init__(self, endpoint: Endpoint, controller: Controller) -> None:
        self.endpoint = endpoint
        self.controller = controller

    def on_packet(self, packet: bytes) -> None:
        if self.endpoint.controller is not self.controller:
            return  # a replaced controller may still have callbacks queued
        if self.endpoint.writer is not None:
            self.endpoint.writer(bytes(packet))


class TcpSession(asyncio.Protocol):
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.transport = None
        self.attached = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info('socket')
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.endpoint.attach(transport.write):
            log.warning('[%s] a host is already attached; closing the new client', self.endpoint.name)
            transport.close()
            return
        self.attached = True

    def data_received(self, data: bytes) -> None:
        if self.attached and not self.endpoint.feed(data):
            self.transport.close()

    def connection_lost(self, exc) -> None:
        if self.attached:
            self.attached = False
            self.endpoint.detach()


class PtyPort:
    """A pty whose replica (symlinked at `path`) is the host's serial port."""

    def __init__(self, endpoint: Endpoint, path: str) -> None:
        self.endpoint = endpoint
        self.path = os.path.abspath(path)
        self.primary, self.replica = os.openpty()
        # Raw mode on both sides: no echo, no line discipline, 8-bit clean.
        tty.setraw(self.primary)
        tty.setraw(self.replica)
        os.set_blocking(self.primary, False)
        # The replica stays open here too, so the primary never sees EOF/EIO while the host
        # closes and reopens its side.
        if os.path.lexists(self.path):
            if not os.path.islink(self.path):
                raise SystemExit(f'--pty {path}: exists and is not a symlink; refusing to replace it')
            os.unlink(self.path)
        os.symlink(os.ttyname(self.replica), self.path)
        self.pending = bytearray()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.primary, self._readable)
        # A pty has no notion of sessions: the controller stays bound to it for its whole life.
        endpoint.attach(self._write)

    def _readable(self) -> None:
        try:
            data = os.read(self.primary, 65536)
        except BlockingIOError:
            return
        except OSError as error:
            log.warning('[%s] pty read: %s', self.endpoint.name, error)
            return
        if data and not self.endpoint.feed(data):
            log.error('[%s] dropping bytes after a framing error', self.endpoint.name)
            self.endpoint.parser.reset()

    def _write(self, data: bytes) -> None:
        self.pending += data
        self._flush()

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self.pending:
            try:
                n = os.write(self.primary, self.pending)
            except BlockingIOError:
                break
            except OSError as error:
                log.warning('[%s] pty write: %s', self.endpoint.name, error)
                self.pending.clear()
                break
            del self.pending[:n]
        if self.pending:
            loop.add_writer(self.primary, self._flush)
        else:
            loop.remove_writer(self.primary)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.primary)
        loop.remove_writer(self.primary)
        try:
            if os.path.islink(self.path) and os.readlink(self.path) == os.ttyname(self.replica):
                os.unlink(self.path)
        except OSError:
            pass
        for fd in (self.primary, self.replica):
            try:
                os.close(fd)
            except OSError:
                pass


async def probe_scan_response(wait: float = 2.0) -> str:
    """What the stock controller reports as a scan response: 'echo', 'real', 'none' or 'other'.

    Two stock controllers on a private LocalLink, driven with the raw HCI commands an external host
    sends: one advertises ADV_IND with advertising data A and scan response data R, the other scans
    actively. The first report flagged as a scan response that reaches the scanner's host decides:
    A is 'echo', R is 'real', anything else 'other'; no such report within `wait` seconds is 'none'.
    """
    link = LocalLink()
    adv_data = bytes([0x02, 0x01, 0x06, 0x06, 0x09]) + b'PROBE'
    rsp_data = bytes([0x06, 0xFF, 0xFF, 0xFF]) + b'RSP'
    seen: list[bytes] = []
    got = asyncio.Event()

    class ScannerHost:
        def on_packet(self, packet: bytes) -> None:
            event = hci.HCI_Packet.from_bytes(packet)
            for report in getattr(event, 'reports', None) or []:
                if isinstance(report, hci.HCI_LE_Extended_Advertising_Report_Event.Report):
                    is_rsp = bool(report.event_type
                                  & hci.HCI_LE_Extended_Advertising_Report_Event.EventType.SCAN_RESPONSE)
                else:
                    is_rsp = report.event_type == hci.HCI_LE_Advertising_Report_Event.EventType.SCAN_RSP
                if is_rsp:
                    seen.append(bytes(report.data))
                    got.set()

    class QuietHost:
        def on_packet(self, packet: bytes) -> None:
            pass

    advertiser = Controller('probe-adv', link=link, public_address='F0:F0:F0:F0:F0:A0')
    scanner = Controller('probe-scan', link=link, public_address='F0:F0:F0:F0:F0:A1')
    advertiser.host = QuietHost()
    scanner.host = ScannerHost()

    def command(controller: Controller, opcode: int, params: bytes) -> None:
        controller.on_packet(bytes([hci.HCI_COMMAND_PACKET, opcode & 0xFF, opcode >> 8, len(params)]) + params)

    def padded(data: bytes) -> bytes:
        return bytes([len(data)]) + data + bytes(31 - len(data))

    # LE Set Advertising Parameters (ADV_IND, public address, all channels), Data, Scan Response
    # Data; LE Set Scan Parameters (active), LE Set Scan Enable; LE Set Advertising Enable.
    command(advertiser, 0x2006, bytes([0x20, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00]) + bytes(6) + bytes([0x07, 0x00]))
    command(advertiser, 0x2008, padded(adv_data))
    command(advertiser, 0x2009, padded(rsp_data))
    command(scanner, 0x200B, bytes([0x01, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00]))
    command(scanner, 0x200C, bytes([0x01, 0x00]))
    command(advertiser, 0x200A, bytes([0x01]))
    try:
        await asyncio.wait_for(got.wait(), wait)
    except asyncio.TimeoutError:
        pass
    command(advertiser, 0x200A, bytes([0x00]))
    command(scanner, 0x200C, bytes([0x00, 0x00]))
    for controller in (advertiser, scanner):
        link.remove_controller(controller)
    if not seen:
        return 'none'
    return {adv_data: 'echo', rsp_data: 'real'}.get(seen[0], 'other')


async def serve(args) -> int:
    loop = asyncio.get_running_loop()
    link = LocalLink()
    endpoints: list[Endpoint] = []
    spec: list[str] = []
    servers = []
    ptys: list[PtyPort] = []

    def new_endpoint() -> Endpoint:
        index = len(endpoints)
        endpoint = Endpoint(index, link, args.address_format.format(index + 1))
        endpoints.append(endpoint)
        return endpoint

    for path in args.pty:
        endpoint = new_endpoint()
        port = PtyPort(endpoint, path)
        ptys.append(port)
        spec.append(f'{endpoint.name}=serial:{port.path}')

    for port in args.ports:
        endpoint = new_endpoint()
        server = await loop.create_server(
            lambda e=endpoint: TcpSession(e), host=args.host, port=port)
        servers.append(server)
        real_port = server.sockets[0].getsockname()[1]
        spec.append(f'{endpoint.name}=tcp:{args.host}:{real_port}')

    stop = asyncio.Event()
    reason = ['duration']

    def request_stop(why: str) -> None:
        reason[0] = why
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, signal.Signals(sig).name)

    parent = os.getppid()

    async def watch_parent() -> None:
        while True:
            await asyncio.sleep(1.0)
            if os.getppid() != parent:
                request_stop('parent exited')
                return

    watcher = asyncio.create_task(watch_parent())

    scan_rsp = await probe_scan_response()
    addresses = ','.join(e.address for e in endpoints)
    print(f'READY {" ".join(spec)} addresses={addresses} controller=stock scan_rsp={scan_rsp} '
          f'bumble={BUMBLE_VERSION}', flush=True)

    try:
        await asyncio.wait_for(stop.wait(), args.duration if args.duration > 0 else None)
    except asyncio.TimeoutError:
        pass
    log.info('stopping (%s)', reason[0])
    watcher.cancel()
    for server in servers:
        server.close()
    for port in ptys:
        port.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description='Stock Bumble virtual controllers on one LocalLink, served over H4 (TCP or pty).')
    parser.add_argument('-n', '--count', type=int, default=None,
                        help='number of TCP controllers (default: 2, or 1 when --pty is given)')
    parser.add_argument('--ports', default=None,
                        help='comma-separated TCP ports (0 = ephemeral); overrides -n')
    parser.add_argument('--host', default='127.0.0.1', help='TCP listen address [127.0.0.1]')
    parser.add_argument('--pty', action='append', default=[], metavar='PATH',
                        help='add a pty controller (numbered before the TCP ones); PATH becomes '
                             'a symlink to its replica. May be repeated.')
    parser.add_argument('--address-format', default='F0:F0:F0:F0:F0:{:02X}',
                        help='public address of controller k, formatted with k+1')
    parser.add_argument('--duration', type=float, default=120.0,
                        help='exit (code 0) after this many seconds; 0 = never [120]')
    parser.add_argument('--log-level', default=os.environ.get('BUMBLE_LOGLEVEL', 'WARNING'))
    args = parser.parse_args()
    # A parent that spawns us from a thread with signals blocked (libdispatch worker threads do,
    # and so a Swift test's Foundation.Process does) hands that mask down: unblock what we handle.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    if args.ports is not None:
        args.ports = [int(p) for p in args.ports.split(',') if p.strip()]
    else:
        count = args.count if args.count is not None else (1 if args.pty else 2)
        args.ports = [0] * count
    if not args.ports and not args.pty:
        parser.error('no controller requested')
    return asyncio.run(serve(args))


if __name__ == '__main__':
    sys.exit(main())
