package io.driftwatch;

import io.driftwatch.cli.ProfilesCli;
import io.driftwatch.config.AgentConfig;
import io.driftwatch.config.ConfigException;
import io.driftwatch.log.Log;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Entry point: {@code run} starts the agent; the other commands are clients of a running agent. */
public final class Driftwatch {
    private Driftwatch() {}

    public static void main(String[] args) {
        String cmd = args.length == 0 ? "run" : args[0];
        List<String> rest = args.length == 0 ? List.of() : Arrays.asList(args).subList(1, args.length);
        int rc;
        switch (cmd) {
            case "run": rc = run(rest); break;
            case "version": System.out.println("driftwatch " + Agent.VERSION); rc = 0; break;
            case "profiles": rc = ProfilesCli.run(rest, System.out, System.err, System.getenv()); break;
            default:
                System.err.println("driftwatch: unknown command '" + cmd + "' (commands: run, version, profiles)");
                rc = 2;
        }
        System.exit(rc);
    }

    static AgentConfig parseConfig(List<String> args) {
        AgentConfig.Builder b = AgentConfig.builder();
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--config")) {
                if (i + 1 >= args.size()) throw new ConfigException("flag --config needs a file name");
                b.file(Path.of(args.get(++i)));
            } else if (a.startsWith("--config=")) {
                b.file(Path.of(a.substring("--config=".length())));
            } else {
                flags.add(a);
            }
        }
        return b.args(flags).build(); // flags after the file: they override it
    }

    static int run(List<String> args) {
        AgentConfig config;
        try {
            config = parseConfig(args);
        } catch (ConfigException e) {
            System.err.println("driftwatch: config error: " + e.getMessage());
            return 2;
        }
        Log.configure(config.get(AgentConfig.LOG_FORMAT), config.get(AgentConfig.LOG_LEVEL), null);
        Agent agent = new Agent(config);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            done.countDown();
        }, "dw-shutdown"));
        try {
            agent.start();
        } catch (ConfigException e) {
            System.err.println("driftwatch: config error: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            Log.error("start-up failed", "error", e.toString());
            return 1;
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
