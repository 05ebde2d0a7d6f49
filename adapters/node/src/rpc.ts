// gRPC over the agent's Unix socket: the contract neira.agent.v1.PythonAgent
// loaded at run time from the repository's proto/agent.proto, unary calls by
// method path (so M1 can try the other casing of a path), replies kept as
// bytes (string fields are the agent's exact bytes, O3).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PKG_PATH = '/neira.agent.v1.PythonAgent/';
export type ProtoMethod = 'HealthCheck' | 'ProcessPrompt' | 'CallCustomFunction';

/** proto/agent.proto of the repository: adapters/node/dist/ → ../../../proto (NEIRA_PROTO_DIR overrides). */
export function protoFile(): string {
  const dir = process.env.NEIRA_PROTO_DIR ?? path.resolve(__dirname, '..', '..', '..', 'proto');
  return path.join(dir, 'agent.proto');
}

type Serialize = (value: object) => Buffer;

export interface AgentProto {
  /** request serializers by PascalCase method name (proto-loader's, from the .proto) */
  serialize: Record<ProtoMethod, Serialize>;
  /** the path proto-loader derives for each method ("/neira.agent.v1.PythonAgent/HealthCheck") */
  path: Record<ProtoMethod, string>;
}

let cached: AgentProto | null = null;

export function loadProto(): AgentProto {
  if (cached) return cached;
  const file = protoFile();
  if (!fs.existsSync(file)) throw new Error(`proto ${file}: not found (set NEIRA_PROTO_DIR)`);
  const def = protoLoader.loadSync(file, { keepCase: true, longs: String, enums: String, defaults: true });
  const svc = def['neira.agent.v1.PythonAgent'] as unknown as Record<
    ProtoMethod,
    { path: string; requestSerialize: Serialize }
  >;
  const names: ProtoMethod[] = ['HealthCheck', 'ProcessPrompt', 'CallCustomFunction'];
  const serialize = {} as Record<ProtoMethod, Serialize>;
  const p = {} as Record<ProtoMethod, string>;
  for (const n of names) {
    serialize[n] = svc[n].requestSerialize;
    p[n] = svc[n].path;
  }
  cached = { serialize, path: p };
  return cached;
}

/** The other casing of a method path's last segment (HealthCheck ↔ healthCheck), M1. */
export function otherCasing(methodPath: string): string {
  const i = methodPath.lastIndexOf('/') + 1;
  const c = methodPath.charAt(i);
  const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
  return methodPath.slice(0, i) + flipped + methodPath.slice(i + 1);
}

/** A channel to unix:<socket>. grpc-js' 4 MiB receive limit stays (C4: larger replies are RESOURCE_EXHAUSTED). */
export function newClient(socket: string): grpc.Client {
  const opts: grpc.ChannelOptions = {
    'grpc.initial_reconnect_backoff_ms': 20,
    'grpc.max_reconnect_backoff_ms': 100,
    'grpc.enable_retries': 0,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  };
  return new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure(), opts);
}

export interface UnaryResult {
  code: grpc.status;
  details: string;
  data: Buffer | null;
}

export interface PendingCall {
  promise: Promise<UnaryResult>;
  cancel(): void;
}

/** One unary call to `methodPath` with `request` (already serialized by the caller's serializer). */
export function unary(client: grpc.Client, methodPath: string, request: Buffer, deadlineMs: number): PendingCall {
  let call: grpc.ClientUnaryCall | null = null;
  const promise = new Promise<UnaryResult>((resolve) => {
    call = client.makeUnaryRequest<Buffer, Buffer>(
      methodPath,
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + Math.max(1, deadlineMs) },
      (err: grpc.ServiceError | null, value?: Buffer) => {
        if (err) resolve({ code: err.code, details: err.details ?? err.message, data: null });
        else resolve({ code: grpc.status.OK, details: '', data: value ?? Buffer.alloc(0) });
      },
    );
  });
  return {
    promise,
    cancel: () => {
      if (call) (call as grpc.ClientUnaryCall).cancel();
    },
  };
}

/** gRPC status name (UNAVAILABLE) of a code. */
export function statusName(code: grpc.status): string {
  return grpc.status[code] ?? `STATUS_${code}`;
}

export { grpc };
