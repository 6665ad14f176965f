package io.dts.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** A worker node: runs the items of the shards it is given on every core, and reports them in Redis. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class WorkerApplication {

    public static void main(String[] args) {
        // Start item sandboxes with vfork and exec, not through the jspawnhelper program: one exec less per sandbox.
        System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
        SpringApplication.run(WorkerApplication.class, args);
    }
}
