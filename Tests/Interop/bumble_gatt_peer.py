#!/usr/bin/env python3
"""A Bumble host device playing one GATT role against the stack under test.

    bumble_gatt_peer.py [--transport T] [--timeout S] [--address A] MODE [options]

It shares the harness of bumble_peer.py (transport, --timeout, signals, parent watch, the
CONNECTED / DISCONNECTED / DONE / ERROR / TIMEOUT / STOPPED lines); see that file too.

MODE is one of

  gatt-server --name NAME [--mtu N] [--notify-count K] [--indicate-count K] [--stream-size L]
              [--cycles K] [--interval MS] [--own-address-type random|public]
      A peripheral advertising NAME (ADV_IND: flags + complete local name) with this database
      after Bumble's own GAP (0x1800) and GATT (0x1801) services. Test service
      3C5B0000-6E0A-4B5E-9C2D-2F1A7D3E8B10, characteristics 3C5B00xx-6E0A-4B5E-9C2D-2F1A7D3E8B10:
        ...0001 READ    read                           b'Bumble read value', + 0x2901 user
                                                       description b'Bumble READ characteristic'
        ...0002 ECHO    write, write-no-rsp, notify    every write is notified back (even without
                                                       a subscription), cut to MTU-3
        ...0003 STREAM  notify, indicate               a CCCD write with the notify bit sends
                                                       --notify-count notifications (10); with the
                                                       indicate bit --indicate-count indications (3,
                                                       each one waits for its confirmation).
                                                       Payload: <u32 seq><u32 count> little endian,
                                                       then bytes 0x00.. up to --stream-size bytes
                                                       (20; 0 = MTU-3; never more than MTU-3)
        ...0005 LONG    read                           600 bytes, byte i = (7*i+3) & 0xFF
        ...0007 SINK    write, write-no-rsp            counts writes and bytes; a write of b'END'
                                                       prints SINK and resets the counters
        ...0008 EDGE    read                           22 bytes 0x40..0x55: exactly MTU-1 at the
                                                       default MTU 23 (a long read must stop cleanly)
      Reads of a characteristic without the read property fail with 0x02 (Read Not Permitted),
      writes without a write property with 0x03 (Write Not Permitted).
      --mtu is the server's Exchange MTU answer (Bumble's default 517). Serves --cycles
      connections (1); advertises again after each one but the last; exits 0 after the last.

  gatt-client --target-address ADDR [--address-type public|random] [--mtu 247] [--ops LIST]
              [--notify-wait MS] [--op-timeout S] [--own-address-type random|public]
      A central that connects to ADDR, exchanges the MTU (unless --mtu 23), discovers every
      service, characteristic and descriptor, prints the dump, runs --ops in order, disconnects
      and exits 0; any failed op prints ERROR and exits 1 (after disconnecting). --ops is a
      comma-separated list; TARGET is a characteristic UUID (first match; 16-bit as 2A00 or the
      full 128-bit form) or a handle '@0x0010' (any attribute, e.g. a descriptor):
        read:TARGET              Read (Bumble continues with Read Blob when the answer fills MTU-1)
        readfail:TARGET[:CODE]   a read that must fail with an ATT error (CODE hex, any if absent)
        write:TARGET:HEX         Write Request; Prepare/Execute Write when longer than MTU-3
        writefail:TARGET:HEX[:CODE]  a write (with response) that must fail with an ATT error
        writecmd:TARGET:HEX      Write Command (must fit in MTU-3)
        subscribe:TARGET[:N]     writes 0x0001 to the characteristic's CCCD, then waits for N
                                 notifications (without N: collects for --notify-wait ms)
        indicate:TARGET[:N]      the same with 0x0002 (Bumble confirms every indication)
        unsubscribe:TARGET       writes 0x0000 to the CCCD
        wait:TARGET:N            waits until N notifications+indications in all arrived for TARGET
        sleep:MS                 pauses
      Every notification or indication of a discovered characteristic is printed whenever it
      arrives, also outside subscribe/wait.

Output (stdout, one flushed line each; logs go to stderr). Handles are 0x%04X, UUIDs are printed
as they came over the air: 4 hex digits (16-bit), 8 (32-bit) or the dashed 128-bit form, upper
case; values are lower-case hex (empty when empty)::

  POWERED address=<random address> public=<controller public address>
  GATT service start=0x0001 end=0x0005 uuid=1800                     (database dump: the server
  GATT char handle=0x0002 value_handle=0x0003 end=0x0003 props=0x02 uuid=2A00   prints its own
  GATT desc handle=0x0004 uuid=2902                                   before READY, the client
                                                                      what it discovered)
  READY address=<addr> type=random|public name=<name> service=<uuid> mtu=<N>   (gatt-server)
  CONNECTED peer=<addr> peer_type=<t> handle=0x0001 role=peripheral|central
  MTU mtu=<N>                                  the exchanged ATT MTU
  READ char=<uuid> handle=<h>                  (server) each Read / Read Blob of a value
  WRITE char=<uuid> handle=<h> len=<n> value=<hex>      (server) each write to ECHO
  SUBSCRIBED char=<uuid> handle=<h> value=0x0001        (server) each CCCD write
  SENT char=<uuid> kind=notify|indicate count=<n> size=<l>   (server) a STREAM burst ended
  SINK writes=<n> bytes=<m>                    (server) on a write of b'END'
  DISCOVERED services=<n> chars=<m> descs=<k> requests=<r> ms=<t>       (client)
  READ uuid=<uuid> handle=<h> len=<n> value=<hex> | status=0x0A         (client)
  WRITE uuid=<uuid> handle=<h> len=<n> status=ok|0x..                   (client)
  WRITECMD uuid=<uuid> handle=<h> len=<n>                               (client)
  SUBSCRIBE uuid=<uuid> cccd=<h> value=0x0001|0x0002|0x0000 status=ok   (client, after the
                                                                      CCCD write's response)
  NOTIFY uuid=<uuid> handle=<h> len=<n> value=<hex>                     (client)
  INDICATE uuid=<uuid> handle=<h> len=<n> value=<hex>                   (client)
  RECEIVED uuid=<uuid> notifications=<n> indications=<m>                (client, end of a wait)
  DISCONNECTED reason=0x13 handle=0x0001 initiator=local|remote
  DONE | ERROR <text> | TIMEOUT phase=<p> | STOPPED ...   (exit codes 0, 1, 2, 0 as bumble_peer.py)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import struct
import sys
import time

from bumble import att, gatt, hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Device, Peer
from bumble.gatt import Characteristic, CharacteristicValue, Descriptor, Service

# The shared harness lives next to this file (sys.path[0]); no __pycache__ in the source tree.
sys.dont_write_bytecode = True
import bumble_peer as base  # noqa: E402
from bumble_peer import Failure, emit  # noqa: E402

log = logging.getLogger('bumble_gatt_peer')

BASE_UUID = '3C5B00{:02X}-6E0A-4B5E-9C2D-2F1A7D3E8B10'
SERVICE_UUID = BASE_UUID.format(0x00)
READ_UUID = BASE_UUID.format(0x01)
ECHO_UUID = BASE_UUID.format(0x02)
STREAM_UUID = BASE_UUID.format(0x03)
LONG_UUID = BASE_UUID.format(0x05)
SINK_UUID = BASE_UUID.format(0x07)
EDGE_UUID = BASE_UUID.format(0x08)

READ_VALUE = b'Bumble read value'
READ_DESCRIPTION = b'Bumble READ characteristic'
LONG_VALUE = bytes((7 * i + 3) & 0xFF for i in range(600))
EDGE_VALUE = bytes(range(0x40, 0x40 + 22))
SINK_END = b'END'

CCCD_UUID = gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR

# Static random addresses, distinct from bumble_peer.py's (LocalLink routes by address).
base.DEFAULT_ADDRESSES.update({
    'gatt-server': 'C4:B0:00:00:00:04',
    'gatt-client': 'C4:B0:00:00:00:05',
})


def uuid_text(uuid: UUID) -> str:
    """A UUID as it came over the air: 2A00, 12345678 or the dashed 128-bit form."""
    return uuid.to_hex_str('-').upper()


def h16(handle: int) -> str:
    return f'0x{handle:04X}'


# ------------------------------------------------------------------------------------------------
# Database dumps (the same format on both sides, so that they can be compared line by line)
# ------------------------------------------------------------------------------------------------
def service_line(start: int, end: int, uuid: UUID) -> str:
    return f'GATT service start={h16(start)} end={h16(end)} uuid={uuid_text(uuid)}'


def char_line(declaration: int, value: int, end: int, props: int, uuid: UUID) -> str:
    return (f'GATT char handle={h16(declaration)} value_handle={h16(value)} end={h16(end)} '
            f'props=0x{int(props):02X} uuid={uuid_text(uuid)}')


def desc_line(handle: int, uuid: UUID) -> str:
    return f'GATT desc handle={h16(handle)} uuid={uuid_text(uuid)}'


def server_dump(server) -> list[str]:
    """The lines for a Bumble GATT server's own attribute table, in handle order."""
    lines = []
    for attribute in sorted(server.attributes, key=lambda a: a.handle):
        if isinstance(attribute, Service):
            lines.append(service_line(attribute.handle, attribute.end_group_handle, attribute.uuid))
        elif isinstance(attribute, gatt.CharacteristicDeclaration):
            c = attribute.characteristic
            lines.append(char_line(attribute.handle, attribute.value_handle, attribute.end_group_handle,
                                   c.properties, c.uuid))
        elif isinstance(attribute, gatt.IncludedServiceDeclaration):
            lines.append(f'GATT include handle={h16(attribute.handle)} '
                         f'service={h16(attribute.service.handle)}')
        elif isinstance(attribute, Characteristic):
            continue  # the value attribute: described by its declaration's line
        else:
            lines.append(desc_line(attribute.handle, attribute.type))
    return lines


