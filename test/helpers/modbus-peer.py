"""A Modbus peer for fieldgate's tests, built on Debian's python3-pymodbus (an independent implementation).

  modbus-peer.py tcp PORT UNITS_JSON   serve Modbus TCP on 127.0.0.1:PORT
  modbus-peer.py rtu PTY UNITS_JSON    answer as RTU slave(s) on a pty (pymodbus' RTU framer and decoder)

UNITS_JSON maps unit ids to tables, e.g. {"1": {"holding": [215], "input": [], "coils": [1, 0], "discrete": [0, 1]}}.
Addresses are zero-based; a read past a table's end gets exception 2 (illegal data address). Unit ids not listed
get no answer at all. Prints "ready" on stdout once it serves. Started under `setpriv --pdeathsig KILL`, so it
dies with the test.

pymodbus does the protocol: framing (MBAP, RTU with CRC), request decoding, the datastore and exception
responses. Only the socket and pty loops are ours, because pymodbus.server and pymodbus.client import pyserial
(serial_asyncio), which Debian's python3-pymodbus only recommends and this machine does not have.
"""

import asyncio
import json
import os
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSequentialDataBlock
from pymodbus.factory import ServerDecoder
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer


def slave_context(tables):
    def block(name):
        # Sequential blocks start at address 0 (zero_mode); at least one entry, since pymodbus needs one.
        return ModbusSequentialDataBlock(0, list(tables.get(name, [])) or [0])

    return ModbusSlaveContext(
        hr=block("holding"), ir=block("input"), co=block("coils"), di=block("discrete"), zero_mode=True
    )


def server_context(units):
    return ModbusServerContext(slaves={int(unit): slave_context(tables) for unit, tables in units.items()}, single=False)


def answer_with(context, framer, write):
    """The callback pymodbus' framer calls with each decoded request: execute it, send the response."""

    def answer(request):
        response = request.execute(context[request.unit_id])
        response.transaction_id = request.transaction_id
        response.unit_id = request.unit_id
        write(framer.buildPacket(response))

    return answer


async def serve_tcp(port, context):
    units = list(context.slaves())

    async def connection(reader, writer):
        framer = ModbusSocketFramer(ServerDecoder())
        answer = answer_with(context, framer, writer.write)
        while data := await reader.read(1024):
            # The framer drops requests for units not listed: such a unit stays silent, like a device that is not there.
            framer.processIncomingPacket(data, answer, unit=units, single=False)
        writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def serve_rtu(path, context):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    framer = ModbusRtuFramer(ServerDecoder())
    units = list(context.slaves())
    answer = answer_with(context, framer, lambda packet: os.write(fd, packet))

    print("ready", flush=True)
    while True:
        data = os.read(fd, 256)
        if not data:
            return
        framer.processIncomingPacket(data, answer, unit=units, single=False)


def main():
    mode, where, units = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    context = server_context(units)
    if mode == "tcp":
        asyncio.run(serve_tcp(int(where), context))
    else:
        serve_rtu(where, context)


if __name__ == "__main__":
    main()
