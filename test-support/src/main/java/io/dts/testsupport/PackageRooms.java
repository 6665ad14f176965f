package io.dts.testsupport;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import java.util.Map;
import java.util.stream.Collectors;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * Rules a service's packages keep so a newcomer finds their way, read from its compiled main classes: no loop
 * between packages (each depends only on packages below it), and no package so large it stops saying what it holds.
 */
public final class PackageRooms {

    private final String rootPackage;
    private final JavaClasses classes;

    private PackageRooms(String rootPackage) {
        this.rootPackage = rootPackage;
        this.classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(rootPackage);
    }

    public static PackageRooms of(String rootPackage) {
        return new PackageRooms(rootPackage);
    }

    /** Fails naming each loop between the packages under the root, the root package itself one of them. */
    public PackageRooms haveNoLoop() {
        String parent = rootPackage.substring(0, rootPackage.lastIndexOf('.'));
        slices().matching(parent + ".(**)").should().beFreeOfCycles().check(classes);
        return this;
    }

    /** Fails naming every package under the root with more than {@code max} top-level classes. */
    public PackageRooms holdAtMost(int max) {
        Map<String, Long> classesPerPackage = classes.stream()
                .filter(JavaClass::isTopLevelClass)
                .collect(Collectors.groupingBy(JavaClass::getPackageName, Collectors.counting()));
        Map<String, Long> crowded = classesPerPackage.entrySet().stream().filter(e -> e.getValue() > max)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        if (classesPerPackage.size() < 2 || !crowded.isEmpty()) {
            throw new AssertionError("Packages under " + rootPackage + " holding more than " + max + " classes: "
                    + crowded + " (all: " + classesPerPackage + ")");
        }
        return this;
    }
}
