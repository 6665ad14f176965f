package io.dts.worker;

import io.dts.testsupport.PackageRooms;
import org.junit.jupiter.api.Test;

/** The worker's packages depend downwards only (kafka → shard → item → sandbox, shard → redis, all → config). */
class PackageStructureTest {

    @Test
    void packages_have_no_loop_and_hold_at_most_twelve_classes() {
        PackageRooms.of("io.dts.worker").haveNoLoop().holdAtMost(12);
    }
}
