// Runs index.ts as an Automation API inline program, so no Node.js language host is needed:
//
//   node bin/automation.js up|preview|refresh|destroy --app-id app_… [--namespace NS] [--stack dev]
//        [--endpoint URL] [--backend URL]
//
// Options fall back to the environment: CLEVERCLOUD_APP_ID, CLEVERCLOUD_NAMESPACE, API_HOST (the API
// endpoint), PULUMI_BACKEND_URL. Credentials are never options: the provider plugin reads them from
// CLEVER_TOKEN/CLEVER_SECRET (or CLEVER_API_TOKEN) or the `clever login` profile. The last stdout line
// is a JSON report: the change summary and, after up or refresh, the stack outputs.
import { parseArgs } from "node:util";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import program = require("./index");

const COMMANDS = ["up", "preview", "refresh", "destroy"] as const;
type Command = (typeof COMMANDS)[number];
type Report = { changes: Record<string, number>; outputs?: Record<string, unknown> };

function fail(message: string): never {
    console.error(`automation: ${message}`);
    process.exit(2);
}

// The engine's whole output is already on stderr: the last line names the cause, the first error the
// engine reported that is not the program's in-flight calls being cut off.
function cause(message: string): string {
    const errors = message
        .split("\n")
        .map((line) => line.trim().replace(/^stderr: /, ""))
        .filter((line) => line.startsWith("error: "));
    const first = errors.find((line) => !line.startsWith("error: Unhandled exception")) ?? errors[0];
    return first?.slice("error: ".length) ?? message.split("\n")[0];
}

async function run(stack: Stack, command: Command): Promise<Report> {
    const options = { color: "never" as const, onOutput: (line: string) => process.stderr.write(line) };
    switch (command) {
        case "preview":
            return { changes: (await stack.preview(options)).changeSummary };
        case "destroy":
            return { changes: (await stack.destroy(options)).summary.resourceChanges ?? {} };
        case "up":
        case "refresh": {
            const result = command === "up" ? await stack.up(options) : await stack.refresh(options);
            const outputs = Object.fromEntries(Object.entries(await stack.outputs()).map(([k, o]) => [k, o.value]));
            return { changes: result.summary.resourceChanges ?? {}, outputs };
        }
    }
}

async function main(): Promise<void> {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: {
            "app-id": { type: "string", default: process.env.CLEVERCLOUD_APP_ID },
            namespace: { type: "string", default: process.env.CLEVERCLOUD_NAMESPACE },
            stack: { type: "string", default: "dev" },
            endpoint: { type: "string", default: process.env.API_HOST },
            backend: { type: "string", default: process.env.PULUMI_BACKEND_URL },
        },
    });
    const command = positionals[0] as Command;
    if (positionals.length !== 1 || !COMMANDS.includes(command)) {
        fail(`expected one command among ${COMMANDS.join(", ")}, got ${JSON.stringify(positionals)}`);
    }
    if (!values["app-id"]) {
        fail("--app-id (or CLEVERCLOUD_APP_ID) is required: the application's id, app_<uuid>");
    }

    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: values.stack!, projectName: "clevercloud-tcp-typescript", program },
        { envVars: values.backend ? { PULUMI_BACKEND_URL: values.backend } : {} },
    );
    await stack.setConfig("appId", { value: values["app-id"] });
    if (values.namespace) {
        await stack.setConfig("namespace", { value: values.namespace });
    } else {
        await stack.removeConfig("namespace");
    }
    if (values.endpoint) {
        await stack.setConfig("clevercloud-tcp:endpoint", { value: values.endpoint });
    }
    console.log(JSON.stringify(await run(stack, command)));
}

main().catch((err: unknown) => fail(cause(err instanceof Error ? err.message : String(err))));
