import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Gives the services their Kafka users and rights, run once the brokers are up, as often as you like:
 * a SCRAM-SHA-512 user for each SECRETS_DIR/ROLE/ holding dts.kafka.username and dts.kafka.password
 * (but SECRETS_DIR/broker/, the nodes' own super user, which it logs in as), and exactly the ACLs of
 * ACL_FILE for those users: missing ones are added, others of theirs removed.
 * The local stack, the tests and docker-compose all run it; with Java's source launcher:
 * <pre>java -cp 'KAFKA_LIBS/*' deploy/kafka/KafkaAccess.java BOOTSTRAP SECRETS_DIR ACL_FILE</pre>
 */
public final class KafkaAccess {

    private static final String BROKER = "broker";

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: KafkaAccess BOOTSTRAP SECRETS_DIR ACL_FILE");
            System.exit(2);
        }
        Path secrets = Path.of(args[1]);
        Map<String, Object> login = Map.of("bootstrap.servers", args[0], "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "PLAIN", "sasl.jaas.config", jaas("org.apache.kafka.common.security.plain.PlainLoginModule", secrets.resolve(BROKER)),
                "default.api.timeout.ms", 60_000);
        try (Admin admin = Admin.create(login)) {
            List<UserScramCredentialAlteration> users = new ArrayList<>();
            try (Stream<Path> roles = Files.list(secrets)) {
                for (Path role : roles.filter(Files::isDirectory).filter(dir -> !dir.endsWith(BROKER)).sorted().toList()) {
                    users.add(new UserScramCredentialUpsertion(read(role, "username"),
                            new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), read(role, "password")));
                }
            }
            admin.alterUserScramCredentials(users).all().get();

            Set<AclBinding> wanted = acls(Path.of(args[2]));
            Set<String> principals = new HashSet<>();
            wanted.forEach(acl -> principals.add(acl.entry().principal()));
            Set<AclBinding> present = new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get());
            List<AclBindingFilter> stale = present.stream()
                    .filter(acl -> principals.contains(acl.entry().principal()) && !wanted.contains(acl))
                    .map(AclBinding::toFilter).toList();
            if (!stale.isEmpty()) {
                admin.deleteAcls(stale).all().get();
            }
            List<AclBinding> missing = wanted.stream().filter(acl -> !present.contains(acl)).toList();
            admin.createAcls(missing).all().get();
            System.out.printf("Kafka access: %d users; ACLs: %d added, %d removed, %d in all%n",
                    users.size(), missing.size(), stale.size(), wanted.size());
        }
    }

    /** The lines "USER RESOURCE-TYPE PATTERN-TYPE NAME OPERATION..." as ALLOW bindings, one per operation. */
    static Set<AclBinding> acls(Path file) throws IOException {
        Set<AclBinding> acls = new HashSet<>();
        for (String line : Files.readAllLines(file)) {
            String[] words = line.strip().split("\\s+");
            if (line.isBlank() || words[0].startsWith("#")) {
                continue;
            }
            if (words.length < 5) {
                throw new IllegalArgumentException(file + ": want USER RESOURCE-TYPE PATTERN-TYPE NAME OPERATION...: " + line);
            }
            ResourcePattern resource = new ResourcePattern(ResourceType.valueOf(words[1].toUpperCase(Locale.ROOT)), words[3],
                    PatternType.valueOf(words[2].toUpperCase(Locale.ROOT)));
            for (String operation : Arrays.copyOfRange(words, 4, words.length)) {
                acls.add(new AclBinding(resource, new AccessControlEntry("User:" + words[0], "*",
                        AclOperation.valueOf(operation.toUpperCase(Locale.ROOT)), AclPermissionType.ALLOW)));
            }
        }
        return acls;
    }

    private static String jaas(String module, Path role) throws IOException {
        return module + " required username=\"" + read(role, "username") + "\" password=\"" + read(role, "password") + "\";";
    }

    private static String read(Path role, String what) throws IOException {
        return Files.readString(role.resolve("dts.kafka." + what)).strip();
    }
}
