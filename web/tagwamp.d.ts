// Type declarations of tagwamp.js, a WAMP v1 client for tagwamp.

/** Any JSON value: call arguments, results, events. */
export type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };

/** A tag value: text, or a number or bigint written as text. */
export type TagValue = string | number | bigint;

/** Tags of a topic: keys are names (ASCII letters, digits, `_`, `-`, `.`). */
export type Tags = Record<string, TagValue> | Map<string, TagValue>;

/** A topic: a string, or a base and tags that topic() turns into one. */
export type Topic = string | { base?: string; tags?: Tags };

/** The WAMP-CRA procedures. */
export const PROC_AUTHREQ: "http://api.wamp.ws/procedure#authreq";
export const PROC_AUTH: "http://api.wamp.ws/procedure#auth";

/** A CALLERROR from the server. */
export class CallError extends Error {
  constructor(uri: string, desc: string, details?: JSONValue);
  readonly name: "CallError";
  /** The error URI, like "http://api.wamp.ws/error#NoSuchRPCEndpoint". */
  uri: string;
  /** The error description, possibly empty. */
  desc: string;
  /** The error details; undefined when the server sent none. */
  details: JSONValue | undefined;
}

/** A call that got no answer within its timeout. */
export class TimeoutError extends Error {
  constructor(uri: string, timeout: number);
  readonly name: "TimeoutError";
  uri: string;
  /** The timeout, in milliseconds. */
  timeout: number;
}

/** The connection was lost before a call was answered, or the session is closed for good. */
export class ConnectionError extends Error {
  constructor(message: string, code?: number, reason?: string);
  readonly name: "ConnectionError";
  /** The WebSocket close code, when there was one. */
  code: number | undefined;
  reason: string | undefined;
}

/** The canonical tag topic `base?k1=v1&k2=v2`: keys sorted, values percent-encoded. */
export function topic(base: string, tags?: Tags | null): string;
/** A topic's base and decoded tags, as the server reads them; throws a TypeError if malformed. */
export function parseTopic(topic: string): { base: string; tags: Record<string, string> };
/** Percent-encodes a tag value (encodeURIComponent; a TypeError for lone surrogates). */
export function encodeTag(value: string): string;

/** The WAMP-CRA salt parameters of a challenge's authextra. */
export interface AuthExtra {
  salt?: string;
  iterations?: number;
  keylen?: number;
}
/** The WAMP-CRA key: the secret without salt, else base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)). */
export function deriveKey(secret: string, authextra?: AuthExtra | null): Promise<string>;
/** base64(HMAC-SHA256(key, challenge)). */
export function signChallenge(key: string, challenge: string): Promise<string>;

/** Reconnecting: delay = min(maxDelay, initialDelay * factor^attempt) * (1 - jitter * random). */
export interface ReconnectOptions {
  /** ms before the first retry; default 500. */
  initialDelay?: number;
  /** ms at most between retries; default 30000. */
  maxDelay?: number;
  /** default 2. */
  factor?: number;
  /** 0 to 1: the part of each delay that is random; default 0.5. */
  jitter?: number;
  /** retries in a row before giving up; default Infinity. */
  maxRetries?: number;
}
/** The wait in ms before retry number attempt (0 first). */
export function backoffDelay(attempt: number, options?: ReconnectOptions, random?: () => number): number;

/** A WebSocket constructor: the browser's, Node's global one, or the ws package's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => any;

export interface ConnectionOptions {
  /** Reconnect with backoff after the connection drops: true (default), false, or options. */
  reconnect?: boolean | ReconnectOptions;
  /** The WebSocket constructor; default globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
}

export interface ConnectOptions extends ConnectionOptions {
  /** A connection token (JWT), sent as ?token=. */
  token?: string;
  /** Authenticate with WAMP-CRA as this application key after each WELCOME. */
  authKey?: string;
  /** The key's secret; the signature is computed with WebCrypto. */
  authSecret?: string;
  /** Signs the challenge instead of authSecret (e.g. on a backend). */
  authSign?: (challenge: string, info: { authextra?: AuthExtra; [key: string]: unknown }) => string | Promise<string>;
  /** authreq's extra; default {}. */
  authExtra?: Record<string, JSONValue>;
  /** Put ?key=authKey in the URL (a public key); default true. */
  authKeyInURL?: boolean;
  /** Subprotocols offered; default ["wamp"]. */
  protocols?: string[];
  /** Default timeout of each call in ms; default 30000; 0: none. */
  callTimeout?: number;
}

export type State = "connecting" | "open" | "closed";

