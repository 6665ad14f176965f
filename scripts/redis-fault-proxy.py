#!/usr/bin/env python3
"""A TCP proxy on loopback in front of Redis, for the soak's Redis faults other than a restart.

usage: redis-fault-proxy.py LISTEN_PORT REDIS_PORT

  SIGUSR1  cuts every open connection (the clients reconnect through the proxy)
  SIGUSR2  Redis answers late: every chunk either way waits DTS_PROXY_DELAY seconds (default 0.4)
           before it is passed on, in order
  SIGHUP   no delay any more
  SIGTERM  stops the proxy

While Redis is down, a client's connection is accepted and closed at once: the client sees its
connection drop, as it would with Redis itself.
"""
import asyncio
import os
import signal
import sys

DELAY = float(os.environ.get("DTS_PROXY_DELAY", "0.4"))


class Proxy:
    def __init__(self, redis_port):
        self.redis_port = redis_port
        self.connections = set()
        self.slow = False

    async def serve(self, client_reader, client_writer):
        try:
            redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.redis_port)
        except OSError:
            client_writer.close()
            return
        pair = (client_writer, redis_writer)
        self.connections.add(pair)
        try:
            await asyncio.gather(self.pump(client_reader, redis_writer), self.pump(redis_reader, client_writer))
        finally:
            self.connections.discard(pair)
            for writer in pair:
                writer.close()

    async def pump(self, reader, writer):
        try:
            while chunk := await reader.read(65536):
                if self.slow:
                    await asyncio.sleep(DELAY)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()  # one side ended: end the other

    def cut_all(self):
        for pair in list(self.connections):
            for writer in pair:
                writer.transport.abort()

    def delay(self, slow):
        self.slow = slow


async def main(listen_port, redis_port):
    proxy = Proxy(redis_port)
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, proxy.cut_all)
    loop.add_signal_handler(signal.SIGUSR2, proxy.delay, True)
    loop.add_signal_handler(signal.SIGHUP, proxy.delay, False)
    loop.add_signal_handler(signal.SIGTERM, stopped.set_result, None)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", listen_port)
    async with server:
        await stopped
    proxy.cut_all()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
