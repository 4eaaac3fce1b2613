// A TypeScript user's inline Automation API program: `node index.js up|preview|destroy APP_ID`, a JSON line out.
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as clevercloudtcp from "pulumi-clevercloud-tcp";

const [command, appId] = process.argv.slice(2);

async function program(): Promise<Record<string, pulumi.Output<number>>> {
    const ports: Record<string, pulumi.Output<number>> = {};
    for (const namespace of ["cleverapps", "default"]) {
        ports[`${namespace}Port`] = new clevercloudtcp.TcpRedirection(namespace, { appId, namespace }).port;
    }
    return ports;
}

async function main(): Promise<unknown> {
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: "dev", projectName: "outside-typescript", program });
    if (command === "up") {
        const result = await stack.up();
        return Object.fromEntries(Object.entries(result.outputs).map(([name, output]) => [name, output.value]));
    }
    if (command === "preview") {
        return (await stack.preview()).changeSummary;
    }
    await stack.destroy();
    return {};
}

main().then(
    (report) => console.log(JSON.stringify(report)),
    (err: Error) => {
        console.error(err.message);
        process.exit(1);
    },
);
