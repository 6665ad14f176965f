package io.dts.scheduler.config;

import io.dts.model.InputLimits;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.cfg.ContextAttributes;

/** How strictly the scheduler reads what clients send: a request means exactly what it says, or it is a 400. */
@Configuration(proxyBeanMethods = false)
public class RequestReadingConfig {

    /**
     * No unknown field, no key given twice, no {@code "60"} for 60 and no 1.5 for an integer; an
     * inputList is checked against the limits item by item as it is read.
     */
    @Bean
    JsonMapperBuilderCustomizer strictJson(SchedulerProperties properties) {
        return builder -> builder
                .defaultAttributes(ContextAttributes.getEmpty().withSharedAttribute(InputLimits.ATTRIBUTE, properties.inputLimits()))
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS);
    }

    /**
     * An encoded slash in a path ({@code /api/tasks/..%2F..}) reaches the API, which answers that no
     * such task exists as problem+json, instead of Tomcat refusing it with an HTML page. Task ids are
     * checked before use, so it can name nothing.
     */
    @Bean
    TomcatConnectorCustomizer encodedSlashesReachTheApi() {
        return connector -> connector.setEncodedSolidusHandling("passthrough");
    }
}
