package io.dts.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of a Redis server that cuts every connection just before the N-th
 * command a client sends reaches the server, counting commands across connections from
 * {@link #cutAtCommand}. Tests fail Redis between the steps of a change with it, then check what the
 * change left behind. It reads the client's RESP arrays to find where each command starts.
 */
public final class RedisFaultProxy implements AutoCloseable {

    private final String redisHost;
    private final int redisPort;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicLong commands = new AtomicLong();
    private volatile long cutAt;

    public RedisFaultProxy(String redisHost, int redisPort) {
        this.redisHost = redisHost;
        this.redisPort = redisPort;
        try {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, "redis-fault-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** From now on, cut every connection just before the {@code n}-th command (1 = the next one); 0 never cuts. */
    public void cutAtCommand(long n) {
        commands.set(0);
        cutAt = n;
    }

    /** Commands passed on since {@link #cutAtCommand}. */
    public long commands() {
        return commands.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(redisHost, redisPort);
                sockets.add(client);
                sockets.add(server);
                pump("to-redis", client, server, true);
                pump("from-redis", server, client, false);
            } catch (IOException e) {
                // closed, or Redis refused: the client sees its connection drop
            }
        }
    }

    private void pump(String name, Socket from, Socket to, boolean countCommands) {
        Thread thread = new Thread(() -> {
            CommandBoundaries boundaries = new CommandBoundaries();
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    int forward = n;
                    if (countCommands) {
                        for (int i = 0; i < n; i++) {
                            if (boundaries.startsCommand(buffer[i])) {
                                long command = commands.incrementAndGet();
                                if (cutAt > 0 && command >= cutAt) {
                                    forward = i;
                                    break;
                                }
                            }
                        }
                    }
                    out.write(buffer, 0, forward);
                    out.flush();
                    if (forward < n) {
                        cutAt = 0; // once: the client's reconnection goes through
                        cutAll();
                        return;
                    }
                }
            } catch (IOException e) {
                // one side closed: close the other
            }
            closeQuietly(from);
            closeQuietly(to);
        }, "redis-fault-proxy-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    private void cutAll() {
        sockets.forEach(RedisFaultProxy::closeQuietly);
        sockets.clear();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // already closed
        }
        cutAll();
    }

    /** Follows RESP arrays of bulk strings ({@code *N\r\n$len\r\n...\r\n}) byte by byte. */
    private static final class CommandBoundaries {

        private enum State { COMMAND, ARRAY_LENGTH, BULK_HEADER, BULK_LENGTH, BULK_BODY }

        private State state = State.COMMAND;
        private long number;
        private long bulksLeft;
        private long bodyLeft;

        /** Feeds one byte; true when it is the first byte of a new command. */
        boolean startsCommand(byte b) {
            switch (state) {
                case COMMAND -> {
                    if (b == '*') {
                        state = State.ARRAY_LENGTH;
                        number = 0;
                        return true;
                    }
                }
                case ARRAY_LENGTH -> {
                    if (b == '\n') {
                        bulksLeft = number;
                        state = bulksLeft > 0 ? State.BULK_HEADER : State.COMMAND;
                    } else if (b >= '0' && b <= '9') {
                        number = number * 10 + (b - '0');
                    }
                }
                case BULK_HEADER -> {
                    if (b == '$') {
                        state = State.BULK_LENGTH;
                        number = 0;
                    }
                }
                case BULK_LENGTH -> {
                    if (b == '\n') {
                        bodyLeft = number + 2; // the bytes and their \r\n
                        state = State.BULK_BODY;
                    } else if (b >= '0' && b <= '9') {
                        number = number * 10 + (b - '0');
                    }
                }
                case BULK_BODY -> {
                    if (--bodyLeft == 0) {
                        state = --bulksLeft > 0 ? State.BULK_HEADER : State.COMMAND;
                    }
                }
            }
            return false;
        }
    }
}
