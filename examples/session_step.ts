// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Demo step 4: a TCP connection accepted by this process is handed, as a
 * live socket with its first bytes, to another Deno process (`ipc session
 * receive`), which answers the client: BIND 10 socket sessions over a
 * Unix socket.
 *
 * @module
 */
import {
  forwardTcpConnections,
  SocketSessionForwarder,
} from "../session/mod.ts";

async function firstLine(
  reader: ReadableStreamDefaultReader<string>,
  match: RegExp,
): Promise<string> {
  let text = "";
  while (true) {
    const line = text.split("\n").find((l) => match.test(l));
    if (line !== undefined) return line;
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`Cannot start the receiver: it exited\n${text}`);
    }
    text += value;
  }
}

/** Runs the step; returns a reason when it has to be skipped. */
export async function sessionStep(): Promise<string | void> {
  console.log("== session: one TCP connection, two Deno processes ==");
  if (Deno.build.os !== "linux") {
    return `needs Linux (this is ${Deno.build.os})`;
  }
  for (const name of ["ffi", "run"] as const) {
    if ((await Deno.permissions.query({ name })).state !== "granted") {
      return `needs --allow-${name}`;
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "ipc-demo-" });
  const path = `${dir}/sessions.sock`;
  const cli = new URL("../cli/main.ts", import.meta.url).pathname;
  const receiver = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      cli,
      "session",
      "receive",
      path,
      "--count",
      "1",
      "--reply",
      "HTTP/1.0 200 OK\r\n\r\nserved by the receiver process\n",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const errs = receiver.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    await firstLine(errs, /receiving on/);
    console.log(`  receiver process pid ${receiver.pid} listening on ${path}`);
    await using forwarder = new SocketSessionForwarder(path);
    forwarder.connect();
    await using acceptor = forwardTcpConnections({ forwarder });
    console.log(
      `  this process (pid ${Deno.pid}) accepts TCP on 127.0.0.1:${acceptor.addr.port}`,
    );
    const client = await Deno.connect({
      hostname: "127.0.0.1",
      port: acceptor.addr.port,
    });
    await client.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    const reply = await new Response(client.readable).text();
    const body = reply.split("\r\n\r\n")[1]?.trim();
    console.log(`  client got: ${JSON.stringify(body)}`);
    const out = await new Response(receiver.stdout).text();
    console.log(`  receiver printed: ${out.trim()}`);
    await errs.cancel();
    const status = await receiver.status;
    if (!status.success || body !== "served by the receiver process") {
      throw new Error(
        `Cannot run the session step: receiver exited with ${status.code}`,
      );
    }
  } finally {
    try {
      receiver.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await receiver.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
