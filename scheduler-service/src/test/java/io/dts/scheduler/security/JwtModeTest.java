package io.dts.scheduler.security;

import static org.hamcrest.Matchers.containsString;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.task.api.TaskController;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.TaskService;
import io.dts.scheduler.worker.WorkerController;
import io.dts.scheduler.worker.WorkerDirectory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;

/**
 * JWT mode: tokens signed with a key pair the test makes, verified with its public key
 * (spring.security.oauth2.resourceserver.jwt.public-key-location); the subject is the caller, the
 * {@code groups} claim (dts.security.jwt.roles-claim) its roles.
 */
@WebMvcTest(controllers = {TaskController.class, WorkerController.class},
        properties = {"dts.security.mode=jwt", "dts.security.jwt.roles-claim=groups"})
@Import({SecurityConfig.class, JwtModeTest.Properties.class})
class JwtModeTest {

    @EnableConfigurationProperties({SchedulerProperties.class, DtsSecurityProperties.class})
    static class Properties {
    }

    private static final KeyPair ISSUER = rsaKeyPair();
    private static final KeyPair STRANGER = rsaKeyPair();

    @DynamicPropertySource
    static void publicKey(DynamicPropertyRegistry registry) {
        registry.add("spring.security.oauth2.resourceserver.jwt.public-key-location", () -> "file:" + pem(ISSUER));
    }

    @Autowired
    MockMvc mvc;
    @MockitoBean
    TaskService tasks;
    @MockitoBean
    WorkerDirectory workers;

    @BeforeEach
    void anEmptyListing() {
        when(tasks.recent(any(), any(), anyInt(), any(), any())).thenReturn(new TaskPage(List.of(), null));
    }

    @Test
    void the_subject_is_the_caller_and_the_roles_claim_its_roles() throws Exception {
        mvc.perform(get("/api/tasks").header(HttpHeaders.AUTHORIZATION, bearer(ISSUER, "carol", List.of("submitter"), 60)))
                .andExpect(status().isOk());
        mvc.perform(get("/api/workers").header(HttpHeaders.AUTHORIZATION, bearer(ISSUER, "carol", List.of("submitter"), 60)))
                .andExpect(status().isForbidden());
        mvc.perform(get("/api/workers").header(HttpHeaders.AUTHORIZATION, bearer(ISSUER, "dan", List.of("operator"), 60)))
                .andExpect(status().isOk());

        verify(tasks).recent(null, null, 20, null, new Caller("carol", false));
    }

    @Test
    void a_reader_cannot_submit() throws Exception {
        mvc.perform(post("/api/tasks").contentType(MediaType.APPLICATION_JSON).content("{\"templateFunction\":\"id\"}")
                        .header(HttpHeaders.AUTHORIZATION, bearer(ISSUER, "erin", List.of("reader"), 60)))
                .andExpect(status().isForbidden())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
    }

    @Test
    void a_token_signed_by_another_key_expired_or_without_subject_is_a_401() throws Exception {
        for (String token : List.of(bearer(STRANGER, "mallory", List.of("operator"), 60), bearer(ISSUER, "carol", List.of("operator"), -60),
                bearer(ISSUER, null, List.of("operator"), 60))) {
            mvc.perform(get("/api/tasks").header(HttpHeaders.AUTHORIZATION, token))
                    .andExpect(status().isUnauthorized())
                    .andExpect(header().string(HttpHeaders.WWW_AUTHENTICATE, containsString("invalid_token")))
                    .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
        }
    }

    private static String bearer(KeyPair key, String subject, List<String> roles, long expiresInSeconds) {
        JwtEncoder encoder = NimbusJwtEncoder.withKeyPair((RSAPublicKey) key.getPublic(), (RSAPrivateKey) key.getPrivate()).build();
        JwtClaimsSet.Builder claims = JwtClaimsSet.builder().claim("groups", roles)
                .issuedAt(Instant.now().minusSeconds(120)).expiresAt(Instant.now().plusSeconds(expiresInSeconds));
        if (subject != null) {
            claims.subject(subject);
        }
        return "Bearer " + encoder.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.RS256).build(), claims.build()))
                .getTokenValue();
    }

    private static KeyPair rsaKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path pem(KeyPair key) {
        try {
            Path file = Files.createTempFile("dts-jwt", ".pem");
            file.toFile().deleteOnExit();
            return Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder().encodeToString(key.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