# ------------------------------------------------------------------------------------------------
# gatt-server
# ------------------------------------------------------------------------------------------------
class GattServerApp:
    def __init__(self, args, device: Device) -> None:
        self.args = args
        self.device = device
        self.tasks: set[asyncio.Task] = set()
        self.sink_writes = 0
        self.sink_bytes = 0
        P = Characteristic.Properties

        # Bumble 0.0.236 checks no READABLE/WRITEABLE permission bit: a read of a value without
        # a read function (or a write without a write function) raises inside the server and the
        # request is never answered. So every value here answers both, refusing with the ATT
        # errors Read Not Permitted (0x02) / Write Not Permitted (0x03) what its properties lack;
        # a static value would even be overwritten by a remote write.
        def value(uuid: str, read=None, write=None) -> CharacteristicValue:
            def on_read(connection) -> bytes:
                if read is None:
                    raise att.ATT_Error(att.ATT_READ_NOT_PERMITTED_ERROR)
                if uuid in self.handles:
                    emit(f'READ char={uuid} handle={h16(self.handles[uuid])}')
                return read

            def on_write(connection, data: bytes) -> None:
                if write is None:
                    raise att.ATT_Error(att.ATT_WRITE_NOT_PERMITTED_ERROR)
                write(connection, data)
            return CharacteristicValue(read=on_read, write=on_write)

        rw = Characteristic.READABLE | Characteristic.WRITEABLE
        self.read_char = Characteristic(
            READ_UUID, P.READ, rw, value(READ_UUID, read=READ_VALUE),
            descriptors=[Descriptor(gatt.GATT_CHARACTERISTIC_USER_DESCRIPTION_DESCRIPTOR, rw,
                                    value('2901', read=READ_DESCRIPTION))])
        self.echo_char = Characteristic(
            ECHO_UUID, P.WRITE | P.WRITE_WITHOUT_RESPONSE | P.NOTIFY, rw,
            value(ECHO_UUID, write=self.on_echo_write))
        self.stream_char = Characteristic(STREAM_UUID, P.NOTIFY | P.INDICATE, rw, value(STREAM_UUID))
        self.long_char = Characteristic(LONG_UUID, P.READ, rw, value(LONG_UUID, read=LONG_VALUE))
        self.sink_char = Characteristic(
            SINK_UUID, P.WRITE | P.WRITE_WITHOUT_RESPONSE, rw, value(SINK_UUID, write=self.on_sink_write))
        self.edge_char = Characteristic(EDGE_UUID, P.READ, rw, value(EDGE_UUID, read=EDGE_VALUE))
        device.add_service(Service(SERVICE_UUID, [
            self.read_char, self.echo_char, self.stream_char, self.long_char, self.sink_char,
            self.edge_char]))
        # Handles are assigned by add_service.
        self.handles = {str(c.uuid).upper(): c.handle for c in (
            self.read_char, self.echo_char, self.stream_char, self.long_char, self.sink_char,
            self.edge_char)}
        device.gatt_server.max_mtu = args.mtu
        device.on('characteristic_subscription', self.on_subscription)

    def spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def on_echo_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        emit(f'WRITE char={ECHO_UUID} handle={h16(self.echo_char.handle)} len={len(value)} value={value.hex()}')
        # force=True: echo even when the client has not subscribed (Bumble cuts it to MTU-3).
        self.spawn(self.device.notify_subscriber(connection, self.echo_char, value, force=True))

    def on_sink_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        if value == SINK_END:
            emit(f'SINK writes={self.sink_writes} bytes={self.sink_bytes}')
            self.sink_writes = self.sink_bytes = 0
            return
        self.sink_writes += 1
        self.sink_bytes += len(value)

    def on_subscription(self, connection, characteristic, notify: bool, indicate: bool) -> None:
        value = (1 if notify else 0) | (2 if indicate else 0)
        emit(f'SUBSCRIBED char={uuid_text(characteristic.uuid)} handle={h16(characteristic.handle)} '
             f'value=0x{value:04X}')
        if characteristic is self.stream_char:
            if indicate:
                self.spawn(self.burst(connection, True, self.args.indicate_count))
            elif notify:
                self.spawn(self.burst(connection, False, self.args.notify_count))

    async def burst(self, connection, indicate: bool, count: int) -> None:
        mtu_payload = connection.att_mtu - 3
        size = self.args.stream_size or mtu_payload
        size = max(8, min(size, mtu_payload))
        filler = bytes(i & 0xFF for i in range(size))
        kind = 'indicate' if indicate else 'notify'
        t0 = time.perf_counter()
        try:
            for seq in range(count):
                value = struct.pack('<II', seq, count) + filler[8:size]
                if indicate:
                    # Returns once the client's Handle Value Confirmation arrived.
                    await self.device.indicate_subscriber(connection, self.stream_char, value)
                else:
                    await self.device.notify_subscriber(connection, self.stream_char, value)
        except Exception as error:  # noqa: BLE001 - a disconnection or a confirmation timeout
            emit(f'BURST-ABORTED char={STREAM_UUID} kind={kind} error={type(error).__name__}')
            return
        emit(f'SENT char={STREAM_UUID} kind={kind} count={count} size={size} '
             f'ms={(time.perf_counter() - t0) * 1000:.1f}')


