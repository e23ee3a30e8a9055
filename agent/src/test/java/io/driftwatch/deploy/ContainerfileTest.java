package io.driftwatch.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.json.Json;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * deploy/Containerfile cannot be built on the test machine (no container engine), so this
 * checks what would break the image: the stages, the packages, the jar the ENTRYPOINT runs
 * (the shade plugin's finalName) and the port the DaemonSet probes.
 */
final class ContainerfileTest {
    record Instruction(String op, String args) {}

    static final List<List<Instruction>> stages = new ArrayList<>();

    @BeforeAll
    static void parse() {
        // join continuation lines, drop comments and blank lines
        String text = Repo.read("deploy/Containerfile").replaceAll("\\\\\\n", " ");
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            int sp = l.indexOf(' ');
            Instruction in = new Instruction(l.substring(0, sp).toUpperCase(java.util.Locale.ROOT), l.substring(sp + 1).strip());
            if (in.op().equals("FROM")) stages.add(new ArrayList<>());
            assertThat(stages).as("instruction before the first FROM: " + l).isNotEmpty();
            stages.get(stages.size() - 1).add(in);
        }
    }

    @Test
    void twoStages_aBookwormBuildAndASlimRuntime() {
        assertThat(stages).hasSize(2);
        assertThat(stages.get(0).get(0).args()).matches("(docker\\.io/library/)?debian:bookworm AS build");
        assertThat(stages.get(1).get(0).args()).matches("(docker\\.io/library/)?debian:bookworm-slim");
    }

    @Test
    void buildStage_installsTheLaunchersBuildPackages_andBuildsNativeThenTheJar() {
        String install = joined(stages.get(0), "RUN");
        String launcher = Repo.read("driftwatch");
        Matcher m = Pattern.compile("(?m)^PKGS_BUILD=\"([^\"]+)\"").matcher(launcher);
        assertThat(m.find()).as("PKGS_BUILD in ./driftwatch").isTrue();
        List<String> pkgs = Arrays.asList(m.group(1).trim().split("\\s+"));
        assertThat(pkgs).contains("openjdk-17-jdk-headless", "maven", "clang", "llvm", "libbpf-dev", "bpftool", "make", "gcc");
        assertThat(words(install)).containsAll(pkgs);
        List<String> runs = args(stages.get(0), "RUN");
        int make = indexOf(runs, "make -C native");
        int mvn = indexOf(runs, "mvn -B -DskipTests package");
        assertThat(make).as("make -C native runs").isGreaterThanOrEqualTo(0);
        assertThat(mvn).as("mvn package runs after native/ is built (the jar embeds libdriftwatch.so)").isGreaterThan(make);
    }

    @Test
    void runtimeStage_hasOnlyTheJreAndTheLibrariesOfLibdriftwatch() {
        List<String> installed = words(joined(stages.get(1), "RUN"));
        assertThat(installed).contains("openjdk-17-jre-headless", "libbpf1", "libelf1");
        assertThat(installed).doesNotContain("openjdk-17-jdk-headless", "maven", "clang", "llvm", "libbpf-dev", "gcc", "make");
    }

    @Test
    void entrypoint_runsTheJarTheBuildProduces() throws Exception {
        List<Instruction> runtime = stages.get(1);
        Object ep = Json.parse(args(runtime, "ENTRYPOINT").get(0));
        assertThat(ep).as("ENTRYPOINT in exec (JSON) form, so java gets SIGTERM").isInstanceOf(List.class);
        List<?> argv = (List<?>) ep;
        assertThat(argv.get(0)).isEqualTo("java");
        int jarIdx = argv.indexOf("-jar");
        assertThat(jarIdx).isPositive();
        String jar = String.valueOf(argv.get(jarIdx + 1));
        assertThat(argv.get(argv.size() - 1)).isEqualTo("run");
        // COPY --from=build <workdir>/agent/target/<finalName>.jar <jar>
        List<String> copies = args(runtime, "COPY");
        assertThat(copies).hasSize(1);
        String[] c = copies.get(0).split("\\s+");
        assertThat(c).hasSize(3);
        assertThat(c[0]).isEqualTo("--from=build");
        assertThat(c[2]).isEqualTo(jar);
        String workdir = args(stages.get(0), "WORKDIR").get(0);
        assertThat(c[1]).isEqualTo(workdir + "/agent/target/" + shadeFinalName() + ".jar");
    }

    @Test
    void exposedPort_isTheDaemonSetsContainerPort() {
        List<String> expose = args(stages.get(1), "EXPOSE");
        assertThat(expose).hasSize(1);
        Map<String, Object> ds = Repo.yamlDocuments(Repo.path("deploy/kubernetes/daemonset.yaml")).get(0);
        Map<String, Object> container = Repo.maps(ds, "spec", "template", "spec", "containers").get(0);
        Object port = Repo.maps(container, "ports").get(0).get("containerPort");
        assertThat(expose.get(0)).isIn(port + "", port + "/tcp");
    }

    @Test
    void buildContext_excludesHostBuildOutputs() {
        List<String> ignored = Repo.read(".dockerignore").lines().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertThat(ignored).as("a host-built libdriftwatch.so or jar must not reach the image")
                .contains("native/.output/", "**/target/");
    }

    // ---- helpers ----------------------------------------------------------------------------

    static String shadeFinalName() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document pom = f.newDocumentBuilder().parse(new InputSource(new StringReader(Repo.read("agent/pom.xml"))));
        NodeList plugins = pom.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            org.w3c.dom.Element p = (org.w3c.dom.Element) plugins.item(i);
            if (!"maven-shade-plugin".equals(p.getElementsByTagName("artifactId").item(0).getTextContent().trim())) continue;
            NodeList names = p.getElementsByTagName("finalName");
            assertThat(names.getLength()).as("shade finalName in agent/pom.xml").isEqualTo(1);
            return names.item(0).getTextContent().trim();
        }
        throw new AssertionError("no maven-shade-plugin in agent/pom.xml");
    }

    static List<String> args(List<Instruction> stage, String op) {
        return stage.stream().filter(i -> i.op().equals(op)).map(Instruction::args).toList();
    }

    static String joined(List<Instruction> stage, String op) {
        return String.join(" ", args(stage, op));
    }

    static List<String> words(String s) {
        return Arrays.asList(s.split("[\\s&|;]+"));
    }

    static int indexOf(List<String> runs, String command) {
        for (int i = 0; i < runs.size(); i++) if (runs.get(i).contains(command)) return i;
        return -1;
    }
}
