package io.dts.model;

import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * An inputList held as the UTF-8 of its items in one array, not as one {@code String} per item: a
 * 1,000,000-item task costs its bytes and an offset per item (about 11 MB for short items) instead of
 * some 60 MB of objects, while the scheduler reads and saves it. Items are decoded when read.
 */
public final class InputItems extends AbstractList<String> implements RandomAccess {

    private byte[] utf8 = new byte[64];
    /** Where each item ends in {@link #utf8}; item i starts where item i - 1 ends. */
    private int[] ends = new int[8];
    private int size;

    @Override
    public boolean add(String item) {
        byte[] bytes = item.getBytes(StandardCharsets.UTF_8);
        int start = start(size);
        if (start + bytes.length > utf8.length) {
            utf8 = Arrays.copyOf(utf8, Math.max(utf8.length * 2, start + bytes.length));
        }
        if (size == ends.length) {
            ends = Arrays.copyOf(ends, size * 2);
        }
        System.arraycopy(bytes, 0, utf8, start, bytes.length);
        ends[size++] = start + bytes.length;
        modCount++;
        return true;
    }

    @Override
    public String get(int index) {
        Objects.checkIndex(index, size);
        return new String(utf8, start(index), ends[index] - start(index), StandardCharsets.UTF_8);
    }

    @Override
    public int size() {
        return size;
    }

    private int start(int index) {
        return index == 0 ? 0 : ends[index - 1];
    }
}
