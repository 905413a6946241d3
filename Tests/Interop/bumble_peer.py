#!/usr/bin/env python3
"""A Bumble host device playing one GAP role against the stack under test.

    bumble_peer.py [--transport T] [--timeout S] [--address A] MODE [options]

MODE is one of

  advertise --name NAME [--scan-response-data HEX] [--own-address-type random|public]
            [--disconnect-after MS] [--cycles K] [--interval MS]
      Legacy connectable scannable advertising (ADV_IND) with flags and the complete local name in
      the advertising data and, by default, the scan response ``06 FF 'BUMBLE-RSP'`` (manufacturer
      specific data). Serves K connections (default 1): after each disconnection but the last it
      advertises again; it exits 0 after the K-th disconnection. With --disconnect-after it ends
      every connection itself MS milliseconds after it came up.

  scan (--target-name NAME | --target-address ADDR) [--passive] [--response-wait MS]
      Scans (active unless --passive) until the target is seen, waits up to --response-wait ms for
      a scan response report from it, prints ADV and FOUND, and exits 0.

  connect --target-address ADDR [--address-type public|random] [--own-address-type ...]
          [--disconnect-after MS]
      Connects as central, optionally disconnects after MS ms, and exits 0 once the link is down,
      whichever side ended it.

Output (stdout, one flushed line each; logs go to stderr). Values never contain spaces; addresses
are upper case ``AA:BB:CC:DD:EE:FF`` with the type in a separate ``type=`` field::

  POWERED address=<random address> public=<controller public address>
  READY address=<addr> type=random|public name=<name> adv_data=<hex> scan_response=<hex>   (advertise)
  CONNECTED peer=<addr> peer_type=<t> handle=0x0001 role=peripheral|central
  DISCONNECTED reason=0x13 handle=0x0001 initiator=local|remote
  ADV address=<addr> type=<t> event_type=0x0001 reports=<n> rsp_reports=<m> rssi=<r>
      name=<name> data=<hex> scan_response=<hex, empty if none seen>                        (scan)
  FOUND address=<addr> type=<t> name=<name> scan_response=<hex>                            (scan)
  DONE                          the mode completed; exit code 0
  TIMEOUT phase=<what>          --timeout elapsed; exit code 2
  ERROR <text>                  a failure; exit code 1
  STOPPED signal=SIGTERM        stopped by a signal; exit code 0

Every wait is bounded by --timeout (default 20 s). The process also exits when its parent dies.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from bumble import hci
from bumble.core import AdvertisingData
from bumble.device import Device
from bumble.transport import open_transport

log = logging.getLogger('bumble_peer')

DEFAULT_SCAN_RESPONSE = bytes([1 + len(b'BUMBLE-RSP'), 0xFF]) + b'BUMBLE-RSP'
# Static random addresses (two top bits set), distinct per mode: LocalLink routes by address.
DEFAULT_ADDRESSES = {
    'advertise': 'C4:B0:00:00:00:01',
    'scan': 'C4:B0:00:00:00:02',
    'connect': 'C4:B0:00:00:00:03',
}


class Failure(Exception):
    pass


def emit(text: str) -> None:
    print(text, flush=True)


def addr_str(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False)


def addr_type(address: hci.Address) -> str:
    return 'public' if address.is_public else 'random'


def own_type(name: str) -> hci.OwnAddressType:
    return hci.OwnAddressType.PUBLIC if name == 'public' else hci.OwnAddressType.RANDOM


def token(text: str) -> str:
    """A field value without spaces (names are printed as they are, spaces become '_')."""
    return text.replace(' ', '_') if text else ''


def decode_name(data: bytes) -> str | None:
    """The complete (else shortened) local name carried in advertising data, if any."""
    try:
        ad = AdvertisingData.from_bytes(data)
    except Exception:  # noqa: BLE001 - malformed data simply has no name
        return None
    for kind in (AdvertisingData.COMPLETE_LOCAL_NAME, AdvertisingData.SHORTENED_LOCAL_NAME):
        for ad_type, value in ad.ad_structures:
            if ad_type == kind:
                return bytes(value).decode('utf-8', errors='replace')
    return None


class Phase:
    """What the peer is waiting for, reported on timeout."""

    name = 'start'


async def open_device(args, phase: Phase):
    phase.name = 'open-transport'
    transport = await open_transport(args.transport)
    address = hci.Address(args.address or DEFAULT_ADDRESSES[args.mode], hci.Address.RANDOM_DEVICE_ADDRESS)
    device = Device.with_hci(args.name or 'BUMBLE-PEER', address, transport.source, transport.sink)
    phase.name = 'power-on'
    await device.power_on()
    emit(f'POWERED address={addr_str(device.random_address)} public={addr_str(device.public_address)}')
    return transport, device


def watch_connection(connection, role: str, initiated: dict) -> asyncio.Future:
    """Prints CONNECTED now and DISCONNECTED later; returns a future set to the reason."""
    loop = asyncio.get_running_loop()
    gone: asyncio.Future = loop.create_future()
    emit(f'CONNECTED peer={addr_str(connection.peer_address)} '
         f'peer_type={addr_type(connection.peer_address)} handle=0x{connection.handle:04X} role={role}')

    def on_disconnection(reason: int) -> None:
        who = 'local' if initiated.get(connection.handle) else 'remote'
        emit(f'DISCONNECTED reason=0x{reason:02X} handle=0x{connection.handle:04X} initiator={who}')
        if not gone.done():
            gone.set_result(reason)

    connection.on('disconnection', on_disconnection)
    return gone


async def disconnect_later(connection, delay_ms: int, initiated: dict) -> None:
    await asyncio.sleep(delay_ms / 1000)
    initiated[connection.handle] = True
    log.info('disconnecting handle 0x%04X', connection.handle)
    await connection.disconnect()


# ------------------------------------------------------------------------------------------------
async def run_advertise(args, device: Device, phase: Phase) -> None:
    name = args.name
    adv = bytes(AdvertisingData([
        (AdvertisingData.FLAGS, bytes([0x06])),  # LE General Discoverable, BR/EDR not supported
        (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
    ]))
    if len(adv) > 31:
        raise Failure(f'advertising data is {len(adv)} bytes (> 31): use a shorter --name')
    rsp = bytes.fromhex(args.scan_response_data) if args.scan_response_data is not None \
        else DEFAULT_SCAN_RESPONSE
    if len(rsp) > 31:
        raise Failure(f'scan response data is {len(rsp)} bytes (> 31)')

    loop = asyncio.get_running_loop()
    connections: asyncio.Queue = asyncio.Queue()
    device.on('connection', connections.put_nowait)
    initiated: dict = {}
    own = own_type(args.own_address_type)
    shown = device.public_address if own == hci.OwnAddressType.PUBLIC else device.random_address

    for cycle in range(args.cycles):
        phase.name = f'advertise-cycle-{cycle + 1}'
        await device.start_advertising(
            own_address_type=own, advertising_data=adv, scan_response_data=rsp,
            advertising_interval_min=args.interval, advertising_interval_max=args.interval)
        emit(f'READY address={addr_str(shown)} type={"public" if own == hci.OwnAddressType.PUBLIC else "random"} '
             f'name={token(name)} adv_data={adv.hex()} scan_response={rsp.hex()} cycle={cycle + 1}')
        phase.name = f'wait-connection-{cycle + 1}'
        connection = await connections.get()
        gone = watch_connection(connection, 'peripheral', initiated)
        if args.disconnect_after is not None:
            loop.create_task(disconnect_later(connection, args.disconnect_after, initiated))
        phase.name = f'wait-disconnection-{cycle + 1}'
        await gone
        # Bumble stops the advertising set when a central connects; make sure it is off before
        # the next start_advertising (which stops and re-creates it anyway).
        try:
            await device.stop_advertising()
        except Exception as error:  # noqa: BLE001 - already stopped is fine
            log.debug('stop_advertising: %r', error)


# ------------------------------------------------------------------------------------------------
async def run_scan(args, device: Device, phase: Phase) -> None:
    target_bytes = bytes(hci.Address(args.target_address)) if args.target_address else None
    seen: dict[bytes, dict] = {}
    target: dict = {}
    have_adv = asyncio.Event()
    have_rsp = asyncio.Event()

    def on_report(report) -> None:
        # Raw reports, before Bumble's accumulator merges advertising data and scan response.
        if isinstance(report, hci.HCI_LE_Extended_Advertising_Report_Event.Report):
            is_rsp = bool(report.event_type & hci.HCI_LE_Extended_Advertising_Report_Event.EventType.SCAN_RESPONSE)
        else:
            is_rsp = report.event_type == hci.HCI_LE_Advertising_Report_Event.EventType.SCAN_RSP
        key = bytes(report.address)
        entry = seen.setdefault(key, {'address': report.address, 'reports': 0, 'rsp_reports': 0,
                                      'adv': None, 'rsp': None, 'event_type': None, 'rssi': None})
        data = bytes(report.data)
        if is_rsp:
            entry['rsp_reports'] += 1
            if entry['rsp'] is None:
                entry['rsp'] = data
        else:
            entry['reports'] += 1
            if entry['adv'] is None:
                entry['adv'] = data
                entry['event_type'] = int(report.event_type)
                entry['rssi'] = report.rssi
        if not target:
            if target_bytes is not None:
                hit = key == target_bytes
            else:
                hit = args.target_name in (decode_name(entry['adv'] or b''), decode_name(entry['rsp'] or b''))
            if hit:
                target['key'] = key
        if target.get('key') == key:
            if entry['adv'] is not None:
                have_adv.set()
            if entry['rsp'] is not None:
                have_rsp.set()

    device.host.on('advertising_report', on_report)
    phase.name = 'start-scanning'
    await device.start_scanning(active=not args.passive)
    phase.name = 'wait-target'
    await have_adv.wait()
    if not args.passive:
        phase.name = 'wait-scan-response'
        try:
            await asyncio.wait_for(have_rsp.wait(), args.response_wait / 1000)
        except asyncio.TimeoutError:
            log.info('no scan response report within %d ms', args.response_wait)
    await device.stop_scanning()

    entry = seen[target['key']]
    address = entry['address']
    adv = entry['adv'] or b''
    rsp = entry['rsp'] or b''
    name = decode_name(adv) or decode_name(rsp) or ''
    emit(f'ADV address={addr_str(address)} type={addr_type(address)} event_type=0x{entry["event_type"]:04X} '
         f'reports={entry["reports"]} rsp_reports={entry["rsp_reports"]} rssi={entry["rssi"]} '
         f'name={token(name)} data={adv.hex()} scan_response={rsp.hex()}')
    emit(f'FOUND address={addr_str(address)} type={addr_type(address)} name={token(name)} '
         f'scan_response={rsp.hex()}')


# ------------------------------------------------------------------------------------------------
async def run_connect(args, device: Device, phase: Phase) -> None:
    kind = hci.Address.PUBLIC_DEVICE_ADDRESS if args.address_type == 'public' else hci.Address.RANDOM_DEVICE_ADDRESS
    peer = hci.Address(args.target_address, kind)
    initiated: dict = {}
    phase.name = f'connect-{addr_str(peer)}-{args.address_type}'
    connection = await device.connect(peer, own_address_type=own_type(args.own_address_type),
                                      timeout=args.timeout)
    gone = watch_connection(connection, 'central', initiated)
    if args.disconnect_after is not None:
        asyncio.get_running_loop().create_task(disconnect_later(connection, args.disconnect_after, initiated))
    phase.name = 'wait-disconnection'
    await gone


MODES = {'advertise': run_advertise, 'scan': run_scan, 'connect': run_connect}


async def amain(args) -> int:
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(
            sig, lambda s=sig: stopped.done() or stopped.set_result(signal.Signals(s).name))
    parent = os.getppid()

    async def watch_parent() -> str:
        while os.getppid() == parent:
            await asyncio.sleep(1.0)
        return 'parent-exited'

    phase = Phase()
    transport = None

    async def body() -> None:
        nonlocal transport
        transport, device = await open_device(args, phase)
        await MODES[args.mode](args, device, phase)

    work = asyncio.create_task(body())
    parent_task = asyncio.create_task(watch_parent())
    done, _ = await asyncio.wait({work, stopped, parent_task}, timeout=args.timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if work in done:
        error = work.exception()
        if error is None:
            emit('DONE')
        elif isinstance(error, Failure):
            emit(f'ERROR {error}')
            code = 1
        else:
            emit(f'ERROR {type(error).__name__}: {token(str(error)) or "-"} phase={phase.name}')
            code = 1
    elif stopped in done:
        emit(f'STOPPED signal={stopped.result()}')
    elif parent_task in done:
        emit('STOPPED parent-exited')
        code = 1
    else:
        emit(f'TIMEOUT phase={phase.name} after={args.timeout:g}s')
        code = 2
    for task in (work, parent_task):
        if not task.done():
            task.cancel()
    if transport is not None:
        try:
            await asyncio.wait_for(transport.close(), 2)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
    return code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--transport', default='tcp-client:127.0.0.1:9001',
                    help='Bumble transport of the controller (tcp-client:H:P, serial:PATH, ...)')
    ap.add_argument('--timeout', type=float, default=20.0, help='limit for the whole run, in s [20]')
    ap.add_argument('--address', help='own static random address (default depends on the mode)')
    ap.add_argument('--log-level', default=os.environ.get('BUMBLE_LOGLEVEL', 'WARNING'))
    sub = ap.add_subparsers(dest='mode', required=True)

    adv = sub.add_parser('advertise', help='connectable scannable advertising (peripheral)')
    adv.add_argument('--name', required=True)
    adv.add_argument('--scan-response-data', metavar='HEX',
                     help="raw scan response data (default: manufacturer data 'BUMBLE-RSP')")
    adv.add_argument('--own-address-type', choices=('random', 'public'), default='random')
    adv.add_argument('--interval', type=float, default=20.0, help='advertising interval in ms [20]')
    adv.add_argument('--disconnect-after', type=int, metavar='MS',
                     help='disconnect each central MS ms after it connected')
    adv.add_argument('--cycles', type=int, default=1,
                     help='connections to serve; advertise again after each one but the last [1]')

    scan = sub.add_parser('scan', help='scan for one advertiser')
    target = scan.add_mutually_exclusive_group(required=True)
    target.add_argument('--target-name')
    target.add_argument('--target-address')
    scan.add_argument('--passive', action='store_true')
    scan.add_argument('--response-wait', type=int, default=2000, metavar='MS',
                      help='how long to wait for a scan response after the advertisement [2000]')

    con = sub.add_parser('connect', help='connect as central')
    con.add_argument('--target-address', required=True)
    con.add_argument('--address-type', choices=('public', 'random'), default='random')
    con.add_argument('--own-address-type', choices=('random', 'public'), default='random')
    con.add_argument('--disconnect-after', type=int, metavar='MS',
                     help='disconnect MS ms after the connection came up')

    args = ap.parse_args()
    # A parent that spawns us from a thread with signals blocked (libdispatch worker threads do,
    # and so a Swift test's Foundation.Process does) hands that mask down: unblock what we handle.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.mode != 'advertise':
        args.name = None
    if args.mode == 'advertise' and args.cycles < 1:
        ap.error('--cycles must be at least 1')
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    return asyncio.run(amain(args))


if __name__ == '__main__':
    sys.exit(main())
