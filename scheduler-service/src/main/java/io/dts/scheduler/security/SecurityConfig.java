package io.dts.scheduler.security;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.dts.scheduler.task.domain.Caller;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.MethodParameter;
import org.springframework.core.convert.converter.Converter;
import org.springframework.core.env.Environment;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.WebSecurityCustomizer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.core.DefaultOAuth2AuthenticatedPrincipal;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationConverter;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.authentication.JwtGrantedAuthoritiesConverter;
import org.springframework.security.oauth2.server.resource.authentication.OpaqueTokenAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.introspection.BadOpaqueTokenException;
import org.springframework.security.oauth2.server.resource.introspection.OpaqueTokenIntrospector;
import org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.authentication.AuthenticationEntryPointFailureHandler;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.util.StringUtils;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import tools.jackson.databind.json.JsonMapper;

/**
 * Who may do what, in one place. Every request needs {@code Authorization: Bearer <token>} but the
 * liveness and readiness probes and {@code /schedule/ping}. The token is a key of the keys file
 * ({@code dts.security.mode=token}) or a JWT ({@code jwt}), and its role decides: a reader makes every
 * GET, a submitter submits and reads, cancels and retries its own tasks (the task service scopes what
 * it sees, see {@link Caller}), an operator does everything, workers and metrics included. With
 * {@code off} every request is the operator {@value #LOCAL_OPERATOR}, which is allowed only on loopback.
 * A missing or unknown token is a 401 with {@code WWW-Authenticate: Bearer}, a role that may not a 403,
 * both problem+json.
 */
@Configuration(proxyBeanMethods = false)
public class SecurityConfig {

    static final String READER = "reader";
    static final String SUBMITTER = "submitter";
    static final String OPERATOR = "operator";
    static final Set<String> ROLES = Set.of(READER, SUBMITTER, OPERATOR);
    /** The caller, and so the owner of every task, with {@code dts.security.mode=off}. */
    static final String LOCAL_OPERATOR = "local";

    private static final Logger log = LoggerFactory.getLogger(SecurityConfig.class);
    private static final String ROLE_PREFIX = "ROLE_";

    static {
        // A controller's Caller comes from the request's credential, never from a parameter: keep it out of the OpenAPI.
        SpringDocUtils.getConfig().addRequestWrapperToIgnore(Caller.class);
    }

