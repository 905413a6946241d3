#!/usr/bin/env python3
"""Reference GATT figures of Google's Bumble, measured on Bumble's own in-process virtual link.

    bumble_gatt_bench.py [--count 5000] [--seconds 3] [--runs 3] [--discovery-runs 20]

Two Bumble Devices (a GATT server and a GATT client), each on a stock
``bumble.controller.Controller``, both on one ``bumble.link.LocalLink``, all in this one Python
process and event loop: no TCP, no H4, no other process. Everything is CPU-bound (the link has no
air time), so the figures measure the cost of Bumble's host and controller code per packet, on
this machine's single core that runs the loop.

Measured, on one connection (ATT MTU 23 first, then after an MTU exchange to 247):

* notifications: the server notifies a characteristic the client subscribed to (CCCD 0x0001);
  payload MTU-3 bytes (20 or 244), starting with a u32 little-endian sequence number. The client
  counts them and checks the order; the time runs from the first send to the last arrival.
* write without response: the client writes MTU-3 bytes (Write Command) to a characteristic; the
  server counts the writes and checks the order.
* discovery: Bumble's full discovery (services, characteristics of each, descriptors of each) of
  a database of 12 services laid out as our stack's would be: GAP 0x1800 (Device Name), GATT
  0x1801 (Service Changed + CCCD) and 10 services of 3 characteristics each (read; write +
  write-without-response; notify + CCCD), all 128-bit UUIDs: 12 services, 32 characteristics,
  11 descriptors. Bumble's own default GAP/GATT services are replaced by these two. The
  throughput runs use the notify and the write characteristic of the first of the 10.

Each throughput run stops after --count messages or --seconds seconds of sending, whichever
comes first, then waits (bounded) until every message sent has arrived. Flow control: Bumble's
host keeps at most the controller's LE ACL buffer count (64 packets of 27 bytes, stock) in flight
and queues the rest in memory without limit; the sender here also waits, on the queue's 'flow'
(Number Of Completed Packets) events, whenever more than --max-pending fragments are queued but
not completed, so nothing piles up in the host.

Output, one line per figure (stdout)::

  BUMBLE env cpus=<os.cpu_count> affinity=<usable cpus> python=<v> bumble=<v> machine=<arch> acl=27x64
  BUMBLE notify mtu=23 payload=20 count=N seconds=S msgs_per_s=X bytes_per_s=Y cpu_s=C runs=R
         min_msgs_per_s=.. max_msgs_per_s=.. lost=0 out_of_order=0
  BUMBLE write_cmd mtu=23 payload=20 count=N seconds=S msgs_per_s=X bytes_per_s=Y ...
  BUMBLE notify mtu=247 payload=244 ...      BUMBLE write_cmd mtu=247 payload=244 ...
  BUMBLE discovery mtu=23 services=12 chars=32 descs=11 requests=N runs=R median_ms=X min_ms=Y max_ms=Z
  BUMBLE discovery mtu=247 ...

(count, seconds and the rates are those of the median run by msgs_per_s; bytes are ATT payload
bytes). Exit status 0 when every figure was measured with nothing lost or reordered, else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import struct
import sys
import time

from bumble import gatt, hci
from bumble.controller import Controller
from bumble.core import UUID
from bumble.device import Device, DeviceConfiguration, Peer
from bumble.gatt import Characteristic, CharacteristicValue, Descriptor, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

try:
    from importlib.metadata import version as _dist_version

    BUMBLE_VERSION = _dist_version('bumble')
except Exception:  # pragma: no cover - metadata missing
    BUMBLE_VERSION = 'unknown'

DISCOVERY_UUID = 'D15C{:02X}{:02X}-1D2C-4E5F-8A9B-0C1D2E3F4A5B'  # service s, characteristic c
NOTIFY_UUID = DISCOVERY_UUID.format(1, 3)  # notified in the notify runs
SINK_UUID = DISCOVERY_UUID.format(1, 2)  # written in the write-without-response runs
SERVER_ADDRESS = 'C4:B0:00:00:0B:01'
CLIENT_ADDRESS = 'C4:B0:00:00:0B:02'

P = Characteristic.Properties


def emit(text: str) -> None:
    print(text, flush=True)


class Failure(Exception):
    pass


# ------------------------------------------------------------------------------------------------
def make_device(link: LocalLink, name: str, address: str, public: str) -> Device:
    controller = Controller(name, link=link, public_address=public)
    config = DeviceConfiguration()
    config.name = name
    config.address = hci.Address(address)
    # The database is built here: GAP and GATT as our stack lays them out (API.md).
    config.gap_service_enabled = False
    config.gatt_service_enabled = False
    return Device(config=config, host=Host(controller, AsyncPipeSink(controller)))


def database(server: Device, on_sink_write) -> Characteristic:
    """Adds the benchmark database to `server` and returns the characteristic notified in the
    notify runs. The first of the 10 services carries the two benchmark characteristics: its
    notify characteristic is the one notified, its write characteristic counts the Write
    Commands."""
    rw = Characteristic.READABLE | Characteristic.WRITEABLE
    services = [
        Service(gatt.GATT_GENERIC_ACCESS_SERVICE, [
            Characteristic(gatt.GATT_DEVICE_NAME_CHARACTERISTIC, P.READ, Characteristic.READABLE,
                           b'BUMBLE-BENCH')]),
        Service(gatt.GATT_GENERIC_ATTRIBUTE_SERVICE, [
            Characteristic(gatt.GATT_SERVICE_CHANGED_CHARACTERISTIC, P.INDICATE, rw, b'')]),
    ]
    notify_char = None
    for s in range(1, 11):
        on_write = on_sink_write if s == 1 else (lambda connection, value: None)
        notify = Characteristic(DISCOVERY_UUID.format(s, 3), P.NOTIFY, rw, b'')
        notify_char = notify_char or notify
        services.append(Service(DISCOVERY_UUID.format(s, 0), [
            Characteristic(DISCOVERY_UUID.format(s, 1), P.READ, Characteristic.READABLE, b'r'),
            Characteristic(DISCOVERY_UUID.format(s, 2), P.WRITE | P.WRITE_WITHOUT_RESPONSE,
                           Characteristic.WRITEABLE, CharacteristicValue(write=on_write)),
            notify,
        ]))
    server.add_services(services)
    return notify_char


class FlowGate:
    """Waits, on the host's ACL queue 'flow' events, until few enough packets are pending."""

    def __init__(self, connection) -> None:
        self.queue = connection.data_packet_queue
        self.event = asyncio.Event()
        self.queue.on('flow', self.event.set)

    async def wait_below(self, limit: int) -> None:
        while self.queue.pending > limit:
            self.event.clear()
            await self.event.wait()

    async def drain(self, timeout: float) -> None:
        await asyncio.wait_for(self.wait_below(0), timeout)


