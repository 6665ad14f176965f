package io.dts.scheduler;

import io.dts.testsupport.PackageRooms;
import org.junit.jupiter.api.Test;

/** The scheduler's feature packages (task/{api,domain,redis,kafka,events}, worker, security, config) have no loop. */
class PackageStructureTest {

    @Test
    void packages_have_no_loop() {
        PackageRooms.of("io.dts.scheduler").haveNoLoop();
    }
}