    @Bean
    SecurityFilterChain api(HttpSecurity http, DtsSecurityProperties security, Environment environment,
                            ObjectProvider<JwtDecoder> jwtDecoder, JsonMapper json) {
        Problems problems = new Problems(json);
        // Bearer tokens only, no cookie or session: a page on another site cannot make a browser send one (no CSRF).
        http.csrf(csrf -> csrf.disable())
                .sessionManagement(sessions -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(cache -> cache.disable())
                .logout(logout -> logout.disable())
                // The dashboard's scripts and styles are files of this server: no inline script, nothing from elsewhere.
                .headers(headers -> headers.contentSecurityPolicy(csp -> csp.policyDirectives(
                        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")))
                .exceptionHandling(errors -> errors.authenticationEntryPoint(problems).accessDeniedHandler(problems))
                .authorizeHttpRequests(rules -> rules
                        .requestMatchers(HttpMethod.GET, "/actuator/health/liveness", "/actuator/health/readiness", "/schedule/ping")
                        .permitAll()
                        // The dashboard's files hold no data: the page asks for a token and sends it on every API call.
                        .requestMatchers(HttpMethod.GET, "/", "/index.html", "/dashboard/**").permitAll()
                        // Details (what is down, and why) only for operators: management.endpoint.health.roles.
                        .requestMatchers(HttpMethod.GET, "/actuator/health", "/actuator/health/**").hasAnyRole(READER, SUBMITTER, OPERATOR)
                        .requestMatchers("/actuator/**", "/api/workers/**").hasRole(OPERATOR)
                        // The form alias too: a web page could post a form, but not with a bearer token.
                        .requestMatchers(HttpMethod.POST, "/api/tasks", "/api/tasks/*/cancel", "/api/tasks/*/retry-failed",
                                "/schedule/create").hasAnyRole(SUBMITTER, OPERATOR)
                        .requestMatchers(HttpMethod.GET, "/**").hasAnyRole(READER, SUBMITTER, OPERATOR)
                        .anyRequest().hasRole(OPERATOR));
        // The bearer token filter alone, not oauth2ResourceServer(): that would also serve its metadata document
        // (/.well-known/oauth-protected-resource) to anyone, and only the probes and ping are open.
        switch (security.mode()) {
            case TOKEN -> http.addFilter(bearerTokens(new OpaqueTokenAuthenticationProvider(keys(new KeysFile(security.keysFile()))),
                    problems));
            case JWT -> {
                JwtAuthenticationProvider jwt = new JwtAuthenticationProvider(jwtDecoder.getIfAvailable(() -> {
                    throw new IllegalStateException("dts.security.mode=jwt needs a key to verify tokens with: set "
                            + "spring.security.oauth2.resourceserver.jwt.public-key-location (a PEM public key), .issuer-uri "
                            + "(an OpenID Connect issuer) or .jwk-set-uri");
                }));
                jwt.setJwtAuthenticationConverter(jwtCaller(security.jwt().rolesClaim()));
                http.addFilter(bearerTokens(jwt, problems));
            }
            case OFF -> {
                requireLoopback(environment);
                log.warn("dts.security.mode=off: every request is the operator '{}', with no credential", LOCAL_OPERATOR);
                http.anonymous(anonymous -> anonymous.principal(LOCAL_OPERATOR).authorities(ROLE_PREFIX + OPERATOR));
            }
        }
        return http.build();
    }

    /** A path Spring Security's firewall refuses (an encoded slash or line break, say) is a 400 problem too. */
    @Bean
    WebSecurityCustomizer rejectedRequests(JsonMapper json) {
        Problems problems = new Problems(json);
        return web -> web.requestRejectedHandler(problems::rejected);
    }

    /** Gives controller methods the {@link Caller} of their request. */
    @Bean
    WebMvcConfigurer callerArguments() {
        return new CallerArguments();
    }

    private static BearerTokenAuthenticationFilter bearerTokens(AuthenticationProvider provider, AuthenticationEntryPoint problems) {
        BearerTokenAuthenticationFilter filter = new BearerTokenAuthenticationFilter(new ProviderManager(provider));
        filter.setAuthenticationFailureHandler(new AuthenticationEntryPointFailureHandler(problems));
        return filter;
    }

    /** A key of the keys file as Spring Security's principal: its name, and its role as {@code ROLE_<role>}. */
    private static OpaqueTokenIntrospector keys(KeysFile keysFile) {
        return token -> {
            KeysFile.Key key = keysFile.find(token).orElseThrow(() -> new BadOpaqueTokenException("unknown token"));
            return new DefaultOAuth2AuthenticatedPrincipal(key.name(), Map.of("sub", key.name(), "role", key.role()),
                    AuthorityUtils.createAuthorityList(ROLE_PREFIX + key.role()));
        };
    }

    /** A JWT's subject names the caller; its roles claim holds its roles. */
    private static Converter<Jwt, AbstractAuthenticationToken> jwtCaller(String rolesClaim) {
        JwtGrantedAuthoritiesConverter roles = new JwtGrantedAuthoritiesConverter();
        roles.setAuthoritiesClaimName(rolesClaim);
        roles.setAuthorityPrefix(ROLE_PREFIX);
        JwtAuthenticationConverter converter = new JwtAuthenticationConverter();
        converter.setJwtGrantedAuthoritiesConverter(roles);
        return jwt -> {
            if (!StringUtils.hasText(jwt.getSubject())) {
                throw new InvalidBearerTokenException("the JWT has no subject (sub), which names the owner of the tasks it submits");
            }
            return converter.convert(jwt);
        };
    }

    /** With no credential asked, anyone who reaches the API runs commands: allowed only when nothing but this machine can. */
    private static void requireLoopback(Environment environment) {
        List<String> listeners = environment.containsProperty("management.server.port")
                ? List.of("server.address", "management.server.address") : List.of("server.address");
        for (String listener : listeners) {
            String address = environment.getProperty(listener);
            if (!isLoopback(address)) {
                throw new IllegalStateException("dts.security.mode=off is allowed only when every listener is bound to a loopback "
                        + "address, but " + listener + " is " + (address == null ? "not set (every interface)" : address)
                        + ". Set --" + listener + "=127.0.0.1, or use dts.security.mode=token.");
            }
        }
    }

    private static boolean isLoopback(String address) {
        try {
            return address != null && InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static Caller caller(Authentication authentication) {
        Set<String> roles = AuthorityUtils.authorityListToSet(authentication.getAuthorities());
        return new Caller(authentication.getName(), roles.contains(ROLE_PREFIX + READER) || roles.contains(ROLE_PREFIX + OPERATOR));
    }

    private static final class CallerArguments implements WebMvcConfigurer, HandlerMethodArgumentResolver {

        @Override
        public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
            resolvers.add(this);
        }

        @Override
        public boolean supportsParameter(MethodParameter parameter) {
            return parameter.getParameterType() == Caller.class;
        }

        @Override
        public Caller resolveArgument(MethodParameter parameter, ModelAndViewContainer container, NativeWebRequest request,
                                      WebDataBinderFactory binders) {
            return caller(SecurityContextHolder.getContext().getAuthentication());
        }
    }

    /** The 401, 403 and 400 answers of Spring Security as problem+json, with the challenges of RFC 6750. */
    private static final class Problems implements AuthenticationEntryPoint, AccessDeniedHandler {

        private final JsonMapper json;

        Problems(JsonMapper json) {
            this.json = json;
        }

        @Override
        public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException e) throws IOException {
            // No token: a bare challenge. A token refused: why, in RFC 6750's words (invalid_token, invalid_request).
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, e instanceof OAuth2AuthenticationException refused
                    ? "Bearer error=\"" + refused.getError().getErrorCode() + "\"" : "Bearer");
            write(request, response, HttpStatus.UNAUTHORIZED, e instanceof InsufficientAuthenticationException
                    ? "This request needs a token: send 'Authorization: Bearer <token>' (see docs/security.md; ./scripts/stack.sh "
                    + "token add NAME ROLE makes one)."
                    : "The bearer token was not accepted (" + e.getMessage() + "). Send a token of the keys file, or a valid JWT.");
        }

        @Override
        public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException e) throws IOException {
            Authentication caller = SecurityContextHolder.getContext().getAuthentication();
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"insufficient_scope\"");
            write(request, response, HttpStatus.FORBIDDEN, "'" + caller.getName() + "' (" + rolesOf(caller) + ") may not "
                    + request.getMethod() + " " + request.getRequestURI() + ": readers may GET, submitters submit and manage their "
                    + "own tasks, operators do everything.");
        }

        void rejected(HttpServletRequest request, HttpServletResponse response, RequestRejectedException e) throws IOException {
            write(request, response, HttpStatus.BAD_REQUEST, "The request's path or headers hold characters the API never uses "
                    + "(an encoded slash, a line break, a semicolon...).");
        }

        private static String rolesOf(Authentication caller) {
            String roles = AuthorityUtils.authorityListToSet(caller.getAuthorities()).stream().filter(a -> a.startsWith(ROLE_PREFIX))
                    .map(a -> a.substring(ROLE_PREFIX.length())).sorted().collect(Collectors.joining(", "));
            return roles.isEmpty() ? "no role" : roles;
        }

        private void write(HttpServletRequest request, HttpServletResponse response, HttpStatus status, String detail) throws IOException {
            log.warn("{} {} {}: {}", status.value(), request.getMethod(), request.getRequestURI().replaceAll("\\p{Cntrl}", "?"), detail);
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
            response.setStatus(status.value());
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            json.writeValue(response.getOutputStream(), problem);
        }
    }
}
