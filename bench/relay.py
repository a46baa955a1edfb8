"""A TCP relay that adds a fixed delay each way, to measure a tool under network latency.

usage: relay.py DELAY_MS LISTEN_PORT:TARGET_PORT...   (all on 127.0.0.1)

Every chunk read on one side is written to the other side DELAY_MS later, in order, so a
round trip through the relay costs 2 × DELAY_MS more. TCP_NODELAY is set on both legs so the
relay itself adds no Nagle delay. A reset on one side closes the other after the same delay,
so that servers see a client go away as they would without the relay. Prints "ready" once
every port listens; stops on SIGTERM.
"""

import asyncio
import signal
import socket
import sys


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time() + delay, None))

    async def write_side():
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    await writer.drain()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read_side(), write_side())


async def handle(client_reader, client_writer, target_port, delay):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    for writer in (client_writer, server_writer):
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(pump(client_reader, server_writer, delay),
                         pump(server_reader, client_writer, delay))
    for writer in (client_writer, server_writer):
        writer.close()


async def main(delay_ms, pairs):
    delay = delay_ms / 1000
    servers = []
    for pair in pairs:
        listen_port, target_port = (int(p) for p in pair.split(":"))
        servers.append(await asyncio.start_server(
            lambda r, w, t=target_port: handle(r, w, t, delay), "127.0.0.1", listen_port,
            backlog=1024))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]), sys.argv[2:]))