export interface ConnectingDetail {
  /** Retries since the last open (0 for the first try). */
  attempt: number;
  url: string;
}
export interface OpenDetail {
  /** The WELCOME's session id (WAMP sessions only). */
  sessionId?: string;
  serverIdent?: string;
  /** Whether the session had been open before. */
  reconnected: boolean;
}
export interface ClosedDetail {
  code: number;
  reason: string;
  wasClean: boolean;
  /** Whether a reconnect is scheduled; false: closed for good. */
  willReconnect: boolean;
  /** ms until the reconnect, when willReconnect. */
  delay?: number;
  /** What ended the session, such as a failed WAMP-CRA (a CallError). */
  error?: unknown;
}
export type StateDetail = ConnectingDetail | OpenDetail | ClosedDetail;

declare class Connection {
  /** The URL as given (without the token, key or tags added to the socket's). */
  readonly url: string;
  readonly state: State;
  /** Resolves at the first open; rejects when the session ends for good before it. */
  readonly ready: Promise<this>;
  /** Called at each state change. */
  onstatechange: ((state: State, detail: StateDetail) => void) | null;
  on(event: "connecting", fn: (detail: ConnectingDetail) => void): () => void;
  on(event: "open", fn: (detail: OpenDetail) => void): () => void;
  on(event: "closed", fn: (detail: ClosedDetail) => void): () => void;
  on(event: "statechange", fn: (state: State, detail: StateDetail) => void): () => void;
  /** What listeners and handlers throw, and messages that are ignored. */
  on(event: "error", fn: (error: unknown) => void): () => void;
  /** Closes for good (no reconnect); resolves once closed. */
  close(code?: number, reason?: string): Promise<void>;
}

export interface CallOptions {
  /** ms; replaces the session's callTimeout; 0: none. */
  timeout?: number;
  /** Rejects the call with signal.reason when it aborts. */
  signal?: AbortSignal;
}

export interface PublishOptions {
  /** true: not to the publisher; false: to it too. */
  excludeMe?: boolean;
  /** Session ids not to reach. */
  exclude?: string[];
  /** Only these session ids (an empty list reaches nobody). */
  eligible?: string[];
}

export type EventHandler = (event: JSONValue, topic: string) => void;

/** A WAMP v1 session that reconnects by itself. */
export class Session extends Connection {
  constructor(url: string, options?: ConnectOptions);
  /** The current WELCOME's session id; null while not connected. */
  readonly sessionId: string | null;
  readonly serverIdent: string | null;
  /** The permissions WAMP-CRA granted, once authenticated. */
  readonly authPermissions: JSONValue | null;
  on(event: "connecting", fn: (detail: ConnectingDetail) => void): () => void;
  on(event: "open", fn: (detail: OpenDetail) => void): () => void;
  on(event: "closed", fn: (detail: ClosedDetail) => void): () => void;
  on(event: "statechange", fn: (state: State, detail: StateDetail) => void): () => void;
  on(event: "error", fn: (error: unknown) => void): () => void;
  /** Calls uri with args (each one WAMP argument). */
  call<T = any>(uri: string, ...args: JSONValue[]): Promise<T>;
  /** call with a timeout or an AbortSignal. */
  callWith<T = any>(options: CallOptions, uri: string, ...args: JSONValue[]): Promise<T>;
  /** Calls handler for each EVENT on topic; returns the function that unsubscribes. */
  subscribe(topic: Topic, handler: EventHandler): () => void;
  publish(topic: Topic, event: JSONValue | undefined, options?: PublishOptions): void;
  /** Defines a CURIE prefix, sent again after each reconnect. */
  prefix(name: string, uri: string): void;
}

/** Opens a WAMP v1 session. */
export function connect(url: string, options?: ConnectOptions): Session;

/** A plain request. */
export interface PlainRequest {
  message: JSONValue;
  tags?: Record<string, string | number | bigint>;
  metadata?: { key?: string; secret?: string };
}

/** A plain tag connection: no subprotocol, one subscription, bare JSON events. */
export class PlainConnection extends Connection {
  constructor(url: string, tags?: Record<string, string | number | bigint> | null, options?: ConnectionOptions);
  /** Called with each event, parsed. */
  onmessage: ((message: JSONValue) => void) | null;
  on(event: "connecting", fn: (detail: ConnectingDetail) => void): () => void;
  on(event: "open", fn: (detail: OpenDetail) => void): () => void;
  on(event: "closed", fn: (detail: ClosedDetail) => void): () => void;
  on(event: "statechange", fn: (state: State, detail: StateDetail) => void): () => void;
  on(event: "error", fn: (error: unknown) => void): () => void;
  on(event: "message", fn: (message: JSONValue) => void): () => void;
  /** Publishes a plain request (sent when open). */
  send(request: PlainRequest): void;
}

/** Opens a plain tag connection subscribed to tags (none: the empty tag set). */
export function connectPlain(url: string, tags?: Record<string, string | number | bigint> | null, options?: ConnectionOptions): PlainConnection;
