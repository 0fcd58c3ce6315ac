#!/usr/bin/python3
"""An independent Modbus TCP peer for the integration tests: a pymodbus 3.0
server (Debian's python3-pymodbus) serving the fixed registers in REGISTERS
below on 127.0.0.1.  Run it with /usr/bin/python3 (a pyenv python3 on PATH
lacks Debian's modules).

    pymodbus_server.py --port N|0 --ready-file FILE [--zero-mode]

Once listening it writes the port to FILE (atomically: write + rename).

Address convention, checked against mbpoll: pymodbus's slave context adds 1
to every protocol address before it indexes a data block unless
zero_mode=True (the default is False), so with the default a block built as
ModbusSequentialDataBlock(0, values) answers a read of protocol address N
with values[N + 1].  --zero-mode makes values[N] answer address N; without it
this script shifts its blocks by one so that both modes serve the same
registers at the same protocol addresses.
"""
import argparse
import asyncio
import logging
import os
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartAsyncTcpServer

UNIT = 7  # deliberately not 1: the unit id must be honoured


def words(fmt, value, order="ABCD"):
    """Big-endian registers of value packed with struct fmt, reordered."""
    b = struct.pack(">" + fmt, value)
    if len(b) == 2:
        regs = [b[0] << 8 | b[1]]
        return regs
    regs = [b[i] << 8 | b[i + 1] for i in range(0, len(b), 2)]
    if order == "CDAB":
        regs = regs[::-1] if len(regs) == 2 else regs
    elif order != "ABCD":
        raise ValueError(order)
    return regs


# protocol address -> registers.  The test asserts these exact values.
HOLDING = {
    0: words("f", 21.75),               # float32 ABCD   21.75
    2: words("h", -42),                 # int16          -42
    3: words("H", 65000),               # uint16         65000
    4: words("i", -2000000, "CDAB"),    # int32 CDAB     -2000000
    6: words("I", 3000000000),          # uint32 ABCD    3000000000
}
INPUT = {
    0: words("h", -185),                # int16 x 0.1    -18.5
}
COILS = {0: 1, 1: 0, 2: 1}
DISCRETE = {0: 0, 1: 1}


def block(table, size, shift):
    values = [0] * (size + 1)
    for addr, v in table.items():
        regs = v if isinstance(v, list) else [v]
        for i, r in enumerate(regs):
            values[addr + i + shift] = r
    return ModbusSequentialDataBlock(0, values)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--zero-mode", action="store_true")
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    shift = 0 if a.zero_mode else 1
    slave = ModbusSlaveContext(
        hr=block(HOLDING, 32, shift), ir=block(INPUT, 32, shift),
        co=block(COILS, 32, shift), di=block(DISCRETE, 32, shift),
        zero_mode=a.zero_mode)
    context = ModbusServerContext(slaves={UNIT: slave}, single=False)
    server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", a.port),
                                       defer_start=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    tmp = a.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.ready_file)
    print("listening on 127.0.0.1:%d unit %d" % (port, UNIT), flush=True)
    await task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
