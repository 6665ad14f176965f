package io.dts.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for the servers the tests start, picked below the kernel's range of ports for outgoing
 * connections. A port from that range that is free when picked can be taken by any client's
 * connection before the server meant to listen on it has started: a Redis Cluster node once failed to
 * bind its bus port that way. A port is handed out once per JVM.
 */
public final class FreePorts {

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private FreePorts() {
    }

    /** A loopback port no one listens on, that this JVM has not handed out before. */
    public static synchronized int next() {
        int below = firstEphemeralPort();
        int from = Math.max(1024, below / 2);
        for (int attempt = 0; attempt < 10_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(from, below);
            if (!HANDED_OUT.contains(port) && free(port)) {
                HANDED_OUT.add(port);
                return port;
            }
        }
        throw new IllegalStateException("No free port in " + from + ".." + (below - 1));
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The low end of the kernel's range for outgoing connections (32768 by default). */
    private static int firstEphemeralPort() {
        try {
            return Math.max(2048, Integer.parseInt(Files.readString(EPHEMERAL_RANGE).trim().split("\\s+")[0]));
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }
}
