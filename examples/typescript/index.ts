// TCP redirections of one Clever Cloud application: a port on the *.cleverapps.io proxies and one on a
// namespace from config (its custom domains' proxies by default), a connection string built from `url`,
// and what the look-up functions see. `pulumi up` runs it as is; automation.ts runs it inline.
import * as pulumi from "@pulumi/pulumi";
import * as clevercloudtcp from "pulumi-clevercloud-tcp";

async function program(): Promise<Record<string, pulumi.Output<unknown>>> {
    const config = new pulumi.Config();
    const appId = config.require("appId");

    const cleverapps = new clevercloudtcp.TcpRedirection("cleverapps", { appId, namespace: "cleverapps" });
    const primary = new clevercloudtcp.TcpRedirection("primary", {
        appId,
        namespace: config.get("namespace") ?? "default",
    });

    // The namespaces this app's owner may use, for picking `namespace`.
    const namespaces = clevercloudtcp.getNamespacesOutput({ appId }).namespaces;
    // Read once both redirections exist, so it lists them as the API holds them.
    const listed = clevercloudtcp.getTcpRedirectionsOutput({
        appId: pulumi.all([cleverapps.appId, primary.appId]).apply(([id]) => id),
    }).redirections;

    return {
        cleverappsPort: cleverapps.port,
        cleverappsUrl: cleverapps.url,
        primaryNamespace: primary.namespace,
        primaryPort: primary.port,
        primaryUrl: primary.url,
        // `url` is empty when the app has no domain on that namespace: then there is no string to give.
        mqttUri: primary.url.apply((url) => (url ? url.replace(/^tcp:/, "mqtt:") : undefined)),
        namespaces,
        redirections: listed,
    };
}

export = program;