async def run_gatt_server(args, device: Device, phase: base.Phase) -> None:
    app = GattServerApp(args, device)
    for line in server_dump(device.gatt_server):
        emit(line)

    name = args.name
    adv = bytes(AdvertisingData([
        (AdvertisingData.FLAGS, bytes([0x06])),
        (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
    ]))
    if len(adv) > 31:
        raise Failure(f'advertising data is {len(adv)} bytes (> 31): use a shorter --name')
    connections: asyncio.Queue = asyncio.Queue()
    device.on('connection', connections.put_nowait)
    initiated: dict = {}
    own = base.own_type(args.own_address_type)
    public = own == hci.OwnAddressType.PUBLIC
    shown = device.public_address if public else device.random_address

    for cycle in range(args.cycles):
        phase.name = f'advertise-cycle-{cycle + 1}'
        await device.start_advertising(
            own_address_type=own, advertising_data=adv,
            advertising_interval_min=args.interval, advertising_interval_max=args.interval)
        emit(f'READY address={base.addr_str(shown)} type={"public" if public else "random"} '
             f'name={base.token(name)} service={SERVICE_UUID} mtu={args.mtu} cycle={cycle + 1}')
        phase.name = f'wait-connection-{cycle + 1}'
        connection = await connections.get()
        gone = base.watch_connection(connection, 'peripheral', initiated)
        connection.on('connection_att_mtu_update', lambda c=connection: emit(f'MTU mtu={c.att_mtu}'))
        phase.name = f'serve-connection-{cycle + 1}'
        await gone
        try:
            await device.stop_advertising()
        except Exception as error:  # noqa: BLE001 - already stopped is fine
            log.debug('stop_advertising: %r', error)
    for task in list(app.tasks):
        task.cancel()


# ------------------------------------------------------------------------------------------------
# gatt-client
# ------------------------------------------------------------------------------------------------
class Database:
    """What the client discovered, with lookups by UUID and handle."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.chars: list = []  # CharacteristicProxy, in handle order
        self.uuid_of: dict[int, UUID] = {}  # value and descriptor handles -> UUID
        self.received: dict[int, list[int]] = {}  # value handle -> [notifications, indications]

    def char_by_target(self, target: str):
        handle = self.handle_of(target)
        for char in self.chars:
            if char.handle == handle:
                return char
        raise Failure(f'no characteristic with value handle {h16(handle)} (target {target})')

    def handle_of(self, target: str) -> int:
        if target.startswith('@'):
            try:
                return int(target[1:], 0)
            except ValueError:
                raise Failure(f'bad handle in target {target!r}') from None
        try:
            uuid = UUID(target)
        except Exception:  # noqa: BLE001 - report the bad op text
            raise Failure(f'bad UUID in target {target!r}') from None
        for char in self.chars:
            if char.uuid == uuid:
                return char.handle
        raise Failure(f'no characteristic with UUID {target} was discovered')

    def name(self, handle: int) -> str:
        uuid = self.uuid_of.get(handle)
        return uuid_text(uuid) if uuid is not None else '?'


class GattClientApp:
    def __init__(self, args, device: Device, connection, gone: asyncio.Future, phase: base.Phase) -> None:
        self.args = args
        self.phase = phase
        self.device = device
        self.connection = connection
        self.gone = gone
        self.peer = Peer(connection)
        self.client = connection.gatt_client
        self.db = Database()
        self.declarations: dict[int, int] = {}  # value handle -> declaration handle
        self.requests = 0
        self.arrived = asyncio.Event()
        self._observe_requests()

    def _observe_requests(self) -> None:
        """Counts ATT requests and records characteristic declaration handles, which Bumble's
        CharacteristicProxy does not keep (its .handle is the value handle)."""
        original = self.client.send_request

        async def send_request(request):
            self.requests += 1
            response = await original(request)
            if (isinstance(request, att.ATT_Read_By_Type_Request)
                    and request.attribute_type == gatt.GATT_CHARACTERISTIC_ATTRIBUTE_TYPE
                    and response is not None and response.op_code == att.Opcode.ATT_READ_BY_TYPE_RESPONSE):
                for declaration, value in response.attributes:
                    if len(value) >= 3:
                        self.declarations[struct.unpack_from('<H', value, 1)[0]] = declaration
            return response

        self.client.send_request = send_request

    async def bounded(self, awaitable, what: str, timeout: float | None = None):
        """Awaits `awaitable`, failing on timeout or when the link goes down first."""
        task = asyncio.ensure_future(awaitable)
        limit = self.args.op_timeout if timeout is None else timeout
        done, _ = await asyncio.wait({task, self.gone}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        if self.gone in done:
            raise Failure(f'{what}: the link went down (reason 0x{self.gone.result():02X})')
        raise Failure(f'{what}: no answer within {limit:g} s')

    # --- discovery ---------------------------------------------------------------------------
    async def discover(self) -> None:
        t0 = time.perf_counter()
        self.requests = 0
        await self.bounded(self.peer.discover_all(), 'discovery', self.args.op_timeout * 3)
        ms = (time.perf_counter() - t0) * 1000
        n_chars = n_descs = 0
        db = self.db
        for service in sorted(self.peer.services, key=lambda s: s.handle):
            db.lines.append(service_line(service.handle, service.end_group_handle, service.uuid))
            for char in sorted(service.characteristics, key=lambda c: c.handle):
                n_chars += 1
                db.chars.append(char)
                db.uuid_of[char.handle] = char.uuid
                declaration = self.declarations.get(char.handle, char.handle - 1)
                db.lines.append(char_line(declaration, char.handle, char.end_group_handle,
                                          char.properties, char.uuid))
                for desc in sorted(char.descriptors, key=lambda d: d.handle):
                    n_descs += 1
                    db.uuid_of[desc.handle] = desc.type
                    db.lines.append(desc_line(desc.handle, desc.type))
        for line in db.lines:
            emit(line)
        emit(f'DISCOVERED services={len(self.peer.services)} chars={n_chars} descs={n_descs} '
             f'requests={self.requests} ms={ms:.1f}')
        # Print every notification / indication of every discovered characteristic. Bumble's
        # client delivers them to the callables registered for the value handle (the same sets
        # its own subscribe() fills); the CCCD writes are done by the ops themselves.
        for char in db.chars:
            handle = char.handle
            self.client.notification_subscribers.setdefault(handle, set()).add(
                lambda value, h=handle: self.on_value(h, value, False))
            self.client.indication_subscribers.setdefault(handle, set()).add(
                lambda value, h=handle: self.on_value(h, value, True))

    def on_value(self, handle: int, value: bytes, indication: bool) -> None:
        value = bytes(value)
        counts = self.db.received.setdefault(handle, [0, 0])
        counts[1 if indication else 0] += 1
        emit(f'{"INDICATE" if indication else "NOTIFY"} uuid={self.db.name(handle)} handle={h16(handle)} '
             f'len={len(value)} value={value.hex()}')
        self.arrived.set()

    def total_received(self, handle: int) -> int:
        return sum(self.db.received.get(handle, [0, 0]))

    # --- ops ---------------------------------------------------------------------------------
    async def run_ops(self, ops: list[str]) -> None:
        for index, op in enumerate(ops):
            self.phase.name = f'op-{index + 1}-{op.split(":")[0]}'
            await self.run_op(op)

    async def run_op(self, op: str) -> None:
        parts = op.split(':')
        kind, rest = parts[0], parts[1:]

        def need(n_min: int, n_max: int) -> None:
            if not n_min <= len(rest) <= n_max:
                raise Failure(f'op {op!r}: expected {n_min}..{n_max} argument(s)')

        def hex_arg(text: str) -> bytes:
            try:
                return bytes.fromhex(text)
            except ValueError:
                raise Failure(f'op {op!r}: bad hex {text!r}') from None

        if kind == 'read':
            need(1, 1)
            handle = self.db.handle_of(rest[0])
            try:
                value = bytes(await self.bounded(self.client.read_value(handle), f'read {rest[0]}'))
            except att.ATT_Error as error:
                emit(f'READ uuid={self.db.name(handle)} handle={h16(handle)} status=0x{error.error_code:02X}')
                raise Failure(f'read {rest[0]}: ATT error 0x{error.error_code:02X}') from None
            emit(f'READ uuid={self.db.name(handle)} handle={h16(handle)} len={len(value)} value={value.hex()}')
        elif kind == 'readfail':
            need(1, 2)
            handle = self.db.handle_of(rest[0])
            expected = int(rest[1], 16) if len(rest) > 1 else None
            try:
                value = bytes(await self.bounded(self.client.read_value(handle), f'read {rest[0]}'))
            except att.ATT_Error as error:
                emit(f'READ uuid={self.db.name(handle)} handle={h16(handle)} status=0x{error.error_code:02X}')
                if expected is not None and error.error_code != expected:
                    raise Failure(f'readfail {rest[0]}: ATT error 0x{error.error_code:02X}, '
                                  f'expected 0x{expected:02X}') from None
                return
            emit(f'READ uuid={self.db.name(handle)} handle={h16(handle)} len={len(value)} value={value.hex()}')
            raise Failure(f'readfail {rest[0]}: the read succeeded')
        elif kind == 'write':
            need(2, 2)
            handle = self.db.handle_of(rest[0])
            data = hex_arg(rest[1])
            try:
                await self.bounded(self.client.write_value(handle, data, with_response=True), f'write {rest[0]}')
            except att.ATT_Error as error:
                emit(f'WRITE uuid={self.db.name(handle)} handle={h16(handle)} len={len(data)} '
                     f'status=0x{error.error_code:02X}')
                raise Failure(f'write {rest[0]}: ATT error 0x{error.error_code:02X}') from None
            emit(f'WRITE uuid={self.db.name(handle)} handle={h16(handle)} len={len(data)} status=ok')
        elif kind == 'writefail':
            need(2, 3)
            handle = self.db.handle_of(rest[0])
            data = hex_arg(rest[1])
            expected = int(rest[2], 16) if len(rest) > 2 else None
            try:
                await self.bounded(self.client.write_value(handle, data, with_response=True), f'write {rest[0]}')
            except att.ATT_Error as error:
                emit(f'WRITE uuid={self.db.name(handle)} handle={h16(handle)} len={len(data)} '
                     f'status=0x{error.error_code:02X}')
                if expected is not None and error.error_code != expected:
                    raise Failure(f'writefail {rest[0]}: ATT error 0x{error.error_code:02X}, '
                                  f'expected 0x{expected:02X}') from None
                return
            emit(f'WRITE uuid={self.db.name(handle)} handle={h16(handle)} len={len(data)} status=ok')
            raise Failure(f'writefail {rest[0]}: the write succeeded')
        elif kind == 'writecmd':
            need(2, 2)
            handle = self.db.handle_of(rest[0])
            data = hex_arg(rest[1])
            if len(data) > self.connection.att_mtu - 3:
                raise Failure(f'writecmd {rest[0]}: {len(data)} bytes > MTU-3 ({self.connection.att_mtu - 3})')
            await self.bounded(self.client.write_value(handle, data, with_response=False), f'writecmd {rest[0]}')
            emit(f'WRITECMD uuid={self.db.name(handle)} handle={h16(handle)} len={len(data)}')
        elif kind in ('subscribe', 'indicate', 'unsubscribe'):
            need(1, 1 if kind == 'unsubscribe' else 2)
            char = self.db.char_by_target(rest[0])
            cccd = char.get_descriptor(CCCD_UUID)
            if cccd is None:
                raise Failure(f'{kind} {rest[0]}: the characteristic has no CCCD (0x2902)')
            bits = {'subscribe': 0x0001, 'indicate': 0x0002, 'unsubscribe': 0x0000}[kind]
            before = self.total_received(char.handle)
            try:
                await self.bounded(self.client.write_value(cccd.handle, struct.pack('<H', bits), with_response=True),
                                   f'{kind} {rest[0]}')
            except att.ATT_Error as error:
                emit(f'SUBSCRIBE uuid={self.db.name(char.handle)} cccd={h16(cccd.handle)} value=0x{bits:04X} '
                     f'status=0x{error.error_code:02X}')
                raise Failure(f'{kind} {rest[0]}: ATT error 0x{error.error_code:02X}') from None
            emit(f'SUBSCRIBE uuid={self.db.name(char.handle)} cccd={h16(cccd.handle)} value=0x{bits:04X} status=ok')
            if kind != 'unsubscribe':
                count = int(rest[1]) if len(rest) > 1 else None
                await self.collect(char.handle, before, count)
        elif kind == 'wait':
            need(2, 2)
            handle = self.db.handle_of(rest[0])
            await self.collect(handle, 0, int(rest[1]))
        elif kind == 'sleep':
            need(1, 1)
            await self.bounded(asyncio.sleep(int(rest[0]) / 1000), 'sleep', int(rest[0]) / 1000 + 1)
        else:
            raise Failure(f'unknown op {op!r}')

    async def collect(self, handle: int, before: int, count: int | None) -> None:
        """Waits for `count` values on `handle` beyond `before` (None: for --notify-wait ms)."""
        deadline = time.monotonic() + self.args.notify_wait / 1000
        while count is None or self.total_received(handle) - before < count:
            left = deadline - time.monotonic()
            if left <= 0 or self.gone.done():
                break
            self.arrived.clear()
            try:
                await asyncio.wait_for(asyncio.shield(self.arrived.wait()), left)
            except asyncio.TimeoutError:
                break
        n, i = self.db.received.get(handle, [0, 0])
        emit(f'RECEIVED uuid={self.db.name(handle)} notifications={n} indications={i}')
        got = self.total_received(handle) - before
        if count is not None and got < count:
            raise Failure(f'{self.db.name(handle)}: {got} of {count} notifications/indications '
                          f'within {self.args.notify_wait} ms')


async def run_gatt_client(args, device: Device, phase: base.Phase) -> None:
    kind = hci.Address.PUBLIC_DEVICE_ADDRESS if args.address_type == 'public' else hci.Address.RANDOM_DEVICE_ADDRESS
    peer_address = hci.Address(args.target_address, kind)
    phase.name = f'connect-{base.addr_str(peer_address)}-{args.address_type}'
    connection = await device.connect(peer_address, own_address_type=base.own_type(args.own_address_type),
                                      timeout=args.timeout)
    initiated: dict = {}
    gone = base.watch_connection(connection, 'central', initiated)
    app = GattClientApp(args, device, connection, gone, phase)
    failure: Exception | None = None
    try:
        if args.mtu != 23:
            phase.name = 'mtu-exchange'
            mtu = await app.bounded(app.peer.request_mtu(args.mtu), 'MTU exchange')
            emit(f'MTU mtu={mtu}')
        phase.name = 'discovery'
        await app.discover()
        await app.run_ops([op for op in (args.ops or '').split(',') if op.strip()])
    except Failure as error:
        failure = error
    if not gone.done():
        phase.name = 'disconnect'
        initiated[connection.handle] = True
        await connection.disconnect()
        phase.name = 'wait-disconnection'
        await gone
    if failure is not None:
        raise failure


# ------------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--transport', default='tcp-client:127.0.0.1:9001',
                    help='Bumble transport of the controller (tcp-client:H:P, serial:PATH, ...)')
    ap.add_argument('--timeout', type=float, default=30.0, help='limit for the whole run, in s [30]')
    ap.add_argument('--address', help='own static random address (default depends on the mode)')
    ap.add_argument('--log-level', default=os.environ.get('BUMBLE_LOGLEVEL', 'WARNING'))
    sub = ap.add_subparsers(dest='mode', required=True)

    srv = sub.add_parser('gatt-server', help='peripheral with the test GATT database')
    srv.add_argument('--name', required=True)
    srv.add_argument('--mtu', type=int, default=517, help="the server's Exchange MTU answer [517]")
    srv.add_argument('--notify-count', type=int, default=10)
    srv.add_argument('--indicate-count', type=int, default=3)
    srv.add_argument('--stream-size', type=int, default=20, help='STREAM payload size, 0 = MTU-3 [20]')
    srv.add_argument('--own-address-type', choices=('random', 'public'), default='random')
    srv.add_argument('--interval', type=float, default=20.0, help='advertising interval in ms [20]')
    srv.add_argument('--cycles', type=int, default=1, help='connections to serve [1]')

    cli = sub.add_parser('gatt-client', help='central: MTU, discovery, then --ops')
    cli.add_argument('--target-address', required=True)
    cli.add_argument('--address-type', choices=('public', 'random'), default='random')
    cli.add_argument('--own-address-type', choices=('random', 'public'), default='random')
    cli.add_argument('--mtu', type=int, default=247, help='MTU to request; 23 = no exchange [247]')
    cli.add_argument('--ops', default='', help='comma-separated ops (see the module help)')
    cli.add_argument('--notify-wait', type=int, default=3000, metavar='MS',
                     help='how long subscribe/indicate/wait collect values [3000]')
    cli.add_argument('--op-timeout', type=float, default=10.0, help='limit per ATT procedure, in s [10]')

    args = ap.parse_args()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.mode == 'gatt-server':
        if args.cycles < 1:
            ap.error('--cycles must be at least 1')
        if not 23 <= args.mtu <= 517:
            ap.error('--mtu must be in 23...517')
    else:
        args.name = None
        if not 23 <= args.mtu <= 517:
            ap.error('--mtu must be in 23...517')
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    base.MODES.update({'gatt-server': run_gatt_server, 'gatt-client': run_gatt_client})
    return asyncio.run(base.amain(args))


if __name__ == '__main__':
    sys.exit(main())
