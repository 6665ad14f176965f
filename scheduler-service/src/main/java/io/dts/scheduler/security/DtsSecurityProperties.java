package io.dts.scheduler.security;

import java.nio.file.Path;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Who may use the API, under {@code dts.security.*}. The rules themselves are {@link SecurityConfig}'s.
 *
 * @param mode     how a request proves who sent it: {@code token} (a key of the keys file), {@code jwt} (a JWT
 *                 verified as {@code spring.security.oauth2.resourceserver.jwt.*} says) or {@code off} (everyone
 *                 is an operator; allowed only when the server listens on a loopback address)
 * @param keysFile the keys of token mode: one a line, {@code name role sha256-hex-of-token}; read again when it
 *                 changes. Required in token mode
 * @param jwt      the settings of JWT mode
 */
@Validated
@ConfigurationProperties("dts.security")
public record DtsSecurityProperties(@NotNull Mode mode, Path keysFile, @Valid @NotNull Jwt jwt) {

    public enum Mode { TOKEN, JWT, OFF }

    /** @param rolesClaim the claim that holds a JWT's roles (reader, submitter, operator): a list, or a string of space-separated names */
    public record Jwt(@NotBlank String rolesClaim) {
    }

    public DtsSecurityProperties {
        if (mode == Mode.TOKEN && keysFile == null) {
            throw new IllegalArgumentException("dts.security.keys-file is not set: token mode (the default) checks every request's "
                    + "token against a keys file of 'name role sha256-of-token' lines (./scripts/stack.sh up makes one). "
                    + "Set it, or set dts.security.mode to jwt, or to off on a loopback address.");
        }
    }
}
