// Types for `@whatwg-node/fetch` (reached through the Hive gateway runtime's typings), mapped
// here by tsconfig `paths`: the package's own typings add `lib: dom` to the whole program, which
// changes Node's fetch and Buffer types in every other file. At run time the package exports
// Node's own globals, which is what these declarations say.
export declare const fetch: typeof globalThis.fetch;
export declare const Request: typeof globalThis.Request;
export declare const Response: typeof globalThis.Response & { json(data: unknown, init?: ResponseInit): globalThis.Response };
export declare const Headers: typeof globalThis.Headers;
export declare const FormData: typeof globalThis.FormData;
export declare const ReadableStream: typeof globalThis.ReadableStream;
export declare const WritableStream: typeof globalThis.WritableStream;
export declare const TransformStream: typeof globalThis.TransformStream;
export declare const CompressionStream: typeof globalThis.CompressionStream;
export declare const DecompressionStream: typeof globalThis.DecompressionStream;
export declare const TextDecoderStream: typeof globalThis.TextDecoderStream;
export declare const TextEncoderStream: typeof globalThis.TextEncoderStream;
export declare const Blob: typeof globalThis.Blob;
export declare const File: typeof globalThis.File;
export declare const crypto: typeof globalThis.crypto;
export declare const btoa: typeof globalThis.btoa;
export declare const TextDecoder: typeof globalThis.TextDecoder;
export declare const TextEncoder: typeof globalThis.TextEncoder;
export declare const URL: typeof globalThis.URL;
export declare const URLSearchParams: typeof globalThis.URLSearchParams;
export declare const URLPattern: unknown;
export declare const createFetch: (opts?: unknown) => Record<string, unknown>;
