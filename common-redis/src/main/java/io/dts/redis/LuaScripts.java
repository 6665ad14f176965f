package io.dts.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The server-side scripts under {@code redis/} on the classpath, each read once when loaded: a script made from
 * a resource asks the file for changes on every call, under a lock all threads share.
 */
public final class LuaScripts {

    private LuaScripts() {
    }

    /** The script {@code redis/<name>}, answering a {@code resultType}; fails at once when it is missing. */
    public static <T> RedisScript<T> load(String name, Class<T> resultType) {
        String path = "redis/" + name;
        try {
            return RedisScript.of(new ClassPathResource(path).getContentAsString(StandardCharsets.UTF_8), resultType);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + path, e);
        }
    }
}