class Receiver:
    """Counts sequence-numbered payloads."""

    def __init__(self) -> None:
        self.reset()
        self.changed = asyncio.Event()

    def reset(self) -> None:
        self.count = 0
        self.bytes = 0
        self.out_of_order = 0
        self.last = 0.0
        self.expected_seq = 0

    def on_value(self, value: bytes) -> None:
        seq = struct.unpack_from('<I', value, 0)[0]
        if seq != self.expected_seq:
            self.out_of_order += 1
        self.expected_seq = seq + 1
        self.count += 1
        self.bytes += len(value)
        self.last = time.perf_counter()
        self.changed.set()

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                return


# ------------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.ok = True

    async def setup(self) -> None:
        link = LocalLink()
        self.server = make_device(link, 'BENCH-S', SERVER_ADDRESS, 'F0:F0:F0:F0:0B:01')
        self.client = make_device(link, 'BENCH-C', CLIENT_ADDRESS, 'F0:F0:F0:F0:0B:02')
        self.sink = Receiver()
        self.notify_char = database(self.server, lambda c, v: self.sink.on_value(bytes(v)))
        await self.server.power_on()
        await self.client.power_on()
        accepted = asyncio.get_running_loop().create_future()
        self.server.once('connection', accepted.set_result)
        await self.server.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        self.client_connection = await self.client.connect(hci.Address(SERVER_ADDRESS), timeout=10)
        self.server_connection = await asyncio.wait_for(accepted, 10)
        self.peer = Peer(self.client_connection)
        self.server_gate = FlowGate(self.server_connection)
        self.client_gate = FlowGate(self.client_connection)

    async def discovered_proxies(self):
        await self.peer.discover_all()
        chars = {str(c.uuid).upper(): c for s in self.peer.services for c in s.characteristics}
        return chars[NOTIFY_UUID], chars[SINK_UUID]

    # --- throughput ------------------------------------------------------------------------
    async def notify_run(self, count_limit: int, seconds: float, mtu: int) -> dict:
        payload_size = mtu - 3
        filler = bytes(i & 0xFF for i in range(payload_size))
        receiver = self.stream
        receiver.reset()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        stop = t0 + seconds
        sent = 0
        while sent < count_limit and time.perf_counter() < stop:
            value = struct.pack('<I', sent) + filler[4:]
            await self.server.notify_subscriber(self.server_connection, self.notify_char, value)
            sent += 1
            await self.server_gate.wait_below(self.args.max_pending)
        await receiver.wait_for(sent, 10)
        cpu = time.process_time() - cpu0
        return self.figures(sent, receiver, t0, cpu, payload_size)

    async def write_cmd_run(self, count_limit: int, seconds: float, mtu: int) -> dict:
        payload_size = mtu - 3
        filler = bytes(i & 0xFF for i in range(payload_size))
        receiver = self.sink
        receiver.reset()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        stop = t0 + seconds
        sent = 0
        while sent < count_limit and time.perf_counter() < stop:
            value = struct.pack('<I', sent) + filler[4:]
            await self.peer.write_value(self.sink_proxy, value, with_response=False)
            sent += 1
            await self.client_gate.wait_below(self.args.max_pending)
        await receiver.wait_for(sent, 10)
        cpu = time.process_time() - cpu0
        return self.figures(sent, receiver, t0, cpu, payload_size)

    @staticmethod
    def figures(sent: int, receiver: Receiver, t0: float, cpu: float, payload_size: int) -> dict:
        seconds = max(receiver.last - t0, 1e-9) if receiver.count else float('nan')
        return {
            'sent': sent, 'count': receiver.count, 'seconds': seconds, 'cpu': cpu,
            'msgs_per_s': receiver.count / seconds, 'bytes_per_s': receiver.bytes / seconds,
            'lost': sent - receiver.count, 'out_of_order': receiver.out_of_order,
            'payload': payload_size,
        }

    async def throughput(self, kind: str, mtu: int) -> None:
        run = self.notify_run if kind == 'notify' else self.write_cmd_run
        gate = self.server_gate if kind == 'notify' else self.client_gate
        await run(self.args.warmup, self.args.seconds, mtu)  # warm-up, not reported
        await gate.drain(10)
        results = []
        for _ in range(self.args.runs):
            results.append(await run(self.args.count, self.args.seconds, mtu))
            await gate.drain(10)
        ordered = sorted(results, key=lambda r: r['msgs_per_s'])
        median = ordered[len(ordered) // 2]
        lost = sum(r['lost'] for r in results)
        disorder = sum(r['out_of_order'] for r in results)
        if lost or disorder:
            self.ok = False
        emit(f'BUMBLE {kind} mtu={mtu} payload={median["payload"]} count={median["count"]} '
             f'seconds={median["seconds"]:.3f} msgs_per_s={median["msgs_per_s"]:.0f} '
             f'bytes_per_s={median["bytes_per_s"]:.0f} cpu_s={median["cpu"]:.3f} runs={len(results)} '
             f'min_msgs_per_s={ordered[0]["msgs_per_s"]:.0f} max_msgs_per_s={ordered[-1]["msgs_per_s"]:.0f} '
             f'lost={lost} out_of_order={disorder}')

    # --- discovery ---------------------------------------------------------------------------
    async def discovery(self, mtu: int) -> None:
        client = self.client_connection.gatt_client
        original = client.send_request
        counter = {'n': 0}

        async def counting(request):
            counter['n'] += 1
            return await original(request)

        client.send_request = counting
        times = []
        shape = None
        requests = 0
        try:
            for _ in range(self.args.discovery_runs):
                client.services = []  # forget the previous run: every run starts from scratch
                counter['n'] = 0
                t0 = time.perf_counter()
                await asyncio.wait_for(self.peer.discover_all(), 30)
                times.append((time.perf_counter() - t0) * 1000)
                requests = counter['n']
                services = self.peer.services
                chars = sum(len(s.characteristics) for s in services)
                descs = sum(len(c.descriptors) for s in services for c in s.characteristics)
                shape = (len(services), chars, descs)
        finally:
            client.send_request = original
        emit(f'BUMBLE discovery mtu={mtu} services={shape[0]} chars={shape[1]} descs={shape[2]} '
             f'requests={requests} runs={len(times)} median_ms={statistics.median(times):.2f} '
             f'min_ms={min(times):.2f} max_ms={max(times):.2f}')

    # --- main ----------------------------------------------------------------------------------
    async def run(self) -> int:
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
        emit(f'BUMBLE env cpus={os.cpu_count()} affinity={affinity} python={platform.python_version()} '
             f'bumble={BUMBLE_VERSION} machine={platform.machine()} '
             f'acl={Controller.le_acl_data_packet_length}x{Controller.total_num_le_acl_data_packets} '
             f'max_pending={self.args.max_pending}')
        await self.setup()
        notify_proxy, self.sink_proxy = await self.discovered_proxies()
        self.stream = Receiver()
        await notify_proxy.subscribe(self.stream.on_value)  # CCCD 0x0001

        for mtu in (23, 247):
            if mtu != 23:
                got = await self.peer.request_mtu(mtu)
                if got != mtu or self.server_connection.att_mtu != mtu:
                    raise Failure(f'MTU exchange gave {got} / {self.server_connection.att_mtu}, not {mtu}')
            await self.discovery(mtu)
            await self.throughput('notify', mtu)
            await self.throughput('write_cmd', mtu)

        await self.client_connection.disconnect()
        return 0 if self.ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--count', type=int, default=5000, help='messages per run, at most [5000]')
    ap.add_argument('--seconds', type=float, default=3.0, help='sending time per run, at most [3]')
    ap.add_argument('--runs', type=int, default=3, help='measured runs per figure (median reported) [3]')
    ap.add_argument('--warmup', type=int, default=200, help='messages sent before measuring [200]')
    ap.add_argument('--discovery-runs', type=int, default=20, help='discoveries per MTU [20]')
    ap.add_argument('--max-pending', type=int, default=128,
                    help='ACL fragments queued but not completed before the sender waits [128]')
    ap.add_argument('--log-level', default=os.environ.get('BUMBLE_LOGLEVEL', 'WARNING'))
    args = ap.parse_args()
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    try:
        return asyncio.run(asyncio.wait_for(Bench(args).run(), 300))
    except (Failure, asyncio.TimeoutError) as error:
        emit(f'ERROR {type(error).__name__}: {error}')
        return 1


if __name__ == '__main__':
    sys.exit(main())
